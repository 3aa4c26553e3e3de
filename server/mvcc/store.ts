// The MVCC store: every change gets a revision; reads can go back to any
// revision not yet compacted. The store revision starts at 1 and grows by
// exactly one per Put, DeleteRange or Txn that changes something.
//
// Writes go through a WriteTxn inside a backend transaction (opened by the
// applier around a batch of log entries), so a batch and the consistent
// index that records it commit together.
import { silentLog, type Log } from '../log.js';
import { KeyValue } from '../../proto/gen/mvccpb/kv.js';
import { crc32c } from '@node-rs/crc32';
import { nextTurn, type Clock } from '../clock.js';
import { lendEncodedOne } from '../codec.js';
import type { Backend } from './backend.js';
import { metaCompactRevision, metaConsistentIndex, metaScheduledCompactRevision } from './backend.js';
import { CompactedError, FutureRevisionError } from './errors.js';
import { revisionKey } from './key-index.js';
import {
  bytesToRevision,
  isTombstoneBytes,
  revisionBytesLength,
  revisionToBytes,
  type Revision,
} from './revision.js';
import { TreeIndex, type KeyRange } from './tree-index.js';

export interface RangeOptions {
  /** At most this many kvs (0 = no limit); `count` still counts all. */
  limit?: number;
  /** Read at this revision; <= 0 means the current one. */
  revision?: number;
  countOnly?: boolean;
}

export interface RangeResult {
  kvs: KeyValue[];
  count: number;
  /** The store's current revision (not the one read at). */
  revision: number;
}

const keyBucketName = Buffer.from('key');

/**
 * Records a long read (HashKV, a Range of many keys) takes between two
 * pauses. Such a read runs from one backend snapshot in batches and lets the
 * event loop run in between, so the member keeps ticking, sending heartbeats
 * and applying while it reads (about 10 ms of work per batch).
 */
export const readBatchRecordsMax = 4_096;

/** One change a write made: a put (kv as written) or a delete (kv holds the key and the deletion revision). */
export interface ChangeEvent {
  type: 'put' | 'delete';
  kv: KeyValue;
}

/** The changes of one revision, as watchers receive them. */
export interface RevisionChanges {
  revision: number;
  events: ChangeEvent[];
}

const zeroByte = Buffer.from([0]);
/** What a read outside a write transaction sees of writes not committed yet: nothing. */
const noPending: PendingWrites = { written: () => undefined };

/**
 * Walks revision records in key order, readBatchRecordsMax at a time: each
 * next() reads one batch through `read` (from the smallest key after the
 * last one seen), so the caller may pause, or write, between batches.
 */
class BatchCursor {
  private from: Buffer | undefined;
  private over = false;

  constructor(private readonly read: (from: Buffer | undefined, limit: number) => Iterable<{ key: Buffer; value: Buffer }>) {}

  /** Whether the last batch was read (it held fewer records than a full one, possibly none). */
  get done(): boolean {
    return this.over;
  }

  next(each: (key: Buffer, value: Buffer) => void): void {
    let read = 0;
    let last: Buffer | undefined;
    for (const { key, value } of this.read(this.from, readBatchRecordsMax)) {
      read++;
      last = key;
      each(key, value);
    }
    if (read < readBatchRecordsMax || last === undefined) this.over = true;
    else this.from = Buffer.concat([last, zeroByte]); // the smallest key after `last`
  }
}

export class MvccStore {
  index = new TreeIndex();
  private currentRevisionValue = 1;
  /** -1 until the first compaction. */
  private compactRevisionValue = -1;
  private consistentIndexValue = 0;
  /** The removal of compacted records in progress, if any. */
  private removal: Promise<void> | undefined;
  /** Bumped by every compaction and reload: an older removal stops at its next batch. */
  private removalGeneration = 0;
  /** Changes of ended write transactions not yet taken by `takeChanges` (the node takes them after each commit). */
  private changes: RevisionChanges[] = [];

  constructor(
    private readonly backend: Backend,
    /** Gives the turn back between batches of long reads and removals. */
    private readonly clock: Clock,
    /** Told when a compaction's records are gone (etcd's "finished scheduled compaction"). */
    private readonly log: Log = silentLog,
  ) {
    this.restore();
  }

  get currentRevision(): number {
    return this.currentRevisionValue;
  }

  get compactRevision(): number {
    return this.compactRevisionValue;
  }

  /** Index of the last log entry whose effects are in the backend. */
  get consistentIndex(): number {
    return this.consistentIndexValue;
  }

  /** Reads `range` at a revision (see RangeOptions). */
  range(range: KeyRange, options: RangeOptions = {}): RangeResult {
    return this.rangeAt(range, options, this.currentRevisionValue, noPending);
  }

  /** Starts a write; it must run inside `backend.transaction`. */
  write(): WriteTxn {
    return new WriteTxn(this, this.backend);
  }

  /** Records that the log entry `index` was applied (inside the same backend transaction). */
  setConsistentIndex(index: number): void {
    this.consistentIndexValue = index;
    this.backend.putMeta(metaConsistentIndex, u64(index));
  }

  /**
   * Compacts history at `revision` (inside the apply transaction): from now
   * on reads below it fail with CompactedError and the index forgets it.
   * The records no longer needed leave the backend afterwards, in batches
   * with pauses between them (as etcd's scheduled compaction), so a
   * compaction of millions of revisions never holds up the member's loop.
   * Until they are gone nothing reads them: reads at or above `revision` go
   * through the index, and HashKV waits for the removal to finish.
   */
  compact(revision: number): void {
    if (revision <= this.compactRevisionValue) throw new CompactedError();
    if (revision > this.currentRevisionValue) throw new FutureRevisionError();
    this.compactRevisionValue = revision;
    const keep = this.index.compact(revision);
    this.backend.putMeta(metaScheduledCompactRevision, revisionToBytes({ main: revision, sub: 0 }));
    this.scheduleRemoval(revision, keep);
  }

  /** Stops removing compacted records (before the backend closes); a restart finishes the removal. */
  stop(): void {
    this.removalGeneration++;
    this.removal = undefined;
  }

  /** Resolves once the records of every compaction applied so far are removed from the backend. */
  compacted(): Promise<void> {
    return this.removal ?? Promise.resolve();
  }

  /** Starts removing what compacting at `revision` left behind; a running removal is superseded (it covers less). */
  private scheduleRemoval(revision: number, keep: Set<string>): void {
    const generation = ++this.removalGeneration;
    const removal = this.removeCompacted(revision, keep, generation).catch((error: Error) => {
      // A backend that cannot be written is the end of this member (fail-stop): never serve from it.
      throw new Error(`mvcc: removing the records of the compaction at revision ${revision} failed: ${error.message}`, { cause: error });
    });
    this.removal = removal;
    void removal.then(() => {
      if (this.removal === removal) this.removal = undefined;
    });
  }

  private async removeCompacted(revision: number, keep: Set<string>, generation: number): Promise<void> {
    const startedMs = this.clock.nowMs();
    let removed = 0;
    const end = revisionToBytes({ main: revision + 1, sub: 0 });
    const cursor = new BatchCursor((from, limit) => this.backend.revisions(from, end, limit));
    while (!cursor.done) {
      // The apply transaction that scheduled this has committed by the next turn.
      await nextTurn(this.clock);
      if (generation !== this.removalGeneration) return;
      const doomed: Buffer[] = [];
      cursor.next((key) => {
        if (!keep.has(revisionKey(bytesToRevision(key)))) doomed.push(Buffer.from(key));
      });
      this.backend.transaction(() => {
        for (const key of doomed) this.backend.removeRevision(key);
        if (cursor.done) this.backend.putMeta(metaCompactRevision, revisionToBytes({ main: revision, sub: 0 }));
      });
      removed += doomed.length;
    }
    this.log.info('finished scheduled compaction', { 'compact-revision': revision, 'removed-records': removed, took: `${Math.round(this.clock.nowMs() - startedMs)}ms` });
  }

  /**
   * etcd's HashKV: CRC-32C over the bucket name and every (revision, kv)
   * record up to `revision` that a compaction at `revision` would keep.
   */
  async hashKV(revision: number): Promise<{ hash: number; currentRevision: number; compactRevision: number }> {
    const compactRevision = this.compactRevisionValue;
    const currentRevision = this.currentRevisionValue;
    if (revision > 0 && revision <= compactRevision) throw new CompactedError();
    if (revision > 0 && revision > currentRevision) throw new FutureRevisionError();
    const at = revision === 0 ? currentRevision : revision;
    // etcd's hash skips records a compaction left only while some key is kept; hashing once they
    // are gone makes every member's hash the same whatever its removal's progress.
    await this.compacted();
    // The index and the snapshot are taken in the same turn: they agree.
    const keep = this.index.keep(at);
    const snapshot = this.backend.snapshot();
    const lowerMain = compactRevision + 1;
    let hash = crc32c(keyBucketName);
    // As etcd: a negative revision is no error; its upper bound (at + 1 <= 0) is below every revision, so nothing is hashed.
    const end = revisionToBytes({ main: Math.max(0, at + 1), sub: 0 });
    const cursor = new BatchCursor((from, limit) => snapshot.range(from, end, limit));
    try {
      for (;;) {
        cursor.next((key, value) => {
          const found = bytesToRevision(key);
          if (found.main < lowerMain && keep.size > 0 && !keep.has(revisionKey(found))) return;
          hash = crc32c(key, hash);
          hash = crc32c(value, hash);
        });
        if (cursor.done) break;
        await nextTurn(this.clock);
      }
    } finally {
      snapshot.done();
    }
    return { hash, currentRevision, compactRevision };
  }

  /**
   * As `range`, for a client: a result of many keys is read from one
   * backend snapshot in batches, with pauses between them (see
   * readBatchRecordsMax), so it never holds up the member's loop for long.
   */
  async rangeBatched(range: KeyRange, options: RangeOptions = {}): Promise<RangeResult> {
    const current = this.currentRevisionValue;
    const { keys, count } = this.locate(range, options, current);
    if (options.countOnly === true) return { kvs: [], count, revision: current };
    if (keys.length <= readBatchRecordsMax) return { kvs: keys.map((found) => this.readRevision(found.modified, noPending)), count, revision: current };
    const snapshot = this.backend.snapshot();
    try {
      const kvs: KeyValue[] = [];
      for (const found of keys) {
        if (kvs.length > 0 && kvs.length % readBatchRecordsMax === 0) await nextTurn(this.clock);
        const bytes = snapshot.get(revisionToBytes(found.modified));
        if (bytes === undefined) throw new Error(`store: revision ${found.modified.main}.${found.modified.sub} missing from the backend snapshot`);
        kvs.push(KeyValue.decode(bytes));
      }
      return { kvs, count, revision: current };
    } finally {
      snapshot.done();
    }
  }

  /** @internal Shared by reads and write transactions. */
  rangeAt(range: KeyRange, options: RangeOptions, current: number, pending: PendingWrites): RangeResult {
    const { keys, count } = this.locate(range, options, current);
    if (options.countOnly === true) return { kvs: [], count, revision: current };
    const kvs = keys.map((found) => this.readRevision(found.modified, pending));
    return { kvs, count, revision: current };
  }

  /** The revisions a range reads, from the index (and the count of keys in it). */
  private locate(range: KeyRange, options: RangeOptions, current: number): ReturnType<TreeIndex['range']> {
    let at = options.revision ?? 0;
    if (at > current) throw new FutureRevisionError();
    if (at <= 0) at = current;
    if (at < this.compactRevisionValue) throw new CompactedError();
    return this.index.range(range, at, options.countOnly === true ? 1 : options.limit ?? 0);
  }

  /** @internal */
  readRevision(revision: Revision, pending: PendingWrites): KeyValue {
    const fresh = pending.written(revision);
    if (fresh !== undefined) return fresh;
    const bytes = this.backend.getRevision(revisionToBytes(revision));
    if (bytes === undefined) throw new Error(`store: revision ${revision.main}.${revision.sub} missing from backend`);
    return KeyValue.decode(bytes);
  }

  /** @internal Called by WriteTxn.end(). */
  advance(revision: number, events: ChangeEvent[]): void {
    this.currentRevisionValue = revision;
    this.changes.push({ revision, events });
  }

  /** The changes made since the last call, oldest first (call once the backend transaction committed). */
  takeChanges(): RevisionChanges[] {
    const taken = this.changes;
    this.changes = [];
    return taken;
  }

  /** Drops changes of a backend transaction that did not commit. */
  discardChanges(): void {
    this.changes = [];
  }

  /**
   * The changes of revisions [fromRevision, toRevision] read back from the
   * backend, for watchers catching up. At most `revisionsMax` revisions.
   */
  changesBetween(fromRevision: number, toRevision: number, revisionsMax: number): RevisionChanges[] {
    if (fromRevision < this.compactRevisionValue) throw new CompactedError();
    const last = Math.min(toRevision, fromRevision + revisionsMax - 1);
    const found: RevisionChanges[] = [];
    const start = revisionToBytes({ main: fromRevision, sub: 0 });
    const end = revisionToBytes({ main: last + 1, sub: 0 });
    for (const { key, value } of this.backend.revisions(start, end)) {
      const revision = bytesToRevision(key);
      const kv = KeyValue.decode(value);
      const event: ChangeEvent = isTombstoneBytes(key)
        ? { type: 'delete', kv: { ...kv, modRevision: BigInt(revision.main) } }
        : { type: 'put', kv };
      const current = found[found.length - 1];
      if (current !== undefined && current.revision === revision.main) current.events.push(event);
      else found.push({ revision: revision.main, events: [event] });
    }
    return found;
  }

  /**
   * Forgets everything in memory and reads the backend again (after the
   * backend was replaced by a snapshot from the leader).
   */
  reload(): void {
    this.stop(); // a removal in progress belonged to the replaced backend
    this.index = new TreeIndex();
    this.currentRevisionValue = 1;
    this.compactRevisionValue = -1;
    this.consistentIndexValue = 0;
    this.changes = [];
    this.restore();
  }

  /** Rebuilds the index and revisions from the backend. */
  private restore(): void {
    const finished = this.backend.getMeta(metaCompactRevision);
    const scheduled = this.backend.getMeta(metaScheduledCompactRevision) ?? finished;
    if (scheduled !== undefined) this.compactRevisionValue = bytesToRevision(scheduled).main;
    const consistent = this.backend.getMeta(metaConsistentIndex);
    if (consistent !== undefined) this.consistentIndexValue = Number(consistent.readBigUInt64BE(0));
    let last = this.compactRevisionValue > 0 ? this.compactRevisionValue : 1;
    for (const { key, value } of this.backend.revisions()) {
      if (key.length < revisionBytesLength) continue;
      const revision = bytesToRevision(key);
      const kv = KeyValue.decode(value);
      const name = kv.key.toString('latin1');
      if (isTombstoneBytes(key)) {
        this.index.tombstone(name, revision);
      } else if (this.index.isLive(name)) {
        this.index.put(name, revision);
      } else {
        // The first record of a generation; after a compaction the records
        // before it are gone, so its creation and version come from the kv.
        this.index.restore(name, Number(kv.createRevision), revision, Number(kv.version));
      }
      last = Math.max(last, revision.main);
    }
    this.currentRevisionValue = last;
    // A removal a restart cut short: the index read what is left, so compact it again and finish.
    const finishedRevision = finished === undefined ? -1 : bytesToRevision(finished).main;
    if (this.compactRevisionValue > finishedRevision) this.scheduleRemoval(this.compactRevisionValue, this.index.compact(this.compactRevisionValue));
  }
}

/** Writes of a transaction not committed yet, as its own reads see them. */
interface PendingWrites {
  written(revision: Revision): KeyValue | undefined;
}

/**
 * One write transaction: every change gets main revision current + 1 and a
 * growing sub. Reads inside it see its own changes, as in etcd.
 */
export class WriteTxn implements PendingWrites {
  readonly beginRevision: number;
  private readonly main: number;
  private sub = 0;
  /**
   * What this transaction changed, in order: one event per change, so the
   * change at sub revision s is events[s] (its own reads find it there).
   */
  readonly events: ChangeEvent[] = [];

  constructor(private readonly store: MvccStore, private readonly backend: Backend) {
    this.beginRevision = store.currentRevision;
    this.main = this.beginRevision + 1;
  }

  get changes(): number {
    return this.sub;
  }

  /** The revision reads in this transaction see, and the one it will end at. */
  get revision(): number {
    return this.sub > 0 ? this.main : this.beginRevision;
  }

  range(range: KeyRange, options: RangeOptions = {}): RangeResult {
    return this.store.rangeAt(range, options, this.revision, this);
  }

  /** Puts `key`; returns the revision of the change. */
  put(key: Buffer, value: Buffer, lease: bigint): number {
    const name = key.toString('latin1');
    const revision = { main: this.main, sub: this.sub++ };
    const previous = this.store.index.get(name, this.main);
    const kv: KeyValue = {
      key,
      value,
      lease,
      createRevision: BigInt(previous === undefined ? revision.main : previous.created.main),
      modRevision: BigInt(revision.main),
      version: BigInt(previous === undefined ? 1 : previous.version + 1),
    };
    this.backend.putRevision(revisionToBytes(revision), lendEncodedOne(KeyValue, kv), true);
    this.store.index.put(name, revision);
    this.recordChange(revision, { type: 'put', kv });
    return revision.main;
  }

  /** Deletes every live key in `range`; returns how many. */
  deleteRange(range: KeyRange): number {
    const doomed: string[] = [];
    const at = this.revision;
    this.store.index.visit(range, (index) => {
      if (index.get(at) !== undefined) doomed.push(index.key);
    });
    for (const name of doomed) {
      const revision = { main: this.main, sub: this.sub++ };
      const kv = KeyValue.fromPartial({ key: Buffer.from(name, 'latin1') });
      this.backend.putRevision(revisionToBytes(revision, true), lendEncodedOne(KeyValue, kv), true);
      this.store.index.tombstone(name, revision);
      this.recordChange(revision, { type: 'delete', kv: { ...kv, modRevision: BigInt(revision.main) } });
    }
    return doomed.length;
  }

  /** The value this transaction put at `revision`; undefined for any other revision. */
  written(revision: Revision): KeyValue | undefined {
    if (revision.main !== this.main) return undefined;
    const event = this.events[revision.sub];
    return event?.type === 'put' ? event.kv : undefined;
  }

  private recordChange(revision: Revision, event: ChangeEvent): void {
    if (revision.sub !== this.events.length) throw new Error(`store: change ${revision.main}.${revision.sub} recorded as event ${this.events.length}`);
    this.events.push(event);
  }

  /** Ends the transaction; returns the store revision after it. */
  end(): number {
    if (this.sub > 0) this.store.advance(this.main, this.events);
    return this.revision;
  }
}

function u64(value: number): Buffer {
  const bytes = Buffer.allocUnsafe(8);
  bytes.writeBigUInt64BE(BigInt(value));
  return bytes;
}
