// Watches: every watcher of a client shares one bidi Watch stream (opened by
// the first subscriber, closed after the last one leaves). Creates are sent
// one at a time and matched to `created` acks in order, as etcd's Go client
// does. Each watcher remembers the revision after the last one it delivered;
// when the stream breaks, every watcher is re-created from there on the next
// endpoint — no gap, no duplicate.
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
  WatchRequest,
  type WatchResponse,
} from '../proto/gen/etcdserverpb/rpc.js';
import { Event_EventType, type Event as WireEvent } from '../proto/gen/mvccpb/kv.js';
import { backoffDelayMs } from './backoff.js';
import { bytesCodec, type Codec } from './codec.js';
import type { Connection, Endpoint } from './connection.js';
import {
  ClientClosedError,
  CompactedError,
  EtcdError,
  InvalidAuthTokenError,
  InvalidOptionError,
  LeaderChangedError,
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
  /** Ask for periodic progress notifications (emitted as empty batches). */
  progressNotify?: boolean;
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
  constructor(
    readonly key: Buffer,
    readonly rangeEnd: Buffer,
    readonly options: WatchOptions<unknown>,
    readonly subscriber: Subscriber<WatchBatch<unknown>>,
  ) {
    this.nextRevision = options.startRevision ?? 0n;
  }
}

const createdAckMissing = -1n;

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
  /** Streams opened so far (observability and tests). */
  streamsOpened = 0;

  /** @internal */
  constructor(
    private readonly connection: Connection,
    private readonly namespace: Namespace,
    private readonly scheduler: SchedulerLike = asyncScheduler,
  ) {}

  /** Number of live watchers. */
  get size(): number {
    return this.watchers.size;
  }

  /** A cold Observable of batches for `selector`; see `Client.watch$`. */
  watch$<V>(selector: KeySelector, options: WatchOptions<V>): Observable<WatchBatch<V>> {
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
        range = this.namespace.range(selector);
      } catch (error) {
        subscriber.error(error);
        return undefined;
      }
      const watcher = new Watcher(range.key, range.rangeEnd, options as WatchOptions<unknown>, subscriber as Subscriber<WatchBatch<unknown>>);
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
    this.watchers.delete(watcher);
    this.queue = this.queue.filter((queued) => queued !== watcher);
    if (this.watchers.size === 0) {
      // Closing the stream cancels every server-side watch on it.
      this.closeStream();
      this.reopen?.unsubscribe();
      this.reopen = undefined;
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
      }),
    }));
  }

  private onResponse(stream: ClientDuplexStream<WatchRequest, WatchResponse>, response: WatchResponse): void {
    if (stream !== this.stream) return;
    if (response.created) return this.handleCreated(response);
    const watcher = this.byId.get(response.watchId);
    if (watcher === undefined) return; // cancelled by us, or a -1 broadcast we did not ask for
    if (response.canceled || response.compactRevision > 0n) {
      this.byId.delete(response.watchId);
      return this.cancelled(watcher, response);
    }
    this.deliver(watcher, response);
  }

  private handleCreated(response: WatchResponse): void {
    const watcher = this.creating;
    this.creating = undefined;
    if (watcher === undefined || response.watchId === createdAckMissing && !response.canceled) {
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
      batch.events.push(this.toEvent(event, codec));
    }
    if (batch !== undefined) this.emit(watcher, batch);
  }

  private emit(watcher: Watcher, batch: WatchBatch<unknown>): void {
    watcher.nextRevision = batch.revision + 1n;
    watcher.subscriber.next(batch);
  }

  private toEvent(event: WireEvent, codec: Codec<unknown>): WatchEvent<unknown> {
    const kv = toKeyValue(this.namespace, event.kv ?? { key: Buffer.alloc(0), createRevision: 0n, modRevision: 0n, version: 0n, value: Buffer.alloc(0), lease: 0n },
      event.type === Event_EventType.DELETE ? bytesCodec : codec);
    const prevKv = event.prevKv === undefined ? undefined : toKeyValue(this.namespace, event.prevKv, codec);
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
    for (const watcher of [...this.watchers]) this.fail(watcher, error);
  }

  private closeStream(): void {
    const stream = this.stream;
    this.stream = undefined;
    this.creating = undefined;
    this.byId.clear();
    if (stream === undefined) return;
    stream.removeAllListeners();
    stream.on('error', () => undefined); // cancel() reports CANCELLED; nobody listens any more
    stream.cancel();
  }

  /** Completes every watch: the application closed the client itself, so this is an end, not a failure. */
  close(): void {
    this.reopen?.unsubscribe();
    this.reopen = undefined;
    for (const watcher of [...this.watchers]) {
      watcher.watchId = undefined;
      this.remove(watcher);
      watcher.subscriber.complete();
    }
    this.closeStream();
  }
}
