// The Client facade and `connect`.
import { asyncScheduler, type Observable, type SchedulerLike } from 'rxjs';
import type { Codec } from './codec.js';
import { Cluster } from './cluster.js';
import { Connection, type CallOptions, type ConnectOptions } from './connection.js';
import { KeepAliveHub } from './keep-alive.js';
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
import { Maintenance } from './maintenance.js';
import { runStm, type Stm, type StmOptions, type StmResult } from './stm.js';
import { channelCredentials, transportOf } from './tls.js';
import { Txn, txnCommitter, type TxnCommitter } from './txn.js';
import { WatchHub, type WatchBatch, type WatchOptions, type WatchProgress } from './watch.js';

/** Options of `connect` beyond the connection's: an injectable scheduler for timers (tests). */
export interface ClientOptions extends ConnectOptions {
  /** Scheduler for keep-alive and reconnect timers; default rxjs's asyncScheduler. */
  scheduler?: SchedulerLike;
}

/** What a client and its namespaced views share: the channels, the watch stream and the keep-alive stream. */
interface Shared {
  readonly connection: Connection;
  readonly hub: WatchHub;
  readonly keepAlives: KeepAliveHub;
  readonly cluster: Cluster;
  readonly maintenance: Maintenance;
}

/**
 * A connection to an etcd-v3-compatible cluster (cairn or etcd ≥ 3.4), or a
 * namespaced view of one (`namespace`). Create with `connect`; release with
 * `close()`.
 */
export class Client {
  /** Lease operations and `keepAlive$`. */
  readonly leases: Leases;
  /** Membership: list, add (voter or learner), remove, update, promote. */
  readonly cluster: Cluster;
  /** Status, defragmentation, alarms, hashes, snapshots, leader transfer. */
  readonly maintenance: Maintenance;
  /** The key prefix of this client: every key it sends starts with it (empty without a namespace). */
  readonly namespacePrefix: Buffer;
  private readonly kv: KV;
  private readonly commit: TxnCommitter;

  /** @internal Use `connect`, then `namespace`. */
  constructor(private readonly shared: Shared, private readonly keyspace: Namespace) {
    this.namespacePrefix = Buffer.from(keyspace.prefix); // a copy: changing it must not move the view's keys
    this.kv = new KV(shared.connection, keyspace);
    this.leases = new Leases(shared.connection, keyspace, shared.keepAlives);
    this.cluster = shared.cluster;
    this.maintenance = shared.maintenance;
    this.commit = txnCommitter(shared.connection, keyspace);
  }

  /**
   * A view of this client whose keys live under `prefix` inside this
   * client's namespace: prefixes compose (`connect({namespace: 'app/'})`
   * then `.namespace('tenant-1/')` stores key `k` as `app/tenant-1/k`). Keys,
   * prefixes, ranges, txn comparisons and operations, watches, STM and the
   * keys of `leases.timeToLive` are prefixed on the way out and stripped on
   * the way back; what is not keyed (lease IDs, `compact`, cluster and
   * maintenance calls) is shared. The view shares this client's channels,
   * its watch stream and its keep-alive stream; `close()` on any view closes
   * them all. Recipes given a view keep all their keys inside it.
   */
  namespace(prefix: Key): Client {
    return new Client(this.shared, this.keyspace.child(prefix));
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
    return this.shared.hub.watch$(this.keyspace, selector, options);
  }

  /**
   * Asks the server for a progress notification on the shared watch stream
   * (etcd's WatchProgressRequest, the Go client's `RequestProgress`).
   * Resolves with the revision of the answer: every event up to it has been
   * sent to every watch of this client (and its views). Watches with
   * `progressNotify` also emit it as an empty batch with `progress: true`.
   * Requests made together may be answered by one notification. etcd before
   * 3.4.25 answers at once with its current revision, possibly before it has
   * sent events below it (etcd issue #15220); cairn and later etcd answer
   * once every watch of the stream has caught up. Errors:
   * `NoActiveWatchError` when no `watch$` is subscribed (or the last one
   * leaves before the answer), `AbortedError`, `DeadlineExceededError`,
   * `ClientClosedError`, or the error that ended the stream. A request made
   * while the stream is re-opened is sent on the new stream.
   */
  requestWatchProgress(options: CallOptions = {}): Promise<WatchProgress> {
    return this.shared.hub.requestProgress(options);
  }

  /** Number of live `watch$` subscriptions of this client and its views (they share one stream). */
  get watcherCount(): number {
    return this.shared.hub.size;
  }

  /**
   * Runs `apply` as a software transactional memory transaction (etcd's
   * `concurrency.NewSTM`): reads go through the `Stm` it is given, writes
   * are buffered and committed in one txn if nothing it read changed (per
   * `isolation`, default serializable snapshot); on a conflict `apply` runs
   * again with fresh reads, at most `retries` (default 10) more times, then
   * the call rejects with `StmConflictError`. `apply` must have no effect
   * outside the `Stm`, since it may run several times. An error it throws
   * aborts the transaction (nothing written) and is rethrown. `prefetch`
   * reads keys in one round trip before each run. `signal` and `deadlineMs`
   * bound the whole transaction. Errors of the reads and of the commit
   * (e.g. `CompactedError` for a snapshot compacted meanwhile,
   * `TooManyOperationsError` past the server's --max-txn-ops) are not retried.
   */
  stm<T>(apply: (stm: Stm) => Promise<T> | T, options: StmOptions = {}): Promise<StmResult<T>> {
    return runStm(this.commit, apply, options);
  }

  /**
   * Closes the client and every view of it: open watches complete,
   * keep-alives error with `ClientClosedError` (the lease is no longer
   * kept), pending calls fail, channels close. Idempotent.
   */
  close(): void {
    const { connection, hub, keepAlives } = this.shared;
    if (connection.isClosed) return;
    hub.close();
    keepAlives.close();
    connection.close();
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
  const scheduler = options.scheduler ?? asyncScheduler;
  const maintenance = new Maintenance(connection);
  const shared: Shared = {
    connection,
    hub: new WatchHub(connection, scheduler),
    keepAlives: new KeepAliveHub(connection, scheduler),
    cluster: new Cluster(connection, maintenance),
    maintenance,
  };
  return new Client(shared, new Namespace(options.namespace ?? ''));
}
