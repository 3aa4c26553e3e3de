// The watch hub's protocol on a stream double: creates one at a time matched
// to acks in order, cancel on unsubscribe, resume after a break from the last
// delivered revision + 1, duplicates dropped, stream closed with the last watcher.
import { expect } from 'chai';
import { EventEmitter } from 'node:events';
import { Metadata, status } from '@grpc/grpc-js';
import { VirtualTimeScheduler } from 'rxjs';
import type { WatchRequest } from '../proto/gen/etcdserverpb/rpc.js';
import { Event_EventType } from '../proto/gen/mvccpb/kv.js';
import { must } from '../test/harness/must.js';
import type { Connection } from './connection.js';
import { CompactedError } from './errors.js';
import { Namespace } from './keys.js';
import { WatchHub, type WatchBatch } from './watch.js';

class StreamDouble extends EventEmitter {
  readonly written: WatchRequest[] = [];
  cancelled = false;
  write(request: WatchRequest): boolean {
    this.written.push(request);
    return true;
  }
  cancel(): void {
    this.cancelled = true;
  }
  created(watchId: bigint, revision: bigint): void {
    this.emit('data', { header: { revision }, watchId, created: true, canceled: false, compactRevision: 0n, cancelReason: '', fragment: false, events: [] });
  }
  events(watchId: bigint, ...revisions: bigint[]): void {
    this.emit('data', {
      header: { revision: revisions[revisions.length - 1] }, watchId, created: false, canceled: false, compactRevision: 0n, cancelReason: '', fragment: false,
      events: revisions.map((revision) => ({ type: Event_EventType.PUT, kv: { key: Buffer.from(`k${revision}`), createRevision: revision, modRevision: revision, version: 1n, value: Buffer.alloc(0), lease: 0n }, prevKv: undefined })),
    });
  }
}

function harness() {
  const scheduler = new VirtualTimeScheduler();
  const streams: StreamDouble[] = [];
  const connection = {
    isClosed: false,
    current: () => ({ watch: { watch: () => { const stream = new StreamDouble(); streams.push(stream); return stream; } } }),
    metadata: () => new Metadata(),
    retryPolicy: () => ({ retries: 2, minDelayMs: 10, maxDelayMs: 100 }),
    failover: () => undefined,
  } as unknown as Connection;
  const flush = () => { scheduler.maxFrames = Number.POSITIVE_INFINITY; scheduler.flush(); };
  return { hub: new WatchHub(connection, new Namespace(), scheduler), streams, flush };
}

const revisionsOf = (batches: WatchBatch[]) => batches.map((batch) => batch.revision);

describe('client watch hub', () => {
  it('sends one create at a time, matches acks in order, and shares the stream', () => {
    const { hub, streams } = harness();
    const a: WatchBatch[] = [];
    const b: WatchBatch[] = [];
    const subA = hub.watch$<Buffer>('a', {}).subscribe((batch) => a.push(batch));
    const subB = hub.watch$<Buffer>('b', { startRevision: 5n }).subscribe((batch) => b.push(batch));
    expect(streams).to.have.length(1);
    const stream = must(streams[0], 'the watch stream');
    expect(stream.written.map((request) => request.createRequest?.key.toString())).to.deep.equal(['a']);
    stream.created(0n, 10n);
    expect(stream.written.map((request) => request.createRequest?.startRevision)).to.deep.equal([0n, 5n]);
    stream.created(1n, 10n);
    stream.events(1n, 6n, 6n, 7n);
    stream.events(0n, 11n);
    expect(revisionsOf(b)).to.deep.equal([6n, 7n]);
    expect(b[0]?.events).to.have.length(2);
    expect(revisionsOf(a)).to.deep.equal([11n]);
    subA.unsubscribe();
    expect(stream.written[2]?.cancelRequest?.watchId).to.equal(0n);
    expect(stream.cancelled).to.equal(false);
    subB.unsubscribe();
    expect(stream.cancelled).to.equal(true);
  });

  it('resumes on a new stream from the last delivered revision + 1 and drops duplicates', () => {
    const { hub, streams, flush } = harness();
    const seen: WatchBatch[] = [];
    hub.watch$<Buffer>('a', {}).subscribe((batch) => seen.push(batch));
    const stream = must(streams[0], 'the watch stream');
    stream.created(0n, 10n);
    stream.events(0n, 11n, 12n);
    stream.emit('error', Object.assign(new Error('gone'), { code: status.UNAVAILABLE, details: 'Connection dropped', metadata: new Metadata() }));
    flush();
    expect(streams).to.have.length(2);
    const resumed = must(streams[1], 'the resumed watch stream');
    expect(resumed.written[0]?.createRequest?.startRevision).to.equal(13n);
    resumed.created(0n, 14n);
    resumed.events(0n, 12n, 13n, 14n);
    expect(revisionsOf(seen)).to.deep.equal([11n, 12n, 13n, 14n]);
  });

  it('pins "now" at the create ack, so a resume before any event neither skips nor repeats', () => {
    const { hub, streams, flush } = harness();
    hub.watch$<Buffer>('a', {}).subscribe();
    const stream = must(streams[0], 'the watch stream');
    stream.created(0n, 20n);
    stream.emit('end');
    flush();
    const resumed = must(streams[1], 'the resumed watch stream');
    expect(resumed.written[0]?.createRequest?.startRevision).to.equal(21n);
  });

  it('surfaces compaction as CompactedError with the compact revision, and cancels a watch unsubscribed before its ack', () => {
    const { hub, streams } = harness();
    let failure: unknown;
    const early = hub.watch$<Buffer>('x', {}).subscribe();
    hub.watch$<Buffer>('a', { startRevision: 2n }).subscribe({ error: (error) => (failure = error) });
    early.unsubscribe();
    const stream = must(streams[0], 'the watch stream');
    stream.created(4n, 10n);
    expect(stream.written.at(-2)?.cancelRequest?.watchId).to.equal(4n);
    stream.emit('data', { header: { revision: 10n }, watchId: -1n, created: true, canceled: true, compactRevision: 8n, cancelReason: '', fragment: false, events: [] });
    expect(failure).to.be.instanceOf(CompactedError);
    expect((failure as CompactedError).compactRevision).to.equal(8n);
    expect(hub.size).to.equal(0);
    expect(stream.cancelled).to.equal(true);
  });
});
