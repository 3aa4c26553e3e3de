// The MVCC backend on lmdb: bucket "key" maps revision bytes to an encoded
// mvccpb.KeyValue; bucket "meta" holds the consistent index (the last log
// index applied) and the compaction revision.
//
// lmdb runs with noSync: the WAL is the source of truth and is fsynced before
// anything is applied. A crash of the process loses nothing lmdb committed
// (the pages are in the OS cache); after a restart the node replays the WAL
// from the consistent index stored here, in the same transaction as the data.
import { open, type Database, type RootDatabase } from 'lmdb';
import { mkdirSync, readdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { syncPath } from '../storage/fsync.js';

export const metaConsistentIndex = 'consistent_index';
/** The revision of the last compaction whose records are all removed from the backend. */
export const metaCompactRevision = 'finishedCompactRev';
/** The revision of the last compaction applied; its records may still be being removed (etcd's names). */
export const metaScheduledCompactRevision = 'scheduledCompactRev';

/** Names the live lmdb environment directory (db-<generation>); replaced atomically by a defragmentation. */
const currentFile = 'CURRENT';
/** lmdb's two meta pages at the start of the data file, in use whatever the trees hold. */
const metaPages = 2;

/** What lmdb's getStats reports of one tree (a database, or the free list). */
interface TreeStats {
  treeBranchPageCount: number;
  treeLeafPageCount: number;
  overflowPages: number;
}

/** What lmdb's getStats reports of the environment: the main tree's stats, the free list's, and the pages handed out. */
interface EnvironmentStats extends TreeStats {
  pageSize: number;
  lastPageNumber: number;
  free: TreeStats;
}

export class Backend {
  private root!: RootDatabase;
  private keys!: Database<Buffer, Buffer>;
  private meta!: Database<Buffer, string>;
  private leaseBucket!: Database<Buffer, Buffer>;
  private generation: number;
  /** sizeBytes() as last measured: again only once a transaction committed since (lmdb's getStats is not free). */
  private allocatedBytes = 0;
  private sizeStale = true;
  /** lmdb's page size (the operating system's). */
  private pageBytes = 0;
  /** Inside transaction(): lmdb runs each write at once, copying its value. */
  private inTransaction = false;
  /** sync() calls not done yet: an environment closes only after them. */
  private readonly syncs = new Set<Promise<void>>();

  constructor(readonly dir: string) {
    mkdirSync(dir, { recursive: true });
    this.generation = readGeneration(dir);
    // Anything but the current environment is a copy a crash interrupted, or one it replaced.
    for (const name of readdirSync(dir)) {
      const leftover = (name.startsWith('db-') && name !== `db-${this.generation}`) || name.startsWith('incoming-') || name.startsWith('outgoing-');
      if (leftover) rmSync(join(dir, name), { recursive: true, force: true });
    }
    this.openEnvironment();
  }

  private openEnvironment(): void {
    this.root = open({ path: join(this.dir, `db-${this.generation}`), noSync: true, maxDbs: 4 });
    this.keys = this.root.openDB<Buffer, Buffer>('key', { keyEncoding: 'binary', encoding: 'binary' });
    this.meta = this.root.openDB<Buffer, string>('meta', { keyEncoding: 'ordered-binary', encoding: 'binary' });
    this.leaseBucket = this.root.openDB<Buffer, Buffer>('lease', { keyEncoding: 'binary', encoding: 'binary' });
    this.pageBytes = (this.root.getStats() as EnvironmentStats).pageSize;
    this.measure();
  }

  /**
   * Rewrites the environment without its free pages. The caller must keep
   * writes out until it resolves (reads may go on: they are served by the
   * old environment until the new one takes over in one synchronous step).
   */
  async defragment(): Promise<void> {
    const next = this.generation + 1;
    const target = join(this.dir, `db-${next}`);
    rmSync(target, { recursive: true, force: true });
    mkdirSync(target);
    await this.root.backup(target, true);
    await this.switchTo(next);
  }

  /**
   * Writes a consistent, compacted copy of the environment into `dir`
   * (a snapshot for a member that is behind); returns the data file's path.
   */
  async copyTo(dir: string): Promise<string> {
    mkdirSync(dir, { recursive: true });
    await this.root.backup(dir, true);
    return join(dir, 'data.mdb');
  }

  /**
   * Replaces the environment with the data file at `path` (a snapshot from
   * the leader), atomically: a crash leaves either the old or the new one.
   */
  async install(path: string): Promise<void> {
    const next = this.generation + 1;
    const target = join(this.dir, `db-${next}`);
    rmSync(target, { recursive: true, force: true });
    mkdirSync(target);
    renameSync(path, join(target, 'data.mdb'));
    await this.switchTo(next);
  }

  /** Makes db-<next> (complete in its directory) the live environment. */
  private async switchTo(next: number): Promise<void> {
    const target = join(this.dir, `db-${next}`);
    syncPath(join(target, 'data.mdb'));
    syncPath(target);
    writeFileSync(join(this.dir, `${currentFile}.tmp`), `db-${next}\n`);
    syncPath(join(this.dir, `${currentFile}.tmp`));
    renameSync(join(this.dir, `${currentFile}.tmp`), join(this.dir, currentFile));
    syncPath(this.dir);
    const old = this.root;
    const oldDir = join(this.dir, `db-${this.generation}`);
    this.generation = next;
    this.openEnvironment();
    await Promise.all(this.syncs);
    await old.close();
    rmSync(oldDir, { recursive: true, force: true });
  }

  /** Runs `work` in one synchronous write transaction: all of it commits, or none. */
  transaction<T>(work: () => T): T {
    const outer = this.inTransaction;
    this.inTransaction = true;
    try {
      return this.root.transactionSync(work);
    } finally {
      this.inTransaction = outer;
      this.sizeStale = true;
    }
  }

  /**
   * Writes a revision's record. Inside a transaction lmdb copies `value` at
   * once, so it may be lent (codec.ts lendEncoded): the caller may reuse its
   * bytes on return. Outside one, lmdb keeps a pointer to them until its
   * write thread commits, so they must be the caller's to give away.
   */
  putRevision(revision: Buffer, value: Uint8Array, lent = false): void {
    if (lent && !this.inTransaction) throw new Error('backend: a lent value written outside a write transaction');
    void this.keys.put(revision, Buffer.from(value.buffer, value.byteOffset, value.length));
  }

  removeRevision(revision: Buffer): void {
    void this.keys.remove(revision);
  }

  getRevision(revision: Buffer): Buffer | undefined {
    return this.keys.get(revision);
  }

  /**
   * A consistent view of the revision records as they are now, that stays
   * valid across event-loop turns (one lmdb read transaction) until `done`:
   * long reads go in batches with pauses between them, and neither writes,
   * a compaction nor a defragmentation meanwhile changes what they see (the
   * environment a defragmentation replaces closes once its readers are done).
   */
  snapshot(): RevisionSnapshot {
    const keys = this.keys;
    const transaction = keys.useReadTransaction();
    let open = true;
    return {
      get: (revision) => keys.get(revision, { transaction }),
      range: (start, end, limit) => keys.getRange({ start, end, limit, transaction }),
      done: () => {
        if (open) transaction.done();
        open = false;
      },
    };
  }

  /** Revision records with start <= key < end, in order (at most `limit`). */
  *revisions(start?: Buffer, end?: Buffer, limit?: number): Generator<{ key: Buffer; value: Buffer }> {
    for (const { key, value } of this.keys.getRange({ start, end, limit })) yield { key, value };
  }

  /** How many revision records the backend holds (lmdb keeps the count: no walk). */
  revisionCount(): number {
    return (this.keys.getStats() as { entryCount: number }).entryCount;
  }

  /** The last revision record (the highest revision), if any. */
  lastRevision(): Buffer | undefined {
    for (const { key } of this.keys.getRange({ reverse: true, limit: 1 })) return key;
    return undefined;
  }

  putLease(id: Buffer, value: Uint8Array): void {
    void this.leaseBucket.put(id, Buffer.from(value.buffer, value.byteOffset, value.length));
  }

  removeLease(id: Buffer): void {
    void this.leaseBucket.remove(id);
  }

  /** Every stored lease record. */
  *leases(): Generator<Buffer> {
    for (const { value } of this.leaseBucket.getRange({})) yield value;
  }

  /** Every record of `database` in key order: what a snapshot file's status counts and hashes. */
  *records(database: BackendDatabase): Generator<{ key: Buffer; value: Buffer }> {
    const db = database === 'key' ? this.keys : database === 'lease' ? this.leaseBucket : this.meta;
    // The meta database's keys are names (strings); the others' are bytes.
    for (const { key, value } of db.getRange({})) yield { key: Buffer.from(key as Buffer | string), value };
  }

  getMeta(name: string): Buffer | undefined {
    return this.meta.get(name);
  }

  putMeta(name: string, value: Buffer): void {
    void this.meta.put(name, value);
  }

  /**
   * The backend's size, as etcd's Backend.Size (bbolt's high-water mark):
   * the bytes of every page lmdb has handed out, free ones included, as of
   * the last commit. The quota weighs this. Not the file's length, which lmdb
   * may extend ahead of use (a write map, or Windows, where the file is the
   * whole map), nor the map size, which grows in steps.
   */
  sizeBytes(): number {
    if (this.sizeStale) this.measure();
    return this.allocatedBytes;
  }

  /**
   * Bytes of the pages the trees use, as etcd's SizeInUse (size minus free
   * pages): what a defragmentation would keep.
   */
  sizeInUseBytes(): number {
    const stats = this.root.getStats() as EnvironmentStats;
    let pages = metaPages + treePages(stats) + treePages(stats.free);
    for (const db of [this.keys, this.meta, this.leaseBucket]) pages += treePages(db.getStats() as TreeStats);
    return pages * stats.pageSize;
  }

  private measure(): void {
    // lmdb's env.info() (mdb_env_info) is the part of getStats() this needs, at a fifth of its cost (~1.2 against ~5.9 µs here).
    const info = (this.root as unknown as { env: { info(): { lastPageNumber: number } } }).env.info();
    this.allocatedBytes = this.pageBytes * (info.lastPageNumber + 1);
    this.sizeStale = false;
  }

  /** Forces everything committed so far to disk. */
  sync(): Promise<void> {
    // lmdb's typings omit sync(); it calls back once the environment is flushed.
    const root = this.root as unknown as { sync(callback: (error: unknown) => void): void };
    const flushed = new Promise<void>((resolve, reject) => root.sync((error) => (error ? reject(error) : resolve())));
    const done = flushed.catch(() => undefined).finally(() => this.syncs.delete(done));
    this.syncs.add(done);
    return flushed;
  }

  /** Closes the environment once the syncs asked for are done. */
  async close(): Promise<void> {
    // lmdb runs a sync on a thread of its own; closing the environment under it crashes the process (SIGSEGV).
    await Promise.all(this.syncs);
    await this.root.close();
  }
}

/** The databases of the environment, in the order a snapshot's status walks them. */
export const backendDatabases = ['key', 'lease', 'meta'] as const;
export type BackendDatabase = (typeof backendDatabases)[number];

/** See Backend.snapshot. */
export interface RevisionSnapshot {
  get(revision: Buffer): Buffer | undefined;
  /** Records with start <= key < end, in order; at most `limit` of them. */
  range(start: Buffer | undefined, end: Buffer | undefined, limit?: number): Iterable<{ key: Buffer; value: Buffer }>;
  done(): void;
}

function treePages(stats: TreeStats): number {
  return stats.treeBranchPageCount + stats.treeLeafPageCount + stats.overflowPages;
}

function readGeneration(dir: string): number {
  try {
    const name = readFileSync(join(dir, currentFile), 'utf8').trim();
    const match = /^db-(\d+)$/.exec(name);
    if (match === null) throw new Error(`backend: ${currentFile} names "${name}"`);
    return Number(match[1]);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return 0;
    throw error;
  }
}
