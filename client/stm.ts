// Software transactional memory over etcd transactions, with the four
// isolation levels of etcd's Go client (clientv3/concurrency/stm.go).
//
// The application's function reads keys through the STM (each read is
// remembered in a read set) and buffers its writes (the write set); nothing
// is written until the function returns. Then one txn commits the writes if
// nothing the function saw has changed since — `modRevision` of every key
// read is still what was read (a missing key: 0) — and, under serializable
// snapshot isolation, no key being written was changed after the snapshot
// the reads came from. When the txn fails, the function runs again from the
// start: that is a conflict, and `retries` bounds how many are tolerated.
//
// Worked example (serializable snapshot, two clients incrementing "n" = 5 at revision 9):
//   A reads n (5, modRevision 7) at revision 9; B does the same.
//   A commits If(mod(n) = 7 ∧ mod(n) < 10) Then(put n 6) → succeeds at revision 10.
//   B commits the same txn → fails (mod(n) is now 10); its Else branch re-reads
//   n (6, modRevision 10) in the same round trip, so B's second run starts
//   from that snapshot without another read, and commits n = 7 at revision 11.
import { bytesCodec, type Codec } from './codec.js';
import type { CallOptions } from './connection.js';
import { AbortedError, DeadlineExceededError, InvalidOptionError, StmConflictError } from './errors.js';
import { keyBytes, type Key } from './keys.js';
import { rawValueBytes, type Header, type KeyValue, type RawValue } from './kv.js';
import { compare, op, type Comparison, type Op, type TxnCommitter, type TxnResult } from './txn.js';

/** How STM transactions interfere (etcd's `concurrency.Isolation`). */
export const Isolation = {
  /**
   * Reads come from one snapshot (the revision of the first read), and the
   * commit fails if a key read or written changed after it. The default; the
   * strictest.
   */
  SerializableSnapshot: 'serializable-snapshot',
  /** Reads come from one snapshot; the commit fails if a key read changed. Blind writes are not checked. */
  Serializable: 'serializable',
  /** Each key is read once (latest, member-local); the commit fails if a key read changed. */
  RepeatableReads: 'repeatable-reads',
  /** Each key is read once (latest, member-local); the commit never fails: no conflict detection, writes are last-writer-wins. */
  ReadCommitted: 'read-committed',
} as const;
/** How STM transactions interfere. */
export type Isolation = (typeof Isolation)[keyof typeof Isolation];

/** Options of `Client.stm`. The call options bound the whole transaction, every attempt included. */
export interface StmOptions extends CallOptions {
  /** Default `Isolation.SerializableSnapshot`. */
  isolation?: Isolation;
  /** Conflicts tolerated after the first attempt before `StmConflictError`; default 10, 0 = one attempt only. */
  retries?: number;
  /** Keys read in one round trip before each attempt (the Go client's WithPrefetch): later reads of them are free. */
  prefetch?: readonly Key[];
}

/** Options of `Stm.put`. */
export interface StmPutOptions<V> {
  /** Attach the key to this lease. */
  lease?: bigint;
  /** Encodes the value; default: the value is bytes or a UTF-8 string. */
  codec?: Codec<V>;
}

/** What the application's function reads and writes through. Valid only during the run it was passed to. */
export interface Stm {
  /** The key's value as this transaction sees it (its own writes first); `undefined` when missing or deleted. */
  get(key: Key): Promise<Buffer | undefined>;
  get<V>(key: Key, options: { codec: Codec<V> }): Promise<V | undefined>;
  /** The key's `modRevision` as read by this transaction (0n when missing); reads it if not read yet. */
  rev(key: Key): Promise<bigint>;
  /** Buffers a write of the key, applied at commit. */
  put(key: Key, value: RawValue, options?: StmPutOptions<RawValue>): void;
  put<V>(key: Key, value: V, options: StmPutOptions<V> & { codec: Codec<V> }): void;
  /** Buffers a delete of the key, applied at commit. */
  delete(key: Key): void;
}

/** Result of a committed STM transaction. */
export interface StmResult<T> {
  /** What the application's function returned on the attempt that committed. */
  value: T;
  header: Header;
  /** Store revision after the commit (unchanged when nothing was written). */
  revision: bigint;
  /** Attempts that failed because another writer changed what they read (this one's predecessors). */
  conflicts: number;
}

const retriesDefault = 10;

/** A key read by an attempt: what it was (undefined = missing) and the store revision of the read. */
interface ReadEntry {
  key: Buffer;
  kv: KeyValue<Buffer> | undefined;
  revision: bigint;
}

/** A buffered write: a value to put, or undefined to delete. */
interface WriteEntry {
  key: Buffer;
  value: Buffer | undefined;
  lease: bigint | undefined;
}

/** Map keys for byte keys: latin1 is one character per byte, so distinct keys stay distinct. */
const mapKey = (key: Buffer): string => key.toString('latin1');

/** Whether reads come from one snapshot and a failed commit re-reads in its Else branch. */
function snapshotReads(isolation: Isolation): boolean {
  return isolation === Isolation.SerializableSnapshot || isolation === Isolation.Serializable;
}

/** One run of the application's function: its read set, write set and snapshot revision. */
class Attempt implements Stm {
  readonly reads = new Map<string, ReadEntry>();
  readonly writes = new Map<string, WriteEntry>();
  /** Serializable levels: the revision every read after the first is made at. */
  private snapshotRevision: bigint | undefined;
  /** Reads run one after another, so the first one alone fixes the snapshot. */
  private readChain: Promise<unknown> = Promise.resolve();
  finished = false;

  constructor(
    private readonly run: StmRun,
    /** Keys the last failed commit re-read (serializable levels): taken into the read set when first read. */
    private readonly prefetched: Map<string, ReadEntry>,
  ) {}

  get(key: Key): Promise<Buffer | undefined>;
  get<V>(key: Key, options: { codec: Codec<V> }): Promise<V | undefined>;
  async get<V>(key: Key, options: { codec?: Codec<V> } = {}): Promise<V | Buffer | undefined> {
    this.assertRunning();
    const codec = (options.codec ?? bytesCodec) as Codec<V | Buffer>;
    const written = this.writes.get(mapKey(keyBytes(key)));
    if (written !== undefined) return written.value === undefined ? undefined : codec.decode(written.value);
    const [entry] = await this.read([key]);
    return entry?.kv === undefined ? undefined : codec.decode(entry.kv.value);
  }

  async rev(key: Key): Promise<bigint> {
    this.assertRunning();
    const [entry] = await this.read([key]);
    return entry?.kv?.modRevision ?? 0n;
  }

  put<V>(key: Key, value: V, options: StmPutOptions<V> = {}): void {
    this.assertRunning();
    const bytes = keyBytes(key);
    if (bytes.length === 0) throw new InvalidOptionError('stm: a key must not be empty');
    const encoded = options.codec !== undefined ? options.codec.encode(value) : rawValueBytes(value as RawValue);
    this.writes.set(mapKey(bytes), { key: bytes, value: encoded, lease: options.lease });
  }

  delete(key: Key): void {
    this.assertRunning();
    const bytes = keyBytes(key);
    if (bytes.length === 0) throw new InvalidOptionError('stm: a key must not be empty');
    this.writes.set(mapKey(bytes), { key: bytes, value: undefined, lease: undefined });
  }

  /** Reads `keys` (each at most once per attempt), in one txn for those not read yet. */
  read(keys: readonly Key[]): Promise<ReadEntry[]> {
    const next = this.readChain.then(() => this.readNow(keys.map(keyBytes)));
    this.readChain = next.catch(() => undefined);
    return next;
  }

  private async readNow(keys: Buffer[]): Promise<ReadEntry[]> {
    const firstRead = this.reads.size === 0;
    for (const key of keys) {
      const id = mapKey(key);
      const prefetched = this.prefetched.get(id);
      if (prefetched === undefined) continue;
      this.prefetched.delete(id);
      this.reads.set(id, prefetched);
    }
    const missing = keys.filter((key, index) => !this.reads.has(mapKey(key)) && keys.findIndex((other) => other.equals(key)) === index);
    if (missing.length > 0) {
      const result = await this.run.commit({ compares: [], success: missing.map((key) => op.get(key, this.readOptions())), failure: [] });
      missing.forEach((key, index) => {
        const response = result.responses[index];
        const kv = response?.type === 'get' ? response.kvs[0] : undefined;
        this.reads.set(mapKey(key), { key, kv, revision: result.revision });
      });
    }
    const entries = keys.map((key) => this.reads.get(mapKey(key)) as ReadEntry);
    // The transaction's snapshot is the one its first read saw (Go: "txn's base revision is defined by the first read").
    if (firstRead && snapshotReads(this.run.isolation) && entries[0] !== undefined) this.snapshotRevision = entries[0].revision;
    return entries;
  }

  /** Serializable levels read at the snapshot, member-local; the others read the latest, member-local; the first snapshot read is linearizable. */
  private readOptions(): { revision?: bigint; serializable: boolean } {
    if (!snapshotReads(this.run.isolation)) return { serializable: true };
    return this.snapshotRevision === undefined ? { serializable: false } : { revision: this.snapshotRevision, serializable: true };
  }

  /** The commit's conditions for this attempt's isolation level. */
  conditions(): Comparison[] {
    const isolation = this.run.isolation;
    if (isolation === Isolation.ReadCommitted) return [];
    const unchanged = [...this.reads.values()].map((entry) => compare.modRevision(entry.key, '=', entry.kv?.modRevision ?? 0n));
    if (isolation !== Isolation.SerializableSnapshot || this.reads.size === 0) return unchanged;
    // Written keys must not have changed after the earliest read's revision (no reads: nothing to compare with).
    let snapshot = this.snapshotRevision ?? 0n;
    for (const entry of this.reads.values()) if (entry.revision < snapshot) snapshot = entry.revision;
    return [...unchanged, ...[...this.writes.values()].map((entry) => compare.modRevision(entry.key, '<', snapshot + 1n))];
  }

  operations(): Op[] {
    return [...this.writes.values()].map((entry) =>
      entry.value === undefined ? op.delete(entry.key) : op.put(entry.key, entry.value, entry.lease === undefined ? {} : { lease: entry.lease }));
  }

  /** Re-reads of every key read, run by a failed commit so the next attempt needs no round trip for them. */
  rereads(): Op[] {
    return snapshotReads(this.run.isolation) ? [...this.reads.values()].map((entry) => op.get(entry.key)) : [];
  }

  private assertRunning(): void {
    if (this.finished) throw new InvalidOptionError('stm: this Stm belongs to a finished attempt; use the one passed to the current run');
  }
}

/** What an STM transaction runs with. */
interface StmRun {
  isolation: Isolation;
  commit(spec: { compares: Comparison[]; success: Op[]; failure: Op[] }): Promise<TxnResult>;
}

/** The call options of one request of an STM transaction: what is left of its deadline, and its signal. */
function remaining(options: StmOptions, deadline: number | undefined): CallOptions {
  if (options.signal?.aborted === true) throw new AbortedError('stm aborted', { cause: options.signal.reason });
  if (deadline === undefined) return { signal: options.signal };
  const left = deadline - Date.now();
  if (left <= 0) throw new DeadlineExceededError('deadline exceeded');
  return { signal: options.signal, deadlineMs: left };
}

/**
 * Runs `apply` as an STM transaction with `committer` (a client's, so its
 * namespace applies); see `Client.stm`.
 */
export async function runStm<T>(committer: TxnCommitter, apply: (stm: Stm) => Promise<T> | T, options: StmOptions = {}): Promise<StmResult<T>> {
  const isolation = options.isolation ?? Isolation.SerializableSnapshot;
  if (!Object.values(Isolation).includes(isolation)) throw new InvalidOptionError(`unknown isolation level ${String(isolation)}`);
  const retries = options.retries ?? retriesDefault;
  if (!Number.isSafeInteger(retries) || retries < 0) throw new InvalidOptionError('retries must be a non-negative integer');
  const deadline = options.deadlineMs === undefined ? undefined : Date.now() + options.deadlineMs;
  const run: StmRun = { isolation, commit: (spec) => committer(spec, remaining(options, deadline)) };
  let prefetched = new Map<string, ReadEntry>();
  for (let conflicts = 0; ; conflicts++) {
    const attempt = new Attempt(run, prefetched);
    let value: T;
    try {
      if (options.prefetch !== undefined && options.prefetch.length > 0) await attempt.read(options.prefetch);
      value = await apply(attempt);
    } finally {
      attempt.finished = true;
    }
    const result = await run.commit({ compares: attempt.conditions(), success: attempt.operations(), failure: attempt.rereads() });
    if (result.succeeded) return { value, header: result.header, revision: result.revision, conflicts };
    if (conflicts >= retries) throw new StmConflictError(conflicts + 1);
    prefetched = new Map();
    // Only the serializable levels re-read in the Else branch; the others read afresh.
    if (!snapshotReads(isolation)) continue;
    [...attempt.reads.values()].forEach((entry, index) => {
      const response = result.responses[index];
      const kv = response?.type === 'get' ? response.kvs[0] : undefined;
      prefetched.set(mapKey(entry.key), { key: entry.key, kv, revision: result.revision });
    });
  }
}
