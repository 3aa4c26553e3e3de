// Leases: grant, revoke, time-to-live, list, and keepAlive$ — a cold
// Observable that keeps a lease alive while subscribed.
import type { Observable } from 'rxjs';
import {
  LeaseGrantRequest,
  LeaseLeasesRequest,
  LeaseRevokeRequest,
  LeaseTimeToLiveRequest,
  type LeaseGrantResponse,
  type LeaseLeasesResponse,
  type LeaseRevokeResponse,
  type LeaseTimeToLiveResponse,
} from '../proto/gen/etcdserverpb/rpc.js';
import { Idempotency, Service, type CallOptions, type Connection } from './connection.js';
import { InvalidOptionError } from './errors.js';
import type { KeepAlive, KeepAliveHub, KeepAliveOptions } from './keep-alive.js';
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

export type { KeepAlive, KeepAliveOptions } from './keep-alive.js';

/** Lease operations of a client. */
export class Leases {
  /** @internal */
  constructor(
    private readonly connection: Connection,
    private readonly namespace: Namespace,
    private readonly keepAlives: KeepAliveHub,
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
   * Every keep-alive of the client shares one stream (see client/keep-alive.ts).
   */
  keepAlive$(id: bigint, options: KeepAliveOptions = {}): Observable<KeepAlive> {
    return this.keepAlives.keepAlive$(id, options);
  }
}
