// Lease keep-alives: every `keepAlive$` of a client (and of its namespaced
// views) shares one bidi LeaseKeepAlive stream, as etcd's Go client
// multiplexes its leases — opened by the first subscriber, closed after the
// last one leaves. Requests and responses carry the lease ID, so each
// response goes to the keepers of its lease only; a lease lost (TTL 0) ends
// its keepers and no other. A broken stream is one failure for every keeper:
// it is re-opened with backoff, and each keeper sends at once on the new one.
//
// Each keeper owns its two timers: when to send next (a third of the TTL
// after the last response) and when its lease could have expired on the
// server (the TTL after the last response).
import type { ClientDuplexStream } from '@grpc/grpc-js';
import { asyncScheduler, Observable, type SchedulerLike, type Subscriber, type Subscription } from 'rxjs';
import { LeaseKeepAliveRequest, type LeaseKeepAliveResponse } from '../proto/gen/etcdserverpb/rpc.js';
import { backoffDelayMs } from './backoff.js';
import { cancelUnheard, type Connection, type Endpoint } from './connection.js';
import { classify, ClientClosedError, InvalidAuthTokenError, LeaseLostError, LeaseLostReason, UnavailableError, type EtcdError } from './errors.js';
import { toHeader, type Header } from './kv.js';

/** One successful keep-alive. */
export interface KeepAlive {
  header: Header;
  id: bigint;
  /** TTL the keep-alive renewed the lease to. */
  ttlSeconds: number;
}

/** Options of `keepAlive$`. */
export interface KeepAliveOptions {
  /** Interval between keep-alives; default a third of the TTL the server reports (as etcd's Go client). */
  intervalMs?: number;
}

/** Keep-alives are never sent closer together than this, whatever the TTL. */
const intervalMsMin = 100;

/** One `keepAlive$` subscription. */
class Keeper {
  nextSend: Subscription | undefined;
  expiry: Subscription | undefined;
  everSucceeded = false;
  /** Stream failures before the first success (after it, the expiry timer bounds the retrying). */
  failures = 0;
  lastError: EtcdError | undefined;
  done = false;
  constructor(readonly id: bigint, readonly options: KeepAliveOptions, readonly subscriber: Subscriber<KeepAlive>) {}

  stopTimers(): void {
    this.nextSend?.unsubscribe();
    this.nextSend = undefined;
    this.expiry?.unsubscribe();
    this.expiry = undefined;
  }
}

/** The shared LeaseKeepAlive stream of one client. */
export class KeepAliveHub {
  private readonly keepers = new Map<bigint, Set<Keeper>>();
  private stream: ClientDuplexStream<LeaseKeepAliveRequest, LeaseKeepAliveResponse> | undefined;
  private endpoint: Endpoint | undefined;
  private reopen: Subscription | undefined;
  private failures = 0;
  /** Streams opened so far (observability and tests). */
  streamsOpened = 0;

  /** @internal */
  constructor(private readonly connection: Connection, private readonly scheduler: SchedulerLike = asyncScheduler) {}

  /** Number of live `keepAlive$` subscriptions. */
  get size(): number {
    let count = 0;
    for (const set of this.keepers.values()) count += set.size;
    return count;
  }

  /** See `Leases.keepAlive$`. */
  keepAlive$(id: bigint, options: KeepAliveOptions = {}): Observable<KeepAlive> {
    return new Observable<KeepAlive>((subscriber) => {
      if (this.connection.isClosed) {
        subscriber.error(new ClientClosedError('client is closed'));
        return undefined;
      }
      const keeper = new Keeper(id, options, subscriber);
      this.add(keeper);
      return () => this.remove(keeper);
    });
  }

  private add(keeper: Keeper): void {
    const set = this.keepers.get(keeper.id) ?? new Set<Keeper>();
    set.add(keeper);
    this.keepers.set(keeper.id, set);
    if (this.stream !== undefined) this.send(keeper);
    else if (this.reopen === undefined) this.open();
    // Otherwise the pending re-open sends for it.
  }

  private remove(keeper: Keeper): void {
    if (keeper.done) return;
    keeper.done = true;
    keeper.stopTimers();
    const set = this.keepers.get(keeper.id);
    set?.delete(keeper);
    if (set?.size === 0) this.keepers.delete(keeper.id);
    if (this.keepers.size > 0) return;
    this.closeStream();
    this.reopen?.unsubscribe();
    this.reopen = undefined;
  }

  private fail(keeper: Keeper, error: EtcdError): void {
    if (keeper.done) return;
    this.remove(keeper);
    keeper.subscriber.error(error);
  }

  private open(): void {
    this.reopen = undefined;
    if (this.keepers.size === 0 || this.connection.isClosed) return;
    const endpoint = this.connection.current();
    const stream = endpoint.lease.leaseKeepAlive(this.connection.metadata());
    this.stream = stream;
    this.endpoint = endpoint;
    this.streamsOpened++;
    stream.on('data', (response: LeaseKeepAliveResponse) => this.onResponse(stream, response));
    stream.on('error', (error: unknown) => this.onBroken(stream, error));
    stream.on('end', () => this.onBroken(stream, undefined));
    for (const keeper of this.allKeepers()) this.send(keeper);
  }

  private send(keeper: Keeper): void {
    keeper.nextSend?.unsubscribe();
    keeper.nextSend = undefined;
    this.stream?.write(LeaseKeepAliveRequest.fromPartial({ ID: keeper.id }));
  }

  private onResponse(stream: ClientDuplexStream<LeaseKeepAliveRequest, LeaseKeepAliveResponse>, response: LeaseKeepAliveResponse): void {
    if (stream !== this.stream) return;
    this.failures = 0;
    for (const keeper of [...(this.keepers.get(response.ID) ?? [])]) this.renewed(keeper, response);
  }

  /** A response for `keeper`'s lease: TTL 0 means the server no longer has it. */
  private renewed(keeper: Keeper, response: LeaseKeepAliveResponse): void {
    if (keeper.done) return;
    if (response.TTL <= 0n) return this.fail(keeper, new LeaseLostError(keeper.id, LeaseLostReason.NotFound));
    keeper.failures = 0;
    keeper.everSucceeded = true;
    const ttlMs = Number(response.TTL) * 1000;
    keeper.expiry?.unsubscribe();
    keeper.expiry = this.scheduler.schedule(() => this.fail(keeper, new LeaseLostError(keeper.id, LeaseLostReason.Expired, { cause: keeper.lastError })), ttlMs);
    keeper.nextSend?.unsubscribe();
    keeper.nextSend = this.scheduler.schedule(() => this.send(keeper), keeper.options.intervalMs ?? Math.max(intervalMsMin, Math.floor(ttlMs / 3)));
    keeper.subscriber.next({ header: toHeader(response.header), id: response.ID, ttlSeconds: Number(response.TTL) });
  }

  private onBroken(stream: ClientDuplexStream<LeaseKeepAliveRequest, LeaseKeepAliveResponse>, error: unknown): void {
    if (stream !== this.stream) return;
    this.closeStream();
    const typed = error === undefined ? new UnavailableError('keep-alive stream ended', 'unknown') : classify(error);
    if (this.connection.isClosed) return this.failAll(new ClientClosedError('client is closed', { cause: typed }));
    if (typed instanceof UnavailableError && this.endpoint !== undefined) this.connection.failover(this.endpoint);
    const policy = this.connection.retryPolicy();
    for (const keeper of this.allKeepers()) {
      keeper.lastError = typed;
      keeper.failures++;
      if (!keeper.everSucceeded && keeper.failures > policy.retries) this.fail(keeper, typed);
    }
    if (this.keepers.size === 0) return;
    this.reopen = this.scheduler.schedule(() => {
      // The token travels in the stream's metadata: one the server no longer takes is refreshed first.
      if (!(typed instanceof InvalidAuthTokenError)) return this.open();
      this.connection.refreshToken().then(() => this.open(), (refreshError: unknown) => this.failAll(classify(refreshError)));
    }, backoffDelayMs(this.failures++, policy));
  }

  private failAll(error: EtcdError): void {
    for (const keeper of this.allKeepers()) this.fail(keeper, error);
  }

  private allKeepers(): Keeper[] {
    return [...this.keepers.values()].flatMap((set) => [...set]);
  }

  private closeStream(): void {
    for (const keeper of this.allKeepers()) {
      keeper.nextSend?.unsubscribe();
      keeper.nextSend = undefined;
    }
    const stream = this.stream;
    this.stream = undefined;
    if (stream !== undefined) cancelUnheard(stream);
  }

  /** Ends every keep-alive with `ClientClosedError`: the leases are no longer kept. */
  close(): void {
    this.reopen?.unsubscribe();
    this.reopen = undefined;
    this.failAll(new ClientClosedError('client is closed'));
    this.closeStream();
  }
}
