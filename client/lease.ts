// Leases: grant, revoke, time-to-live, list, and keepAlive$ — a cold
// Observable that keeps a lease alive while subscribed.
import type { ClientDuplexStream } from '@grpc/grpc-js';
import { asyncScheduler, Observable, type SchedulerLike, type Subscription } from 'rxjs';
import {
  LeaseGrantRequest,
  LeaseKeepAliveRequest,
  LeaseLeasesRequest,
  LeaseRevokeRequest,
  LeaseTimeToLiveRequest,
  type LeaseGrantResponse,
  type LeaseKeepAliveResponse,
  type LeaseLeasesResponse,
  type LeaseRevokeResponse,
  type LeaseTimeToLiveResponse,
} from '../proto/gen/etcdserverpb/rpc.js';
import { backoffDelayMs } from './backoff.js';
import { Idempotency, Service, type CallOptions, type Connection } from './connection.js';
import { classify, ClientClosedError, InvalidOptionError, LeaseLostError, LeaseLostReason, UnavailableError, type EtcdError } from './errors.js';
import type { Namespace } from './keys.js';
import { toHeader, type Header } from './kv.js';

/** A granted lease. */
export interface LeaseGrant {
  header: Header;
  id: bigint;
  /** TTL the server granted (it may raise a TTL below its minimum). */
  ttlSeconds: number;
}

/** A lease's remaining time. */
export interface LeaseTimeToLive {
  header: Header;
  id: bigint;
  /** Remaining seconds; -1 when the lease does not exist (etcd answers so instead of an error). */
  ttlSeconds: number;
  /** TTL at grant or last keep-alive. */
  grantedTtlSeconds: number;
  /** Keys attached (namespace removed), when asked for. */
  keys: string[];
}

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

/** Lease operations of a client. */
export class Leases {
  /** @internal */
  constructor(
    private readonly connection: Connection,
    private readonly namespace: Namespace,
    private readonly scheduler: SchedulerLike = asyncScheduler,
  ) {}

  /**
   * Grants a lease of `ttlSeconds` (server minimum applies; above 9e9 s →
   * `LeaseTtlTooLargeError`). With `id`, asks for that ID (taken → `LeaseExistsError`).
   * Not re-sent after an ambiguous failure.
   */
  async grant(ttlSeconds: number, options: { id?: bigint } & CallOptions = {}): Promise<LeaseGrant> {
    if (!Number.isSafeInteger(ttlSeconds) || ttlSeconds <= 0) throw new InvalidOptionError('lease TTL must be a positive integer number of seconds');
    const request = LeaseGrantRequest.fromPartial({ TTL: BigInt(ttlSeconds), ID: options.id ?? 0n });
    const response = await this.connection.unary(Service.Lease, 'LeaseGrant', Idempotency.Unsafe, (endpoint, metadata, callOptions) =>
      this.connection.callOnce<LeaseGrantResponse>((callback) => endpoint.lease.leaseGrant(request, metadata, callOptions, callback), options.signal), options);
    return { header: toHeader(response.header), id: response.ID, ttlSeconds: Number(response.TTL) };
  }

  /** Revokes a lease and deletes its keys. Unknown lease → `LeaseNotFoundError`. */
  async revoke(id: bigint, options: CallOptions = {}): Promise<{ header: Header }> {
    const request = LeaseRevokeRequest.fromPartial({ ID: id });
    const response = await this.connection.unary(Service.Lease, 'LeaseRevoke', Idempotency.Unsafe, (endpoint, metadata, callOptions) =>
      this.connection.callOnce<LeaseRevokeResponse>((callback) => endpoint.lease.leaseRevoke(request, metadata, callOptions, callback), options.signal), options);
    return { header: toHeader(response.header) };
  }

  /** Remaining TTL of a lease (`ttlSeconds` -1 when it does not exist), with its keys when `keys` is set. */
  async timeToLive(id: bigint, options: { keys?: boolean } & CallOptions = {}): Promise<LeaseTimeToLive> {
    const request = LeaseTimeToLiveRequest.fromPartial({ ID: id, keys: options.keys ?? false });
    const response = await this.connection.unary(Service.Lease, 'LeaseTimeToLive', Idempotency.Safe, (endpoint, metadata, callOptions) =>
      this.connection.callOnce<LeaseTimeToLiveResponse>((callback) => endpoint.lease.leaseTimeToLive(request, metadata, callOptions, callback), options.signal), options);
    return {
      header: toHeader(response.header),
      id: response.ID,
      ttlSeconds: Number(response.TTL),
      grantedTtlSeconds: Number(response.grantedTTL),
      keys: response.keys.map((key) => this.namespace.strip(key).toString('utf8')),
    };
  }

  /** IDs of every live lease. */
  async leases(options: CallOptions = {}): Promise<bigint[]> {
    const request = LeaseLeasesRequest.fromPartial({});
    const response = await this.connection.unary(Service.Lease, 'LeaseLeases', Idempotency.Safe, (endpoint, metadata, callOptions) =>
      this.connection.callOnce<LeaseLeasesResponse>((callback) => endpoint.lease.leaseLeases(request, metadata, callOptions, callback), options.signal), options);
    return response.leases.map((lease) => lease.ID);
  }

  /**
   * Keeps lease `id` alive while subscribed: sends a keep-alive at once and
   * then every third of the TTL, and emits each successful response.
   * Unsubscribing stops the keep-alives (the lease then expires after its TTL).
   * Errors with `LeaseLostError` — reason `not-found` when the server answers
   * TTL 0 (revoked or expired), reason `expired` when no keep-alive succeeded
   * before the TTL of the last successful one ran out (connection failures in
   * between are retried with backoff, failing over across endpoints). Before
   * the first success, failures beyond the retry policy error with the typed cause.
   * One stream per subscription.
   */
  keepAlive$(id: bigint, options: KeepAliveOptions = {}): Observable<KeepAlive> {
    return new Observable<KeepAlive>((subscriber) => {
      const connection = this.connection;
      const scheduler = this.scheduler;
      const policy = connection.retryPolicy();
      let stream: ClientDuplexStream<LeaseKeepAliveRequest, LeaseKeepAliveResponse> | undefined;
      let nextSend: Subscription | undefined;
      let expiry: Subscription | undefined;
      let reopen: Subscription | undefined;
      let failures = 0;
      let everSucceeded = false;
      let lastError: EtcdError | undefined;
      let done = false;

      const fail = (error: EtcdError) => {
        if (done) return;
        teardown();
        subscriber.error(error);
      };
      const send = () => {
        nextSend = undefined;
        stream?.write(LeaseKeepAliveRequest.fromPartial({ ID: id }));
      };
      const onResponse = (response: LeaseKeepAliveResponse) => {
        if (done) return;
        if (response.TTL <= 0n) return fail(new LeaseLostError(id, LeaseLostReason.NotFound));
        failures = 0;
        everSucceeded = true;
        const ttlMs = Number(response.TTL) * 1000;
        expiry?.unsubscribe();
        expiry = scheduler.schedule(() => fail(new LeaseLostError(id, LeaseLostReason.Expired, { cause: lastError })), ttlMs);
        nextSend?.unsubscribe();
        nextSend = scheduler.schedule(send, options.intervalMs ?? Math.max(100, Math.floor(ttlMs / 3)));
        subscriber.next({ header: toHeader(response.header), id: response.ID, ttlSeconds: Number(response.TTL) });
      };
      let endpoint = connection.current();
      const onBroken = (error: unknown) => {
        if (done) return;
        closeStream();
        const typed = error === undefined ? new UnavailableError('keep-alive stream ended', 'unknown') : classify(error);
        lastError = typed;
        if (connection.isClosed) return fail(new ClientClosedError('client is closed', { cause: typed }));
        if (typed instanceof UnavailableError) connection.failover(endpoint);
        failures++;
        if (!everSucceeded && failures > policy.retries) return fail(typed);
        // After a success the expiry timer bounds how long we keep trying.
        reopen = scheduler.schedule(open, backoffDelayMs(failures - 1, policy));
      };
      const open = () => {
        reopen = undefined;
        if (done) return;
        endpoint = connection.current();
        const opened = endpoint.lease.leaseKeepAlive(connection.metadata());
        stream = opened;
        opened.on('data', onResponse);
        opened.on('error', onBroken);
        opened.on('end', () => onBroken(undefined));
        send();
      };
      const closeStream = () => {
        nextSend?.unsubscribe();
        nextSend = undefined;
        const current = stream;
        stream = undefined;
        if (current === undefined) return;
        current.removeAllListeners();
        current.on('error', () => undefined); // the cancel below reports CANCELLED; nobody listens any more
        current.cancel();
      };
      const teardown = () => {
        done = true;
        closeStream();
        expiry?.unsubscribe();
        reopen?.unsubscribe();
      };

      if (connection.isClosed) {
        subscriber.error(new ClientClosedError('client is closed'));
        return undefined;
      }
      open();
      return teardown;
    });
  }
}
