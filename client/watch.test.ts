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
import { CompactedError, GrpcCode, PermissionDeniedError, WatchCanceledError } from './errors.js';
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
  /** A create refused as etcd refuses one: acked and cancelled at once, with watch ID -1 and `cancelReason`. */
  refused(revision: bigint, cancelReason: string): void {
    this.emit('data', { header: { revision }, watchId: -1n, created: true, canceled: true, compactRevision: 0n, cancelReason, fragment: false, events: [] });
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
  const refreshes: number[] = [];
  const connection = {
    refreshToken: () => {
      refreshes.push(streams.length);
      return Promise.resolve();
    },
    isClosed: false,
    current: () => ({ watch: { watch: () => { const stream = new StreamDouble(); streams.push(stream); return stream; } } }),
    metadata: () => new Metadata(),
    retryPolicy: () => ({ retries: 2, minDelayMs: 10, maxDelayMs: 100 }),
    failover: () => undefined,
  } as unknown as Connection;
  const flush = () => { scheduler.maxFrames = Number.POSITIVE_INFINITY; scheduler.flush(); };
  return { hub: new WatchHub(connection, new Namespace(), scheduler), streams, flush, refreshes };
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

  it('ends a watch refused by auth with PermissionDeniedError, without retrying, and keeps the stream for the others', () => {
    const { hub, streams, flush } = harness();
    const kept: WatchBatch[] = [];
    let failure: unknown;
    let completed = false;
    hub.watch$<Buffer>('app/', {}).subscribe((batch) => kept.push(batch));
    hub.watch$<Buffer>('other/', {}).subscribe({ error: (error) => (failure = error), complete: () => (completed = true) });
    const stream = must(streams[0], 'the watch stream');
    stream.created(0n, 10n);
    stream.refused(10n, 'rpc error: code = PermissionDenied desc = etcdserver: permission denied');
    expect(failure).to.be.instanceOf(PermissionDeniedError);
    expect((failure as PermissionDeniedError).message).to.equal('etcdserver: permission denied');
    expect((failure as PermissionDeniedError).code).to.equal(GrpcCode.PermissionDenied);
    const cause = (failure as PermissionDeniedError).cause;
    expect(cause).to.be.instanceOf(WatchCanceledError);
    expect((cause as WatchCanceledError).reason).to.equal('rpc error: code = PermissionDenied desc = etcdserver: permission denied');
    expect(completed).to.equal(false);
    flush();
    expect(streams).to.have.length(1);
    expect(stream.cancelled).to.equal(false);
    expect(stream.written.filter((request) => request.createRequest !== undefined)).to.have.length(2);
    expect(hub.size).to.equal(1);
    stream.events(0n, 11n);
    expect(revisionsOf(kept)).to.deep.equal([11n]);
  });

  it('keeps any other cancel reason as WatchCanceledError, also one in the gRPC form whose message the table does not know', () => {
    for (const reason of ['etcdserver: no such watch', 'rpc error: code = PermissionDenied desc = etcdserver: permission denied!', '']) {
      const { hub, streams } = harness();
      let failure: unknown;
      hub.watch$<Buffer>('a', {}).subscribe({ error: (error) => (failure = error) });
      must(streams[0], 'the watch stream').refused(10n, reason);
      expect(failure, reason).to.be.instanceOf(WatchCanceledError);
      expect((failure as WatchCanceledError).reason).to.equal(reason);
    }
  });

  it('re-opens the stream with a fresh token when a create is cancelled for an invalid auth token, resuming every watcher', async () => {
    const { hub, streams, flush, refreshes } = harness();
    const seen: WatchBatch[] = [];
    let failure: unknown;
    hub.watch$<Buffer>('a', {}).subscribe((batch) => seen.push(batch));
    hub.watch$<Buffer>('b', {}).subscribe({ error: (error) => (failure = error) });
    const stream = must(streams[0], 'the watch stream');
    stream.created(0n, 10n);
    stream.events(0n, 11n);
    stream.refused(11n, 'rpc error: code = Unauthenticated desc = etcdserver: invalid auth token');
    expect(stream.cancelled).to.equal(true);
    flush();
    expect(refreshes).to.deep.equal([1]);
    await Promise.resolve(); // the refresh resolves, then the stream re-opens
    expect(streams).to.have.length(2);
    const reopened = must(streams[1], 'the re-opened watch stream');
    expect(reopened.written[0]?.createRequest?.key.toString()).to.equal('a');
    expect(reopened.written[0]?.createRequest?.startRevision).to.equal(12n);
    reopened.created(0n, 11n);
    expect(reopened.written[1]?.createRequest?.key.toString()).to.equal('b');
    reopened.created(1n, 11n);
    expect(failure).to.equal(undefined);
    expect(hub.size).to.equal(2);
    reopened.events(0n, 12n);
    expect(revisionsOf(seen)).to.deep.equal([11n, 12n]);
  });
});
