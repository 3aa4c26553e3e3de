/**
 * Storage is what the caller implements to give the core read access to its stable log.
 *
 * The core never writes to Storage: the caller writes (Ready.entries, Ready.hardState,
 * Ready.snapshot) and then calls advance(). All methods are synchronous; an implementation backed by
 * disk keeps an in-memory index (as the WAL does) so these reads do not block.
 *
 * Errors: entries/term throw StorageCompactedError below firstIndex() - 1 (term) or firstIndex()
 * (entries) and StorageUnavailableError above lastIndex(). snapshot() may throw
 * SnapshotTemporarilyUnavailableError; the leader then retries later.
 */
import type { ConfState, Entry, HardState, Snapshot } from './types.js';

export interface InitialState {
  readonly hardState: HardState;
  readonly confState: ConfState;
}

export interface Storage {
  initialState(): InitialState;
  /** Entries in [lo, hi), at least one if lo < hi, then as many as fit in maxSizeBytes. */
  entries(lo: number, hi: number, maxSizeBytes: number): Entry[];
  /** Term of the entry at index i, for firstIndex() - 1 ≤ i ≤ lastIndex(). */
  term(i: number): number;
  lastIndex(): number;
  /** Index of the first entry still in the log (snapshot index + 1). */
  firstIndex(): number;
  /** The most recent snapshot. */
  snapshot(): Snapshot;
}
