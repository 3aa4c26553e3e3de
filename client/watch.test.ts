// The watch hub's protocol on a stream double: creates one at a time matched
// to acks in order, cancel on unsubscribe, resume after a break from the last
// delivered revision + 1, duplicates dropped, stream closed with the last watcher;
// fragments joined into one batch; progress requests and their answers.
import { expect } from 'chai';
import { EventEmitter } from 'node:events';
import { Metadata, status } from '@grpc/grpc-js';
import { VirtualTimeScheduler } from 'rxjs';
import type { WatchRequest } from '../proto/gen/etcdserverpb/rpc.js';
import { Event_EventType } from '../proto/gen/mvccpb/kv.js';
import { must } from '../test/harness/must.js';
import type { Connection } from './connection.js';
import { AbortedError, CompactedError, DeadlineExceededError, GrpcCode, NoActiveWatchError, PermissionDeniedError, WatchCanceledError } from './errors.js';
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
    this.fragment(watchId, false, ...revisions);
  }
  /** Events of a response that is a fragment (`more`: others follow) or the last one. */
  fragment(watchId: bigint, more: boolean, ...revisions: bigint[]): void {
    this.emit('data', {
      header: { revision: revisions[revisions.length - 1] }, watchId, created: false, canceled: false, compactRevision: 0n, cancelReason: '', fragment: more,
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
  return { hub: new WatchHub(connection, scheduler), streams, flush, refreshes };
}

const root = new Namespace();
const revisionsOf = (batches: WatchBatch[]) => batches.map((batch) => batch.revision);

describe('client watch hub', () => {
  it('sends one create at a time, matches acks in order, and shares the stream', () => {
    const { hub, streams } = harness();
    const a: WatchBatch[] = [];
    const b: WatchBatch[] = [];
    const subA = hub.watch$<Buffer>(root, 'a', {}).subscribe((batch) => a.push(batch));
    const subB = hub.watch$<Buffer>(root, 'b', { startRevision: 5n }).subscribe((batch) => b.push(batch));
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
    hub.watch$<Buffer>(root, 'a', {}).subscribe((batch) => seen.push(batch));
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
    hub.watch$<Buffer>(root, 'a', {}).subscribe();
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
    const early = hub.watch$<Buffer>(root, 'x', {}).subscribe();
    hub.watch$<Buffer>(root, 'a', { startRevision: 2n }).subscribe({ error: (error) => (failure = error) });
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
    hub.watch$<Buffer>(root, 'app/', {}).subscribe((batch) => kept.push(batch));
    hub.watch$<Buffer>(root, 'other/', {}).subscribe({ error: (error) => (failure = error), complete: () => (completed = true) });
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
      hub.watch$<Buffer>(root, 'a', {}).subscribe({ error: (error) => (failure = error) });
      must(streams[0], 'the watch stream').refused(10n, reason);
      expect(failure, reason).to.be.instanceOf(WatchCanceledError);
      expect((failure as WatchCanceledError).reason).to.equal(reason);
    }
  });

  it('re-opens the stream with a fresh token when a create is cancelled for an invalid auth token, resuming every watcher', async () => {
    const { hub, streams, flush, refreshes } = harness();
    const seen: WatchBatch[] = [];
    let failure: unknown;
    hub.watch$<Buffer>(root, 'a', {}).subscribe((batch) => seen.push(batch));
    hub.watch$<Buffer>(root, 'b', {}).subscribe({ error: (error) => (failure = error) });
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

  it('asks for fragments and joins them into one batch per revision before emitting', () => {
    const { hub, streams } = harness();
    const seen: WatchBatch[] = [];
    hub.watch$<Buffer>(root, 'a', {}).subscribe((batch) => seen.push(batch));
    hub.watch$<Buffer>(root, 'b', { fragment: false }).subscribe();
    const stream = must(streams[0], 'the watch stream');
    stream.created(0n, 10n);
    stream.created(1n, 10n);
    expect(stream.written.map((request) => request.createRequest?.fragment)).to.deep.equal([true, false]);
    stream.fragment(0n, true, 11n, 11n);
    stream.fragment(0n, true, 11n);
    expect(seen).to.have.length(0);
    stream.fragment(0n, false, 11n, 11n);
    expect(revisionsOf(seen)).to.deep.equal([11n]);
    expect(seen[0]?.events).to.have.length(5);
    stream.events(0n, 12n);
    expect(revisionsOf(seen)).to.deep.equal([11n, 12n]);
  });

  it('drops a half-received revision when the stream breaks, and gets it whole on the resumed one', () => {
    const { hub, streams, flush } = harness();
    const seen: WatchBatch[] = [];
    hub.watch$<Buffer>(root, 'a', {}).subscribe((batch) => seen.push(batch));
    const stream = must(streams[0], 'the watch stream');
    stream.created(0n, 10n);
    stream.fragment(0n, true, 11n);
    stream.emit('end');
    flush();
    const resumed = must(streams[1], 'the resumed watch stream');
    expect(resumed.written[0]?.createRequest?.startRevision).to.equal(11n);
    resumed.created(0n, 11n);
    resumed.fragment(0n, true, 11n);
    resumed.fragment(0n, false, 11n);
    expect(revisionsOf(seen)).to.deep.equal([11n]);
    expect(seen[0]?.events).to.have.length(2);
  });

  it('sends a progress request on the shared stream; its answer resolves every request sent and reaches watchers with progressNotify', async () => {
    const { hub, streams } = harness();
    const notified: WatchBatch[] = [];
    const silent: WatchBatch[] = [];
    hub.watch$<Buffer>(root, 'a', { progressNotify: true }).subscribe((batch) => notified.push(batch));
    hub.watch$<Buffer>(root, 'b', {}).subscribe((batch) => silent.push(batch));
    const stream = must(streams[0], 'the watch stream');
    stream.created(0n, 10n);
    stream.created(1n, 10n);
    const first = hub.requestProgress();
    const second = hub.requestProgress();
    expect(stream.written.filter((request) => request.progressRequest !== undefined)).to.have.length(2);
    stream.emit('data', { header: { revision: 15n }, watchId: -1n, created: false, canceled: false, compactRevision: 0n, cancelReason: '', fragment: false, events: [] });
    expect((await first).revision).to.equal(15n);
    expect((await second).revision).to.equal(15n);
    expect(notified.map((batch) => [batch.revision, batch.progress])).to.deep.equal([[15n, true]]);
    expect(silent).to.have.length(0);
    // The answer does not move where a resume starts (etcd < 3.4.25 may answer before sending events below it).
    stream.events(1n, 12n);
    expect(revisionsOf(silent)).to.deep.equal([12n]);
  });

  it('refuses a progress request without a watch, re-sends one pending over a re-opened stream, and rejects it when the last watch leaves', async () => {
    const { hub, streams, flush } = harness();
    expect(await hub.requestProgress().catch((error: unknown) => error)).to.be.instanceOf(NoActiveWatchError);
    const subscription = hub.watch$<Buffer>(root, 'a', {}).subscribe();
    const stream = must(streams[0], 'the watch stream');
    stream.created(0n, 10n);
    const pending = hub.requestProgress();
    stream.emit('end');
    flush();
    const reopened = must(streams[1], 'the re-opened watch stream');
    expect(reopened.written.filter((request) => request.progressRequest !== undefined)).to.have.length(1);
    const aborter = new AbortController();
    const aborted = hub.requestProgress({ signal: aborter.signal });
    aborter.abort();
    expect(await aborted.catch((error: unknown) => error)).to.be.instanceOf(AbortedError);
    const late = hub.requestProgress({ deadlineMs: 50 });
    flush();
    expect(await late.catch((error: unknown) => error)).to.be.instanceOf(DeadlineExceededError);
    subscription.unsubscribe();
    expect(await pending.catch((error: unknown) => error)).to.be.instanceOf(NoActiveWatchError);
    expect(reopened.cancelled).to.equal(true);
  });
});
