// etcdserverpb.Watch: one bidi stream multiplexes many watchers. Every
// response of a stream goes through one bounded queue, so create and cancel
// acks keep the order of the requests and events never overtake them.
import type { ServerDuplexStream } from '@grpc/grpc-js';
import {
  type ResponseHeader,
  WatchCreateRequest_FilterType,
  WatchResponse,
  type WatchCreateRequest,
  type WatchRequest,
  type WatchServer,
} from '../../proto/gen/etcdserverpb/rpc.js';
import type { Event } from '../../proto/gen/mvccpb/kv.js';
import { keyRange } from '../apply/range.js';
import type { Timer } from '../clock.js';
import type { ChangeEvent } from '../mvcc/store.js';
import type { WatchHub } from '../watch/hub.js';
import { Watcher, type WatchSink } from '../watch/watcher.js';
import { fillHeader, type ServiceContext } from './context.js';
import { watchEvent } from './watch-events.js';
import { UndecodableRequest, undecodableStatus } from '../grpc/request-streams.js';
import { batchWriteOf, type BatchWrite } from '../grpc/serving/handler-calls.js';
import { goStatusText, toServiceError } from '../grpc/errors.js';
import { grpcMessageBytesMax } from '../grpc/message-limits.js';
import { callerAuthNow, prepareCaller } from './caller.js';

export interface WatchStreamLimits {
  /** Responses queued on one stream; past it, watchers are moved aside and caught up later. */
  queuedResponsesMax: number;
  /** Watchers on one stream. */
  watchersMax: number;
  /** Interval of progress notifications for watchers that asked for them. */
  progressNotifyIntervalMs: number;
}

const invalidWatchId = -1n;
/**
 * A response still in a stream's queue takes the events of later revisions
 * for its watcher (coalescing) up to these bounds, so a backed-up stream
 * sends fewer, fuller responses instead of falling further behind.
 */
const coalescedEventsMax = 1_000;
const coalescedBytesMax = 1024 * 1024;
/** One write to the connection carries at most this many responses, or about this many bytes of events. */
const responsesPerWriteMax = 64;
const writeBytesMax = 1024 * 1024;
/** How often an owed progress response checks whether the stream's watchers caught up. */
const progressRetryMs = 10;
const errorMessages = {
  emptyRange: 'mvcc: watcher range is empty',
  duplicateId: 'mvcc: duplicate watch ID provided on the WatchStream',
} as const;

export function watchService(context: ServiceContext, hub: WatchHub, limits: WatchStreamLimits): WatchServer {
  return {
    watch: (call: ServerDuplexStream<WatchRequest, WatchResponse>) => {
      const stream = new WatchStream(context, hub, limits, call);
      // Requests are handled in order, once the stream's token is known (a JWT's signature is checked once, first).
      let handled = prepareCaller(context, call);
      call.on('data', (request: WatchRequest | UndecodableRequest) => {
        if (request instanceof UndecodableRequest) {
          stream.close();
          call.emit('error', undecodableStatus());
          return;
        }
        handled = handled.then(() => stream.receive(request)).catch((error: unknown) => {
          stream.close();
          call.emit('error', toServiceError(error));
        });
      });
      // As etcd's, a stream the client half-closed (the JSON gateway's, once the request body ended)
      // goes on delivering events until the client cancels it: no 'end' handler.
      call.on('error', () => stream.close());
      call.on('close', () => stream.close());
    },
  };
}

/**
 * A response in a stream's queue: the WatchResponse itself (what is framed
 * and sent) with the stream's bookkeeping beside its fields — one object per
 * response and watcher, not two.
 */
class Queued implements WatchResponse {
  created = false;
  canceled = false;
  compactRevision = 0n;
  cancelReason = '';
  fragment = false;
  /** About what its events take on the wire (eventsBytes). */
  bytes: number;
  /** The stream's ordering epoch when queued: it takes more events only within it (WatchStream.openEpoch). */
  epoch = 0;

  constructor(
    public header: ResponseHeader | undefined,
    public watchId: bigint,
    public events: Event[],
    /** The watcher it is for; undefined for a response to the stream (an id refused, a progress answer). */
    readonly watcher: Watcher | undefined,
  ) {
    this.bytes = eventsBytes(events);
  }

  /** `response` (a stream's answer, or a fragment of an events response) queued for `watcher`. */
  static of(response: WatchResponse, watcher: Watcher | undefined): Queued {
    const queued = new Queued(response.header, response.watchId, response.events, watcher);
    queued.created = response.created;
    queued.canceled = response.canceled;
    queued.compactRevision = response.compactRevision;
    queued.cancelReason = response.cancelReason;
    queued.fragment = response.fragment;
    return queued;
  }
}

/** A stream's queue drops its written head in one go once that many responses were taken from it (not at every batch). */
const queueCompactAt = 1_024;

class WatchStream implements WatchSink {
  private readonly watchers = new Map<bigint, Watcher>();
  /** Responses not yet handed to the call: queue[queueHead..]. */
  private readonly queue: Queued[] = [];
  private queueHead = 0;
  /** The header of the responses of the latest revision: one object for all of them, so it is encoded once (watch-events.ts). */
  private sharedHeader: { revision: number; header: ResponseHeader } | undefined;
  /** The call's batch write, when the server offers one (cairn's does): the responses go out without a stream write each. */
  private readonly writeBatch: BatchWrite | undefined;
  private nextId = 0n;
  /** Responses handed to the call whose write has not completed: the next batch waits for them. */
  private batchInFlight = false;
  /** A flush is due at the end of this turn (queued as a microtask). */
  private flushDue = false;
  private closed = false;
  private readonly progressTimer: Timer;
  /**
   * Watchers that asked for progress notifications → whether they are due
   * one (no events were sent to them since the last tick), as etcd keeps it.
   */
  private readonly progress = new Map<bigint, boolean>();
  private readonly fragmented = new Set<bigint>();
  /**
   * Per watcher, its events response still in the queue (not yet written),
   * while it may take more events: kept in the watcher's sinkState, valid
   * while its epoch is this. A response queued for the whole stream closes
   * every one of them at once by moving to the next epoch.
   */
  private openEpoch = 0;
  /** A WatchProgressRequest waits for the stream's watchers to catch up. */
  private progressOwed = false;

  constructor(
    private readonly context: ServiceContext,
    private readonly hub: WatchHub,
    private readonly limits: WatchStreamLimits,
    private readonly call: ServerDuplexStream<WatchRequest, WatchResponse>,
  ) {
    this.progressTimer = context.clock.every(limits.progressNotifyIntervalMs, () => this.notifyProgress()).unref();
    this.writeBatch = batchWriteOf(call);
  }

  receive(request: WatchRequest): void {
    if (this.closed) return;
    if (request.createRequest !== undefined) this.create(request.createRequest);
    else if (request.cancelRequest !== undefined) this.cancel(request.cancelRequest.watchId);
    else if (request.progressRequest !== undefined) this.requestProgress();
  }

  /**
   * A progress response promises every event up to its revision was sent,
   * so it waits until every watcher of the stream has caught up (etcd fixed
   * the same in 3.4.25 / 3.5.8, issue #15220), then carries the revision
   * current at that moment.
   */
  private requestProgress(): void {
    if (this.progressOwed) return;
    this.progressOwed = true;
    this.answerProgress();
  }

  private answerProgress(): void {
    if (this.closed || !this.progressOwed) return;
    for (const watcher of this.watchers.values()) {
      if (!this.hub.isSynced(watcher)) {
        this.context.clock.after(progressRetryMs, () => this.answerProgress()).unref();
        return;
      }
    }
    this.progressOwed = false;
    this.enqueue(this.response(invalidWatchId, this.context.store.currentRevision), undefined);
  }

  private create(request: WatchCreateRequest): void {
    const key = request.key.length === 0 ? Buffer.from([0]) : request.key;
    const range = keyRange(key, request.rangeEnd);
    const current = this.context.store.currentRevision;
    const failure = this.refusal(key, request.rangeEnd) ?? this.check(range.end, key, request.watchId);
    if (failure !== undefined) {
      this.enqueue({ ...this.response(invalidWatchId, current), created: true, canceled: true, cancelReason: failure }, undefined);
      return;
    }
    let id = request.watchId;
    if (id === 0n) {
      while (this.watchers.has(this.nextId)) this.nextId++;
      id = this.nextId++;
    }
    const start = startRevision(request.startRevision, current, this.context.store.compactRevision);
    const filters = {
      noPut: request.filters.includes(WatchCreateRequest_FilterType.NOPUT),
      noDelete: request.filters.includes(WatchCreateRequest_FilterType.NODELETE),
    };
    const watcher = new Watcher(id, range, start, filters, request.prevKv, this);
    this.watchers.set(id, watcher);
    if (request.progressNotify) this.progress.set(id, true);
    if (request.fragment) this.fragmented.add(id);
    // The ack is queued before the hub can deliver anything for the watcher.
    this.enqueue({ ...this.response(id, current), created: true }, watcher);
    this.hub.add(watcher);
  }

  /**
   * Why the stream's user may not watch [key, rangeEnd), as a cancel reason
   * (the gRPC error as Go prints it, as etcd's).
   * etcd 3.4 checks a watch of every key from `key` on ("\0" range end) as a
   * watch of `key` alone; cairn checks the whole range.
   */
  private refusal(key: Buffer, rangeEnd: Uint8Array): string | undefined {
    try {
      const auth = callerAuthNow(this.context, this.call);
      this.context.auth.checkRead(auth, key, rangeEnd);
      return undefined;
    } catch (error) {
      return goStatusText(error);
    }
  }

  private check(end: string | undefined, key: Buffer, watchId: bigint): string | undefined {
    if (end !== undefined && end !== '' && key.toString('latin1') >= end) return errorMessages.emptyRange;
    if (watchId !== 0n && this.watchers.has(watchId)) return errorMessages.duplicateId;
    if (this.watchers.size >= this.limits.watchersMax) return `etcdserver: too many watchers on one stream (${this.limits.watchersMax})`;
    return undefined;
  }

  private cancel(id: bigint): void {
    const watcher = this.watchers.get(id);
    if (watcher === undefined) return; // as etcd: cancelling an unknown watcher gets no answer
    this.forget(watcher);
    this.enqueue({ ...this.response(id, this.context.store.currentRevision), canceled: true }, watcher);
  }

  deliver(watcher: Watcher, revision: number, events: readonly ChangeEvent[]): boolean {
    if (this.closed) return true; // a closed stream takes everything; its watchers are being removed
    if (!this.coalesce(watcher, revision, events) && !this.enqueueEvents(watcher, revision, events)) return false;
    if (this.progress.size > 0 && this.progress.has(watcher.id)) this.progress.set(watcher.id, false);
    return true;
  }

  /** Queues a response of the events, unless the queue is full. */
  private enqueueEvents(watcher: Watcher, revision: number, events: readonly ChangeEvent[]): boolean {
    if (!this.hasRoom()) return false;
    const response = new Queued(this.header(revision), watcher.id, events.map((event) => watchEvent(this.context.store, event, watcher.prevKv)), watcher);
    if (this.fragmented.size > 0 && this.fragmented.has(watcher.id)) {
      for (const part of fragments(response, grpcMessageBytesMax(this.context.config.maxRequestBytes))) this.enqueue(part, watcher);
      return true;
    }
    const queued = this.enqueue(response, watcher);
    // Still queued (a batch is being written): later events for the watcher may join it.
    if (queued !== undefined && this.queue[this.queue.length - 1] === queued) {
      queued.epoch = this.openEpoch;
      watcher.sinkState = queued;
    }
    return true;
  }

  /** Adds the events to the watcher's response still in the queue, if it has one with room; the response then carries `revision`. */
  private coalesce(watcher: Watcher, revision: number, events: readonly ChangeEvent[]): boolean {
    const waiting = this.unsentOf(watcher);
    if (waiting === undefined || waiting.events.length + events.length > coalescedEventsMax) return false;
    const added = events.map((event) => watchEvent(this.context.store, event, watcher.prevKv));
    const bytes = waiting.bytes + eventsBytes(added);
    if (bytes > coalescedBytesMax) return false;
    waiting.events.push(...added);
    // A new header, not a change to this one: headers are shared by the responses of a revision.
    waiting.header = this.header(revision);
    waiting.bytes = bytes;
    return true;
  }

  compacted(watcher: Watcher, compactRevision: number): void {
    this.forget(watcher);
    // As etcd, the cancel carries no revision in its header: it delivers nothing.
    this.enqueue({ ...this.response(watcher.id, 0), canceled: true, compactRevision: BigInt(compactRevision) }, watcher);
  }

  hasRoom(): boolean {
    return this.queuedCount() < this.limits.queuedResponsesMax;
  }

  private queuedCount(): number {
    return this.queue.length - this.queueHead;
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.progressTimer.cancel();
    for (const watcher of this.watchers.values()) this.hub.remove(watcher);
    this.watchers.clear();
    this.queue.length = 0;
    this.queueHead = 0;
    this.openEpoch++;
  }

  /** The watcher's events response still open to more events, if any. */
  private unsentOf(watcher: Watcher): Queued | undefined {
    const waiting = watcher.sinkState;
    return waiting instanceof Queued && waiting.epoch === this.openEpoch ? waiting : undefined;
  }

  private forget(watcher: Watcher): void {
    this.hub.remove(watcher);
    this.watchers.delete(watcher.id);
    this.progress.delete(watcher.id);
    this.fragmented.delete(watcher.id);
  }

  /**
   * etcd's rule: at each tick, a watcher that asked for progress
   * notifications and was sent no events since the last tick gets an empty
   * response whose header revision tells it everything up to there was sent
   * (only while it is synced: a watcher catching up has nothing to promise).
   */
  private notifyProgress(): void {
    const current = this.context.store.currentRevision;
    for (const [id, due] of this.progress) {
      const watcher = this.watchers.get(id);
      if (due && watcher !== undefined && this.hub.isSynced(watcher)) this.enqueue(this.response(id, current), watcher);
      this.progress.set(id, true);
    }
  }

  private response(watchId: bigint, revision: number): WatchResponse {
    return { header: this.header(revision), watchId, created: false, canceled: false, compactRevision: 0n, cancelReason: '', fragment: false, events: [] };
  }

  /** The header of a response at `revision` (this member's current term): shared with every other response made for the same. */
  private header(revision: number): ResponseHeader {
    const shared = this.sharedHeader;
    if (shared !== undefined && shared.revision === revision && shared.header.raftTerm === this.context.node.term) return shared.header;
    const header = fillHeader(this.context, undefined, revision);
    this.sharedHeader = { revision, header };
    return header;
  }

  /** Queues `response` (for `watcher`, or for the stream); undefined if the stream is closed. */
  private enqueue(response: WatchResponse, watcher: Watcher | undefined): Queued | undefined {
    if (this.closed) return undefined;
    // Nothing may join a response queued before this one: it would overtake it.
    if (watcher === undefined) this.openEpoch++;
    else watcher.sinkState = undefined;
    const queued = response instanceof Queued ? response : Queued.of(response, watcher);
    this.queue.push(queued);
    this.flushSoon();
    return queued;
  }

  /**
   * Flushes once the work in progress is done: the hub hands a committed
   * batch's events to every watcher in one go, so the stream's responses for
   * them leave in one write instead of the first alone and the rest after it.
   */
  private flushSoon(): void {
    if (this.flushDue) return;
    this.flushDue = true;
    queueMicrotask(() => {
      this.flushDue = false;
      this.flush();
    });
  }

  /**
   * Writes the queue's head as one batch (one write to the connection), and
   * the next batch only once that one is written. Meanwhile responses wait in
   * the queue, where a watcher's response takes its later events
   * (coalescing): a stream that keeps up gets each response at once, one that
   * is busy gets fewer, fuller ones.
   */
  private flush(): void {
    if (!this.batchInFlight && !this.closed && this.queuedCount() > 0) {
      this.batchInFlight = true;
      const batch = this.takeBatch();
      if (this.writeBatch !== undefined) {
        this.writeBatch(batch, () => this.batchWritten());
      } else {
        this.call.cork();
        batch.forEach((response, i) => this.call.write(response, i === batch.length - 1 ? () => this.batchWritten() : undefined));
        this.call.uncork();
      }
    }
    // Requests make responses (acks): while the queue is full, stop reading requests.
    const queued = this.queuedCount();
    if (queued >= this.limits.queuedResponsesMax) this.call.pause();
    else if (this.call.isPaused()) this.call.resume();
    if (queued < this.limits.queuedResponsesMax / 2) this.hub.wake();
  }

  private batchWritten(): void {
    this.batchInFlight = false;
    this.flush();
  }

  /** The queue's head, up to responsesPerWriteMax responses or about writeBytesMax of events; no longer open to coalescing. */
  private takeBatch(): WatchResponse[] {
    const batch: WatchResponse[] = [];
    let bytes = 0;
    while (this.queueHead < this.queue.length && batch.length < responsesPerWriteMax && bytes < writeBytesMax) {
      const queued = this.queue[this.queueHead++] as Queued;
      bytes += queued.bytes;
      batch.push(queued);
      if (queued.watcher !== undefined && queued.watcher.sinkState === queued) queued.watcher.sinkState = undefined;
    }
    if (this.queueHead === this.queue.length) {
      this.queue.length = 0;
      this.queueHead = 0;
    } else if (this.queueHead >= queueCompactAt) {
      this.queue.splice(0, this.queueHead);
      this.queueHead = 0;
    }
    return batch;
  }
}

/**
 * The first revision a new watcher wants. 0 means "after the create
 * response". A negative start behaves as in etcd 3.4, whose store reads
 * history from it as an unsigned revision: nothing is found and the watcher
 * goes on from now, unless history was ever compacted, in which case it is
 * below the compaction and gets cancelled with compact_revision. A start
 * past what a JS number holds exactly waits for ever, as it does in etcd.
 */
function startRevision(requested: bigint, current: number, compactRevision: number): number {
  if (requested === 0n) return current + 1;
  if (requested < 0n) return compactRevision >= 0 ? -1 : current + 1;
  return requested > BigInt(Number.MAX_SAFE_INTEGER) ? Number.MAX_SAFE_INTEGER : Number(requested);
}

/** About what the events take on the wire: their keys and values (and previous ones). */
function eventsBytes(events: Event[]): number {
  let bytes = 0;
  for (const { kv, prevKv } of events) bytes += (kv?.key.length ?? 0) + (kv?.value.length ?? 0) + (prevKv?.key.length ?? 0) + (prevKv?.value.length ?? 0);
  return bytes;
}

/** Splits a response whose events exceed `bytesMax` (--max-request-bytes + gRPC's overhead, as etcd) into fragments, as etcd's sendFragments does. */
function fragments(response: WatchResponse, bytesMax: number): WatchResponse[] {
  if (response.events.length < 2 || WatchResponse.encode(response).finish().length < bytesMax) return [response];
  const parts: WatchResponse[] = [];
  let current: WatchResponse = { ...response, events: [], fragment: true };
  for (const event of response.events) {
    current.events.push(event);
    if (current.events.length > 1 && WatchResponse.encode(current).finish().length >= bytesMax) {
      current.events.pop();
      parts.push(current);
      current = { ...response, events: [event], fragment: true };
    }
  }
  current.fragment = false;
  parts.push(current);
  return parts;
}
