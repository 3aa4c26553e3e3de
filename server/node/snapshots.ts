// A member's snapshots: the ones it takes every --snapshot-count applied
// entries (recorded in the WAL once the backend that holds them is on disk,
// then the WAL behind them purged), and the ones the leader sends, installed
// in place of the backend. A failed write on either path stops the member
// (fail-stop): a WAL that records a snapshot its backend may not hold, or a
// half-installed backend, is state it could not persist.
import type { Log } from '../log.js';
import { rmSync } from 'node:fs';
import type { Membership } from '../membership/membership.js';
import type { Backend } from '../mvcc/backend.js';
import type { MvccStore } from '../mvcc/store.js';
import type { ConfState, MemoryStorage, Snapshot } from '../raft/index.js';
import type { Wal } from '../storage/wal.js';
import { snapshotMetadataToPb } from '../transport/wire.js';

export interface SnapshotParts {
  wal: Wal;
  storage: MemoryStorage;
  store: MvccStore;
  backend: Backend;
  membership: Membership;
}

export interface SnapshotOptions {
  /** Applied entries between snapshots (--snapshot-count). */
  snapshotCount: number;
  /** Entries kept in the log behind a snapshot, for followers slightly behind. */
  snapshotCatchUpEntries: number;
}

export interface SnapshotHooks {
  /**
   * The lowest log index another member may still ask this one for: on a
   * leader its slowest follower's match + 1; Infinity when it serves no one
   * (a follower, a single node).
   */
  neededFrom(): number;
  /** The backend was replaced by a snapshot: rebuild what is derived from it. */
  snapshotInstalled(): void;
  /** Recording a snapshot failed: the member must stop. */
  fatal(error: Error): void;
  log: Log;
}

export class Snapshots {
  /** Index of the latest snapshot taken or installed. */
  index: number;
  /** The WAL record of a snapshot being written (one at a time). */
  private recording: Promise<void> | undefined;

  constructor(
    private readonly parts: SnapshotParts,
    private readonly options: SnapshotOptions,
    private readonly hooks: SnapshotHooks,
  ) {
    this.index = parts.storage.snapshot().metadata.index;
  }

  /**
   * Every --snapshot-count applied entries: records a snapshot at
   * `appliedIndex` and drops the log behind it (keeping a tail). `stopped`
   * says whether the member stopped meanwhile (then nothing is recorded).
   */
  maybeTake(appliedIndex: number, confState: ConfState, stopped: () => boolean): void {
    if (this.recording !== undefined || appliedIndex - this.index < this.options.snapshotCount) {
      this.maybeTrim(appliedIndex, confState);
      return;
    }
    const { storage } = this.parts;
    const snapshot = this.snapshotAt(appliedIndex, confState);
    this.index = appliedIndex;
    const compactTo = appliedIndex - this.options.snapshotCatchUpEntries;
    if (compactTo >= storage.firstIndex()) storage.compact(compactTo);
    this.recording = this.record(snapshot, stopped).finally(() => (this.recording = undefined));
  }

  /**
   * Between recorded snapshots, lets the in-memory log go of applied entries
   * that no member needs any more, keeping the same catch-up tail a snapshot
   * keeps; the WAL still holds them until the next recorded snapshot. etcd
   * keeps every entry since its last snapshot (up to --snapshot-count of them)
   * in memory; here a log of 1 KiB entries stays near 10 MB instead of 100 MB.
   * The core's snapshot moves to `appliedIndex`, so a member that needs a
   * dropped entry is sent the backend image (which holds at least that much).
   * Trims come in steps of the tail's length, so each copies at most that.
   */
  private maybeTrim(appliedIndex: number, confState: ConfState): void {
    const { storage } = this.parts;
    const tail = this.options.snapshotCatchUpEntries;
    const compactTo = Math.min(appliedIndex, this.hooks.neededFrom() - 1) - tail;
    if (compactTo - (storage.firstIndex() - 1) < tail) return;
    this.snapshotAt(appliedIndex, confState);
    storage.compact(compactTo);
  }

  /** The core's snapshot at `appliedIndex`: the one already there (a trim's), or a new one. */
  private snapshotAt(appliedIndex: number, confState: ConfState): Snapshot {
    const { storage } = this.parts;
    const current = storage.snapshot();
    return current.metadata.index === appliedIndex ? current : storage.createSnapshot(appliedIndex, confState, new Uint8Array(0));
  }

  /** Resolves once no snapshot is being recorded (before the WAL and backend close). */
  settled(): Promise<void> {
    return this.recording ?? Promise.resolve();
  }

  private async record(snapshot: Snapshot, stopped: () => boolean): Promise<void> {
    const { backend, wal } = this.parts;
    const { index } = snapshot.metadata;
    try {
      // The WAL may forget entries only once the backend that holds them is on disk.
      await backend.sync();
      if (stopped()) return;
      wal.appendSnapshot({ metadata: snapshotMetadataToPb(snapshot.metadata), reset: false });
      await wal.sync();
      this.hooks.log.info('saved snapshot', { 'snapshot-index': index });
    } catch (error) {
      this.hooks.fatal(new Error(`recording the snapshot at index ${index} failed: ${(error as Error).message}`, { cause: error }));
      return;
    }
    try {
      const removed = wal.purge();
      if (removed > 0) this.hooks.log.info(`snapshot at index ${index}: removed ${removed} old WAL segment(s)`);
    } catch (error) {
      // The segments stay: the WAL only holds more than it needs.
      this.hooks.log.warn(`snapshot at index ${index}: old WAL segments not removed: ${(error as Error).message}`);
    }
  }

  /**
   * Installs a snapshot from the leader in place of the backend, durably and
   * atomically; the node loop then restarts the log after it (wal-log.ts). A
   * crash between the two leaves a backend ahead of the log, which applying
   * skips. Throws when any step fails: the member must then stop.
   */
  async install(snapshot: Snapshot): Promise<void> {
    const path = Buffer.from(snapshot.data).toString('utf8');
    const { index, term } = snapshot.metadata;
    try {
      await this.parts.backend.install(path);
      this.parts.store.reload();
      this.parts.membership.reload();
      this.hooks.snapshotInstalled();
    } catch (error) {
      throw new Error(`installing the snapshot at index ${index} (term ${term}) from ${path} failed: ${(error as Error).message}`, { cause: error });
    }
    this.index = index;
    this.hooks.log.info(`installed a snapshot at index ${index} (backend at ${this.parts.store.consistentIndex}, revision ${this.parts.store.currentRevision})`);
  }

  /**
   * A snapshot image received from the leader, complete and verified at
   * `path`, was stepped into the core: unless the core now waits to install
   * exactly that image (it may have caught up meanwhile), the image goes.
   */
  received(path: string, pending: Snapshot | undefined): void {
    if (pending === undefined || Buffer.from(pending.data).toString('utf8') !== path) rmSync(path, { force: true });
  }
}
