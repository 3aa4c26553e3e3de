// The Client facade and `connect`.
import { asyncScheduler, type Observable, type SchedulerLike } from 'rxjs';
import type { Codec } from './codec.js';
import { Cluster } from './cluster.js';
import { Connection, type CallOptions, type ConnectOptions } from './connection.js';
import type { Key, KeySelector } from './keys.js';
import { Namespace } from './keys.js';
import {
  KV,
  type DeleteOptions,
  type DeleteResult,
  type KeyValue,
  type PutOptions,
  type PutResult,
  type RangeOptions,
  type RangeResult,
  type RawValue,
  type CompactOptions,
  type Header,
} from './kv.js';
import { Leases } from './lease.js';
import { channelCredentials, transportOf } from './tls.js';
import { Txn, txnCommitter } from './txn.js';
import { WatchHub, type WatchBatch, type WatchOptions } from './watch.js';

/** Options of `connect` beyond the connection's: an injectable scheduler for timers (tests). */
export interface ClientOptions extends ConnectOptions {
  /** Scheduler for keep-alive and reconnect timers; default rxjs's asyncScheduler. */
  scheduler?: SchedulerLike;
}

/**
 * A connection to an etcd-v3-compatible cluster (cairn or etcd ≥ 3.4).
 * Create with `connect`; release with `close()`.
 */
export class Client {
  /** Lease operations and `keepAlive$`. */
  readonly leases: Leases;
  /** Membership, status, leader transfer. */
  readonly cluster: Cluster;
  private readonly kv: KV;
  private readonly hub: WatchHub;
  private readonly commit;

  /** @internal Use `connect`. */
  constructor(private readonly connection: Connection, options: ClientOptions) {
    const namespace = new Namespace(options.namespace ?? '');
    const scheduler = options.scheduler ?? asyncScheduler;
    this.kv = new KV(connection, namespace);
    this.leases = new Leases(connection, namespace, scheduler);
    this.cluster = new Cluster(connection);
    this.hub = new WatchHub(connection, namespace, scheduler);
    this.commit = txnCommitter(connection, namespace);
  }

  /** Reads one key; `undefined` when missing. See `KV.get`. */
  get(key: Key, options?: RangeOptions & CallOptions): Promise<KeyValue<Buffer> | undefined>;
  get<V>(key: Key, options: RangeOptions & CallOptions & { codec: Codec<V> }): Promise<KeyValue<V> | undefined>;
  get<V>(key: Key, options?: RangeOptions & CallOptions & { codec?: Codec<V> }): Promise<KeyValue<V | Buffer> | undefined> {
    return this.kv.get(key, options as RangeOptions & CallOptions & { codec: Codec<V> });
  }

  /** Reads a key, a `{ prefix }` or a `{ range }` with the range options. See `KV.getRange`. */
  getRange(selector: KeySelector, options?: RangeOptions & CallOptions): Promise<RangeResult<Buffer>>;
  getRange<V>(selector: KeySelector, options: RangeOptions & CallOptions & { codec: Codec<V> }): Promise<RangeResult<V>>;
  getRange<V>(selector: KeySelector, options?: RangeOptions & CallOptions & { codec?: Codec<V> }): Promise<RangeResult<V | Buffer>> {
    return this.kv.getRange(selector, options as RangeOptions & CallOptions & { codec: Codec<V> });
  }

  /** Writes a key (bytes or UTF-8 string, or any value with a codec). See `KV.put`. */
  put(key: Key, value: RawValue | undefined, options?: PutOptions & CallOptions): Promise<PutResult<Buffer>>;
  put<V>(key: Key, value: V, options: PutOptions & CallOptions & { codec: Codec<V> }): Promise<PutResult<V>>;
  put<V>(key: Key, value: V, options?: PutOptions & CallOptions & { codec?: Codec<V> }): Promise<PutResult<V | Buffer>> {
    return this.kv.put(key, value, options as PutOptions & CallOptions & { codec: Codec<V> });
  }

  /** Deletes a key, a `{ prefix }` or a `{ range }`. See `KV.delete`. */
  delete(selector: KeySelector, options?: DeleteOptions & CallOptions): Promise<DeleteResult<Buffer>>;
  delete<V>(selector: KeySelector, options: DeleteOptions & CallOptions & { codec: Codec<V> }): Promise<DeleteResult<V>>;
  delete<V>(selector: KeySelector, options?: DeleteOptions & CallOptions & { codec?: Codec<V> }): Promise<DeleteResult<V | Buffer>> {
    return this.kv.delete(selector, options as DeleteOptions & CallOptions & { codec: Codec<V> });
  }

  /** Compacts history before `revision`. See `KV.compact`. */
  compact(revision: bigint, options?: CompactOptions & CallOptions): Promise<{ header: Header; revision: bigint }> {
    return this.kv.compact(revision, options);
  }

  /** A new txn builder bound to this client: `.if(...)`, `.then([...])`, `.else([...])`, `.commit()`. */
  txn(): Txn {
    return new Txn(this.commit);
  }

  /**
   * A cold Observable of the changes to a key, `{ prefix }` or `{ range }`,
   * one batch per revision. Subscribing creates the watch (all watches share one
   * stream); unsubscribing cancels it on the server. Survives disconnects and
   * failover by resuming at the revision after the last delivered one.
   * Errors: `CompactedError` (with `compactRevision`) when the start or resume
   * revision is compacted; `PermissionDeniedError` when auth refuses it (the
   * server cancels it with that error as reason); `WatchCanceledError` when
   * the server cancels it for another reason;
   * `ClientClosedError` when subscribed after `close()`. Completes when the client closes.
   */
  watch$(selector: KeySelector, options?: WatchOptions<Buffer>): Observable<WatchBatch<Buffer>>;
  watch$<V>(selector: KeySelector, options: WatchOptions<V> & { codec: Codec<V> }): Observable<WatchBatch<V>>;
  watch$<V>(selector: KeySelector, options: WatchOptions<V> = {}): Observable<WatchBatch<V>> {
    return this.hub.watch$(selector, options);
  }

  /** Number of live `watch$` subscriptions (they share one stream). */
  get watcherCount(): number {
    return this.hub.size;
  }

  /**
   * Closes the client: open watches complete, keep-alives error with
   * `ClientClosedError` (the lease is no longer kept), pending calls fail,
   * channels close. Idempotent.
   */
  close(): void {
    if (this.connection.isClosed) return;
    this.hub.close();
    this.connection.close();
  }
}

/**
 * Connects to a cluster: waits until one endpoint accepts a connection (within
 * `dialTimeoutMs`, trying each endpoint in turn) and authenticates when `auth`
 * is given. Rejects with `UnavailableError` when no endpoint is reachable,
 * `AuthFailedError` on bad credentials, `InvalidOptionError` on bad options
 * (`InsecureEndpointError` for an http:// endpoint beside TLS), and
 * `UnavailableError` when no endpoint completes the TLS handshake (a server
 * certificate not signed by `tls.ca`, or a client certificate the server refuses).
 */
export async function connect(options: ClientOptions & CallOptions): Promise<Client> {
  const connection = new Connection(options, await channelCredentials(transportOf(options)));
  try {
    await connection.open(options);
  } catch (error) {
    connection.close();
    throw error;
  }
  return new Client(connection, options);
}
