// Watches: every watcher of a client (and of its namespaced views) shares one
// bidi Watch stream (opened by the first subscriber, closed after the last one
// leaves). Creates are sent one at a time and matched to `created` acks in
// order, as etcd's Go client does. Each watcher remembers the revision after
// the last one it delivered; when the stream breaks, every watcher is
// re-created from there on the next endpoint — no gap, no duplicate.
//
// Watches ask for fragments (WatchCreateRequest.fragment): the server splits
// a revision whose events exceed its size limit (etcd: --max-request-bytes +
// 512 KiB; cairn: --max-request-bytes) over several responses, all but the
// last marked `fragment`; the hub joins them before it emits anything, so a
// batch is always a whole revision. Without fragments such a response could
// exceed grpc-js's 4 MiB receive limit and break the stream of every watcher.
//
// Worked example: a watcher delivered revisions 7 and 9 (nextRevision = 10);
// the member dies; the hub re-opens the stream and sends create(start=10). The
// server replays 10, 11, … from its history. Had history been compacted past
// 10, the server cancels the watch with compact_revision = N, and the watcher
// errors with CompactedError(N): the caller must re-read and re-watch.
import type { ClientDuplexStream } from '@grpc/grpc-js';
import { asyncScheduler, Observable, type SchedulerLike, type Subscriber, type Subscription } from 'rxjs';
import {
  WatchCancelRequest,
  WatchCreateRequest,
  WatchCreateRequest_FilterType,
  WatchProgressRequest,
  WatchRequest,
  type WatchResponse,
} from '../proto/gen/etcdserverpb/rpc.js';
import { Event_EventType, type Event as WireEvent } from '../proto/gen/mvccpb/kv.js';
import { backoffDelayMs } from './backoff.js';
import { bytesCodec, type Codec } from './codec.js';
import { cancelUnheard, type CallOptions, type Connection, type Endpoint } from './connection.js';
import {
  AbortedError,
  ClientClosedError,
  CompactedError,
  DeadlineExceededError,
  EtcdError,
  InvalidAuthTokenError,
  InvalidOptionError,
  LeaderChangedError,
  NoActiveWatchError,
  NoLeaderError,
  UnavailableError,
  classify,
  watchCancelError,
} from './errors.js';
import type { KeySelector, Namespace } from './keys.js';
import { toHeader, toKeyValue, type Header, type KeyValue } from './kv.js';

/** Kind of a watch event. */
export const EventType = { Put: 'put', Delete: 'delete' } as const;
/** Kind of a watch event. */
export type EventType = (typeof EventType)[keyof typeof EventType];

/** Server-side event filters. */
export const WatchFilter = { NoPut: 'noPut', NoDelete: 'noDelete' } as const;
/** Server-side event filters. */
export type WatchFilter = (typeof WatchFilter)[keyof typeof WatchFilter];

/**
 * One change. For a delete, `kv` carries the key and the deletion revision as
 * `modRevision`, and no value. `prevKv` is the key-value before the change, when
 * `prevKv` was asked and it existed.
 */
export type WatchEvent<V = Buffer> =
  | { type: typeof EventType.Put; kv: KeyValue<V>; prevKv: KeyValue<V> | undefined }
  | { type: typeof EventType.Delete; kv: KeyValue<undefined>; prevKv: KeyValue<V> | undefined };

/**
 * The events of one revision (a put, a delete of a range, or a txn), or — with
 * `progressNotify` — an empty progress notification: every event up to
 * `revision` has been delivered.
 */
export interface WatchBatch<V = Buffer> {
  /** The revision of every event in the batch, or the progress revision. */
  revision: bigint;
  header: Header;
  events: WatchEvent<V>[];
  /** True for a progress notification (no events). */
  progress: boolean;
}

/** Options of `watch$`. */
export interface WatchOptions<V = Buffer> {
  /** First revision to deliver (inclusive); absent = changes after the watch is created. */
  startRevision?: bigint;
  /** Include the previous key-value in each event. */
  prevKv?: boolean;
  /** Events the server should not send. */
  filters?: readonly WatchFilter[];
  /**
   * Emit progress notifications as empty batches: the server's periodic ones
   * (etcd: every 10 minutes by default), and the answers to
   * `requestWatchProgress`.
   */
  progressNotify?: boolean;
  /**
   * Ask the server to split a revision larger than its request size limit
   * over several responses (joined again before the batch is emitted).
   * Default true; false sends the revision in one response, which fails the
   * shared stream when it exceeds the client's 4 MiB receive limit.
   */
  fragment?: boolean;
  /** Decodes values; default raw bytes. */
  codec?: Codec<V>;
}

const WatchState = { Queued: 'queued', Creating: 'creating', Active: 'active', Gone: 'gone' } as const;
type WatchState = (typeof WatchState)[keyof typeof WatchState];

/** One `watch$` subscription as the hub tracks it. */
class Watcher {
  state: WatchState = WatchState.Queued;
  watchId: bigint | undefined;
  // Invariant: every event with modRevision < nextRevision has been delivered (or precedes startRevision).
  nextRevision: bigint;
  /** Events of a revision the server is still sending in fragments. */
  fragments: WatchResponse | undefined;
  constructor(
    readonly namespace: Namespace,
    readonly key: Buffer,
    readonly rangeEnd: Buffer,
    readonly options: WatchOptions<unknown>,
    readonly subscriber: Subscriber<WatchBatch<unknown>>,
  ) {
    this.nextRevision = options.startRevision ?? 0n;
  }
}

/**
 * The watch ID of a response that belongs to no one watcher: a refused
 * create (with `created`), or the answer to a progress request (without).
 */
const noWatchId = -1n;

/** What the server said when it answered `requestWatchProgress`. */
export interface WatchProgress {
  header: Header;
  /** Every event up to this revision has been sent on the stream (see `requestWatchProgress` for etcd < 3.4.25). */
  revision: bigint;
}

/** A `requestWatchProgress` call waiting for its answer. */
interface ProgressWaiter {
  /** Whether the request was written on the current stream (false: to be sent when it opens again). */
  sent: boolean;
  resolve(progress: WatchProgress): void;
  reject(error: EtcdError): void;
}

/** The shared Watch stream of one client. */
export class WatchHub {
  private readonly watchers = new Set<Watcher>();
  private readonly byId = new Map<bigint, Watcher>();
  private queue: Watcher[] = [];
  private creating: Watcher | undefined;
  private stream: ClientDuplexStream<WatchRequest, WatchResponse> | undefined;
  private endpoint: Endpoint | undefined;
  private reopen: Subscription | undefined;
  private failures = 0;
  private progressWaiters: ProgressWaiter[] = [];
  /** Streams opened so far (observability and tests). */
  streamsOpened = 0;

  /** @internal */
  constructor(
    private readonly connection: Connection,
    private readonly scheduler: SchedulerLike = asyncScheduler,
  ) {}

  /** Number of live watchers. */
  get size(): number {
    return this.watchers.size;
  }

  /** A cold Observable of batches for `selector` in `namespace`; see `Client.watch$`. */
  watch$<V>(namespace: Namespace, selector: KeySelector, options: WatchOptions<V>): Observable<WatchBatch<V>> {
    return new Observable<WatchBatch<V>>((subscriber) => {
      if (this.connection.isClosed) {
        subscriber.error(new ClientClosedError('client is closed'));
        return undefined;
      }
      if (options.startRevision !== undefined && options.startRevision < 0n) {
        subscriber.error(new InvalidOptionError('startRevision must not be negative'));
        return undefined;
      }
      let range;
      try {
        range = namespace.range(selector);
      } catch (error) {
        subscriber.error(error);
        return undefined;
      }
      const watcher = new Watcher(namespace, range.key, range.rangeEnd, options as WatchOptions<unknown>, subscriber as Subscriber<WatchBatch<unknown>>);
      this.add(watcher);
      return () => this.remove(watcher);
    });
  }

  private add(watcher: Watcher): void {
    this.watchers.add(watcher);
    if (this.stream === undefined) {
      if (this.reopen === undefined) this.open();
      else this.queue.push(watcher); // re-created when the pending re-open runs
      return;
    }
    this.queue.push(watcher);
    this.pump();
  }

  private remove(watcher: Watcher): void {
    if (watcher.state === WatchState.Gone) return;
    watcher.state = WatchState.Gone;
    watcher.fragments = undefined;
    this.watchers.delete(watcher);
    this.queue = this.queue.filter((queued) => queued !== watcher);
    if (this.watchers.size === 0) {
      // Closing the stream cancels every server-side watch on it.
      this.closeStream();
      this.reopen?.unsubscribe();
      this.reopen = undefined;
      this.rejectProgress(new NoActiveWatchError('the last watch closed before the server answered the progress request'));
      return;
    }
    if (watcher.watchId !== undefined) {
      this.byId.delete(watcher.watchId);
      this.stream?.write(WatchRequest.fromPartial({ cancelRequest: WatchCancelRequest.fromPartial({ watchId: watcher.watchId }) }));
    }
    // A watcher still being created is cancelled when its ack arrives (handleCreated).
  }

  private open(): void {
    this.reopen = undefined;
    if (this.watchers.size === 0 || this.connection.isClosed) return;
    const endpoint = this.connection.current();
    const stream = endpoint.watch.watch(this.connection.metadata());
    this.stream = stream;
    this.endpoint = endpoint;
    this.streamsOpened++;
    this.byId.clear();
    this.creating = undefined;
    this.queue = [...this.watchers];
    for (const watcher of this.queue) {
      watcher.state = WatchState.Queued;
      watcher.watchId = undefined;
    }
    stream.on('data', (response: WatchResponse) => this.onResponse(stream, response));
    stream.on('error', (error: unknown) => this.onBroken(stream, error));
    stream.on('end', () => this.onBroken(stream, undefined));
    this.pump();
    if (this.progressWaiters.some((waiter) => !waiter.sent)) this.sendProgressRequest();
  }

  /** Sends the next create once the previous one was acknowledged. */
  private pump(): void {
    if (this.stream === undefined || this.creating !== undefined) return;
    const watcher = this.queue.shift();
    if (watcher === undefined) return;
    watcher.state = WatchState.Creating;
    this.creating = watcher;
    const filters = (watcher.options.filters ?? []).map((filter) =>
      filter === WatchFilter.NoPut ? WatchCreateRequest_FilterType.NOPUT : WatchCreateRequest_FilterType.NODELETE);
    this.stream.write(WatchRequest.fromPartial({
      createRequest: WatchCreateRequest.fromPartial({
        key: watcher.key,
        rangeEnd: watcher.rangeEnd,
        startRevision: watcher.nextRevision,
        prevKv: watcher.options.prevKv ?? false,
        progressNotify: watcher.options.progressNotify ?? false,
        filters,
        fragment: watcher.options.fragment ?? true,
      }),
    }));
  }

  private onResponse(stream: ClientDuplexStream<WatchRequest, WatchResponse>, response: WatchResponse): void {
    if (stream !== this.stream) return;
    if (response.created) return this.handleCreated(response);
    if (response.watchId === noWatchId) return this.progressAnswered(response);
    const watcher = this.byId.get(response.watchId);
    if (watcher === undefined) return; // cancelled by us
    if (response.canceled || response.compactRevision > 0n) {
      this.byId.delete(response.watchId);
      watcher.fragments = undefined;
      return this.cancelled(watcher, response);
    }
    const whole = this.joinFragments(watcher, response);
    if (whole !== undefined) this.deliver(watcher, whole);
  }

  /**
   * Collects the fragments of a revision: undefined while more are to come,
   * then the whole response (etcd's Go client joins them the same way: events
   * appended in order, complete at the first response without `fragment`).
   */
  private joinFragments(watcher: Watcher, response: WatchResponse): WatchResponse | undefined {
    const pending = watcher.fragments;
    const joined = pending === undefined ? response : { ...response, events: [...pending.events, ...response.events] };
    watcher.fragments = response.fragment ? joined : undefined;
    return response.fragment ? undefined : joined;
  }

  /**
   * Asks the server for a progress notification on the shared stream (etcd's
   * WatchProgressRequest; the Go client's RequestProgress). Resolves with the
   * revision of the next answer: every event up to it has been sent to every
   * watcher of the stream. Watchers with `progressNotify` also emit it as an
   * empty batch. See `Client.requestWatchProgress`.
   */
  requestProgress(options: CallOptions = {}): Promise<WatchProgress> {
    if (this.connection.isClosed) return Promise.reject(new ClientClosedError('client is closed'));
    if (this.watchers.size === 0) return Promise.reject(new NoActiveWatchError('no watch is open: a progress request needs the shared watch stream'));
    if (options.signal?.aborted === true) return Promise.reject(new AbortedError('call aborted before it started', { cause: options.signal.reason }));
    return new Promise<WatchProgress>((resolve, reject) => {
      let timer: Subscription | undefined;
      const settle = () => {
        this.progressWaiters = this.progressWaiters.filter((other) => other !== waiter);
        timer?.unsubscribe();
        options.signal?.removeEventListener('abort', onAbort);
      };
      const onAbort = () => {
        settle();
        reject(new AbortedError('call aborted', { cause: options.signal?.reason }));
      };
      const waiter: ProgressWaiter = {
        sent: false,
        resolve: (progress) => { settle(); resolve(progress); },
        reject: (error) => { settle(); reject(error); },
      };
      options.signal?.addEventListener('abort', onAbort, { once: true });
      if (options.deadlineMs !== undefined) timer = this.scheduler.schedule(() => waiter.reject(new DeadlineExceededError('deadline exceeded')), options.deadlineMs);
      this.progressWaiters.push(waiter);
      if (this.stream !== undefined) this.sendProgressRequest();
      // Otherwise the stream is being re-opened: open() sends it.
    });
  }

  private sendProgressRequest(): void {
    if (this.stream === undefined) return;
    for (const waiter of this.progressWaiters) waiter.sent = true;
    this.stream.write(WatchRequest.fromPartial({ progressRequest: WatchProgressRequest.fromPartial({}) }));
  }

  /**
   * The server answered a progress request (watch ID -1). One answer settles
   * every request sent so far: cairn and etcd ≥ 3.4.25 answer requests that
   * arrive while watchers catch up with one response, once they have.
   * Watchers' resume revisions are left alone: etcd before 3.4.25 answers at
   * once with its current revision, possibly before events below it were
   * sent (etcd issue #15220), and skipping to it could lose them.
   */
  private progressAnswered(response: WatchResponse): void {
    const header = toHeader(response.header);
    const progress = { header, revision: header.revision };
    for (const waiter of this.progressWaiters.filter((candidate) => candidate.sent)) waiter.resolve(progress);
    for (const watcher of [...this.watchers]) {
      if (watcher.state !== WatchState.Active || watcher.options.progressNotify !== true) continue;
      watcher.subscriber.next({ revision: header.revision, header, events: [], progress: true });
    }
  }

  private rejectProgress(error: EtcdError): void {
    for (const waiter of [...this.progressWaiters]) waiter.reject(error);
  }

  private handleCreated(response: WatchResponse): void {
    const watcher = this.creating;
    this.creating = undefined;
    if (watcher === undefined || response.watchId === noWatchId && !response.canceled) {
      this.pump();
      return;
    }
    if (response.canceled) {
      // The create failed (compacted start revision, refused by auth): etcd answers created + canceled.
      this.cancelled(watcher, response);
    } else if (watcher.state === WatchState.Gone) {
      this.stream?.write(WatchRequest.fromPartial({ cancelRequest: WatchCancelRequest.fromPartial({ watchId: response.watchId }) }));
    } else {
      this.failures = 0;
      watcher.state = WatchState.Active;
      watcher.watchId = response.watchId;
      this.byId.set(response.watchId, watcher);
      // "Now" is the revision after the ack's header: pin it, so a resume neither skips nor repeats.
      if (watcher.nextRevision === 0n) watcher.nextRevision = (response.header?.revision ?? 0n) + 1n;
    }
    this.pump();
  }

  /** Splits a response into one batch per revision, dropping anything already delivered. */
  private deliver(watcher: Watcher, response: WatchResponse): void {
    const header = toHeader(response.header);
    const codec = (watcher.options.codec ?? bytesCodec) as Codec<unknown>;
    if (response.events.length === 0) {
      // Progress: etcd sends it only for watchers that have caught up, so everything up to header.revision is delivered.
      if (header.revision + 1n > watcher.nextRevision && watcher.nextRevision !== 0n) watcher.nextRevision = header.revision + 1n;
      if (watcher.options.progressNotify === true) {
        watcher.subscriber.next({ revision: header.revision, header, events: [], progress: true });
      }
      return;
    }
    let batch: WatchBatch<unknown> | undefined;
    for (const event of response.events) {
      const revision = event.kv?.modRevision ?? 0n;
      if (revision < watcher.nextRevision) continue;
      if (batch !== undefined && batch.revision !== revision) {
        this.emit(watcher, batch);
        if (watcher.state === WatchState.Gone) return; // unsubscribed from inside next()
      }
      if (batch === undefined || batch.revision !== revision) batch = { revision, header, events: [], progress: false };
      batch.events.push(this.toEvent(watcher.namespace, event, codec));
    }
    if (batch !== undefined) this.emit(watcher, batch);
  }

  private emit(watcher: Watcher, batch: WatchBatch<unknown>): void {
    watcher.nextRevision = batch.revision + 1n;
    watcher.subscriber.next(batch);
  }

  private toEvent(namespace: Namespace, event: WireEvent, codec: Codec<unknown>): WatchEvent<unknown> {
    const kv = toKeyValue(namespace, event.kv ?? { key: Buffer.alloc(0), createRevision: 0n, modRevision: 0n, version: 0n, value: Buffer.alloc(0), lease: 0n },
      event.type === Event_EventType.DELETE ? bytesCodec : codec);
    const prevKv = event.prevKv === undefined ? undefined : toKeyValue(namespace, event.prevKv, codec);
    return event.type === Event_EventType.DELETE
      ? { type: EventType.Delete, kv: { ...kv, value: undefined }, prevKv }
      : { type: EventType.Put, kv, prevKv };
  }

  /**
   * The server cancelled `watcher`: compaction → CompactedError; a reason that
   * carries a gRPC error → that error, typed (watchCancelError: auth's refusal
   * is a PermissionDeniedError, final like a refused unary call). A token the
   * server no longer knows is not the watcher's fault: the token travels in
   * the stream's metadata, so the stream is opened again with a fresh token
   * and every watcher re-created from where it was, as when the stream itself
   * fails with `invalid auth token`.
   */
  private cancelled(watcher: Watcher, response: WatchResponse): void {
    const error = response.compactRevision > 0n
      ? new CompactedError('etcdserver: mvcc: required revision has been compacted', response.compactRevision)
      : watchCancelError(response.cancelReason);
    if (error instanceof InvalidAuthTokenError && this.stream !== undefined) return this.onBroken(this.stream, error);
    this.fail(watcher, error);
  }

  private fail(watcher: Watcher, error: EtcdError): void {
    if (watcher.state === WatchState.Gone) return;
    // Removing first cancels nothing server-side: the server already cancelled this watch.
    watcher.watchId = undefined;
    this.remove(watcher);
    watcher.subscriber.error(error);
  }

  private onBroken(stream: ClientDuplexStream<WatchRequest, WatchResponse>, error: unknown): void {
    if (stream !== this.stream) return;
    this.closeStream();
    const typed = error === undefined ? new UnavailableError('watch stream ended', 'unknown') : classify(error);
    for (const waiter of this.progressWaiters) waiter.sent = false;
    if (this.connection.isClosed) return this.failAll(new ClientClosedError('client is closed', { cause: typed }));
    const transient = typed instanceof UnavailableError || typed instanceof NoLeaderError ||
      typed instanceof LeaderChangedError || typed instanceof InvalidAuthTokenError;
    if (!transient) return this.failAll(typed);
    if (this.endpoint !== undefined && typed instanceof UnavailableError) this.connection.failover(this.endpoint);
    const delayMs = backoffDelayMs(this.failures++, this.connection.retryPolicy());
    this.reopen = this.scheduler.schedule(() => {
      if (typed instanceof InvalidAuthTokenError) {
        this.connection.refreshToken().then(() => this.open(), (refreshError: unknown) => this.failAll(classify(refreshError)));
      } else {
        this.open();
      }
    }, delayMs);
  }

  private failAll(error: EtcdError): void {
    this.rejectProgress(error);
    for (const watcher of [...this.watchers]) this.fail(watcher, error);
  }

  private closeStream(): void {
    const stream = this.stream;
    this.stream = undefined;
    this.creating = undefined;
    this.byId.clear();
    for (const watcher of this.watchers) watcher.fragments = undefined;
    if (stream !== undefined) cancelUnheard(stream);
  }

  /** Completes every watch: the application closed the client itself, so this is an end, not a failure. */
  close(): void {
    this.reopen?.unsubscribe();
    this.reopen = undefined;
    this.rejectProgress(new ClientClosedError('client is closed'));
    for (const watcher of [...this.watchers]) {
      watcher.watchId = undefined;
      this.remove(watcher);
      watcher.subscriber.complete();
    }
    this.closeStream();
  }
}
