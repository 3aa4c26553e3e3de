/**
 * MemoryStorage: a Storage kept in arrays, for tests and the simulator (and as the in-memory index
 * that a disk-backed implementation keeps beside its WAL).
 *
 * Layout: `ents[0]` is a dummy entry holding the snapshot's index and term, so that term(i) works
 * for i = firstIndex() - 1, which the leader needs to send the first entry after a snapshot.
 *
 *   snapshot at index 5 (term 2), entries 6..8:
 *   ents = [ {index 5, term 2, dummy}, {6}, {7}, {8} ]   firstIndex() = 6, lastIndex() = 8
 */
import { invariant } from './assert.js';
import {
  SnapshotOutOfDateError,
  StorageCompactedError,
  StorageUnavailableError,
} from './errors.js';
import type { InitialState, Storage } from './storage.js';
import { limitSize } from './limit.js';
import { EntryType, emptyHardState, type ConfState, type Entry, type HardState, type Snapshot } from './types.js';

const emptyData = new Uint8Array(0);

export class MemoryStorage implements Storage {
  private hardState: HardState = emptyHardState;
  private snap: Snapshot;
  /** Never empty: ents[0] is the dummy entry (see the layout above). */
  private ents: [Entry, ...Entry[]];

  /** A storage whose initial membership is `voters` (how a new cluster is bootstrapped here). */
  constructor(voters: readonly number[] = [], learners: readonly number[] = []) {
    this.snap = { metadata: { index: 0, term: 0, confState: { voters: [...voters], learners: [...learners] } }, data: emptyData };
    this.ents = [{ type: EntryType.Normal, term: 0, index: 0, data: emptyData }];
  }

  /**
   * The hard state as saved — except that its commit is never below the snapshot's index: a
   * snapshot holds only committed entries, and a crash may keep a snapshot installed from the
   * leader while losing the hard state written after it (an older one then says less).
   */
  initialState(): InitialState {
    const hardState = this.hardState.commit < this.snap.metadata.index ? { ...this.hardState, commit: this.snap.metadata.index } : this.hardState;
    return { hardState, confState: this.snap.metadata.confState };
  }

  setHardState(hs: HardState): void {
    this.hardState = hs;
  }

  entries(lo: number, hi: number, maxSizeBytes: number): Entry[] {
    const offset = this.ents[0].index;
    if (lo <= offset) throw new StorageCompactedError(lo);
    if (hi > this.lastIndex() + 1) throw new StorageUnavailableError(hi - 1);
    if (this.ents.length === 1) return [];
    return limitSize(this.ents, maxSizeBytes, lo - offset, hi - offset);
  }

  term(i: number): number {
    const offset = this.ents[0].index;
    if (i < offset) throw new StorageCompactedError(i);
    const entry = this.ents[i - offset];
    if (entry === undefined) throw new StorageUnavailableError(i);
    return entry.term;
  }

  lastIndex(): number {
    return this.ents[0].index + this.ents.length - 1;
  }

  firstIndex(): number {
    return this.ents[0].index + 1;
  }

  snapshot(): Snapshot {
    return this.snap;
  }

  /** Replace everything with a snapshot received from the leader. */
  applySnapshot(snap: Snapshot): void {
    if (this.snap.metadata.index >= snap.metadata.index) throw new SnapshotOutOfDateError(snap.metadata.index);
    this.snap = snap;
    this.ents = [{ type: EntryType.Normal, term: snap.metadata.term, index: snap.metadata.index, data: emptyData }];
  }

  /**
   * Record a snapshot of the application's state at index i (≤ lastIndex). Compaction is separate:
   * call compact() to drop the entries the snapshot covers, usually keeping a tail for slow followers.
   */
  createSnapshot(i: number, confState: ConfState, data: Uint8Array): Snapshot {
    if (i <= this.snap.metadata.index) throw new SnapshotOutOfDateError(i);
    invariant(i <= this.lastIndex(), () => `snapshot ${i} is out of bound lastindex(${this.lastIndex()})`);
    const offset = this.ents[0].index;
    const entry = this.ents[i - offset];
    invariant(entry !== undefined, () => `snapshot ${i} has no entry in [${offset}, ${this.lastIndex()}]`);
    this.snap = { metadata: { index: i, term: entry.term, confState }, data };
    return this.snap;
  }

  /** Discard entries before compactIndex; compactIndex becomes the dummy entry. */
  compact(compactIndex: number): void {
    const offset = this.ents[0].index;
    if (compactIndex <= offset) throw new StorageCompactedError(compactIndex);
    invariant(compactIndex <= this.lastIndex(), () => `compact ${compactIndex} is out of bound lastindex(${this.lastIndex()})`);
    const i = compactIndex - offset;
    const entry = this.ents[i];
    invariant(entry !== undefined, () => `compact ${compactIndex} has no entry in [${offset}, ${this.lastIndex()}]`);
    const dummy: Entry = { type: EntryType.Normal, term: entry.term, index: entry.index, data: emptyData };
    this.ents = [dummy, ...this.ents.slice(i + 1)];
  }

  /**
   * Append entries, replacing any suffix they conflict with. Entries already compacted are ignored.
   * Invariant: the appended entries are contiguous and start at most at lastIndex() + 1.
   */
  append(entries: readonly Entry[]): void {
    const head = entries[0];
    if (head === undefined) return;
    const first = this.firstIndex();
    const last = head.index + entries.length - 1;
    if (last < first) return;
    const fresh = first > head.index ? entries.slice(first - head.index) : entries;
    const freshHead = fresh[0];
    invariant(freshHead !== undefined, () => `append: entries [${head.index}, ${last}] reach first index ${first} but none is kept`);
    const freshIndex = freshHead.index;
    const offset = freshIndex - this.ents[0].index;
    invariant(offset <= this.ents.length, () => `missing log entry [last: ${this.lastIndex()}, append at: ${freshIndex}]`);
    if (offset === this.ents.length) {
      // The common case, appending at the end: no copy of the log (it holds up to --snapshot-count entries).
      for (const entry of fresh) this.ents.push(entry);
    } else {
      // offset ≥ 1 (fresh starts at or after firstIndex()), so the dummy entry stays in front.
      this.ents = [this.ents[0], ...this.ents.slice(1, offset), ...fresh];
    }
  }
}
