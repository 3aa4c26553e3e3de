/**
 * A member's disk in the simulator, and the log storage the node loop writes to it.
 *
 * The disk keeps two things: what is durable, and the records written since the last sync
 * completed. A sync completes `delay` units later (the cluster draws it); only then are the records
 * it covers durable. A crash keeps what is durable plus a prefix of the records not yet synced — any
 * prefix, the empty one included — and loses the rest: the record at the cut is torn, and a real
 * WAL drops a torn tail when it opens. So every write the loop did not wait for can be lost, as on a
 * real disk, and the seeds check that nothing acknowledged is.
 *
 *   durable: snapshot 10, entries 11..14, hard state (term 3, commit 12)
 *   pending: [entry 15] [entry 16] [hard state term 3 commit 14] [entry 17]   (no sync completed)
 *   crash, cut at 2: durable gets entries 15, 16; the rest is lost
 *
 * Records are one entry, one hard state, one installed snapshot, or one snapshot taken (with the
 * compaction that follows it), applied to a MemoryStorage in the order they were written.
 */
import type { LogStorage } from '../../server/node/loop.js';
import { MemoryStorage, type ConfState, type Entry, type HardState, type Snapshot } from '../../server/raft/index.js';

type DiskRecord =
  | { kind: 'entry'; entry: Entry }
  | { kind: 'hardState'; hardState: HardState }
  | { kind: 'snapshot'; snapshot: Snapshot }
  | { kind: 'checkpoint'; index: number; confState: ConfState; data: Uint8Array; compactTo: number };

export interface DiskEvents {
  /** An entry was written (the checker's log-matching test). */
  written(entry: Entry, previousTerm: number | undefined): void;
  /** A sync was asked for: complete it (call `complete`) after some delay, or never (crash). */
  syncRequested(complete: () => void): void;
}

export class SimDisk {
  private readonly durable: MemoryStorage;
  private pending: DiskRecord[] = [];
  /** Bumped by every crash: syncs asked for before it never complete. */
  private generation = 0;

  /** A fresh disk bootstrapped with this membership (as etcd's --initial-cluster). */
  constructor(voters: readonly number[], learners: readonly number[]) {
    this.durable = new MemoryStorage(voters, learners);
  }

  /** The log storage a member starting now reads and writes: a copy of what is durable. */
  open(events: DiskEvents): SimLog {
    return new SimLog(this, copyStorage(this.durable), events);
  }

  /** The durable state a restart reads. */
  get durableStorage(): MemoryStorage {
    return this.durable;
  }

  get pendingRecords(): number {
    return this.pending.length;
  }

  /**
   * The member crashed: records past `keep` of those not yet synced are lost (the one at the cut is
   * torn); syncs in flight never complete.
   */
  crash(keep: number): void {
    this.persist(this.pending.length === 0 ? 0 : Math.min(keep, this.pending.length));
    this.pending = [];
    this.generation++;
  }

  /** @internal SimLog's writes. */
  record(r: DiskRecord): void {
    this.pending.push(r);
  }

  /** @internal A sync covering the first `count` pending records completed. */
  persist(count: number): void {
    for (const r of this.pending.slice(0, count)) applyRecord(this.durable, r);
    this.pending = this.pending.slice(count);
  }

  /** @internal */
  get currentGeneration(): number {
    return this.generation;
  }
}

/** The node loop's LogStorage on a SimDisk: the core reads `storage` (everything written). */
export class SimLog implements LogStorage {
  /** Records written by this member and not yet covered by a sync it asked for. */
  private unsynced = 0;

  constructor(private readonly disk: SimDisk, readonly storage: MemoryStorage, private readonly events: DiskEvents) {}

  write(entries: readonly Entry[], hardState: HardState | undefined): void {
    this.storage.append(entries);
    for (const entry of entries) this.events.written(entry, termOrUndefined(this.storage, entry.index - 1));
    if (hardState !== undefined) this.storage.setHardState(hardState);
    for (const entry of entries) this.record({ kind: 'entry', entry });
    if (hardState !== undefined) this.record({ kind: 'hardState', hardState });
  }

  sync(done: (error?: Error) => void): void {
    const count = this.unsynced;
    const generation = this.disk.currentGeneration;
    this.unsynced = 0;
    this.events.syncRequested(() => {
      if (this.disk.currentGeneration !== generation) return; // crashed meanwhile: lost
      this.disk.persist(count);
      done();
    });
  }

  installSnapshot(snapshot: Snapshot): void {
    this.storage.applySnapshot(snapshot);
    this.record({ kind: 'snapshot', snapshot });
  }

  /** Takes a snapshot of the state machine at `index` (≤ applied) and compacts the log up to `compactTo`. */
  checkpoint(index: number, confState: ConfState, data: Uint8Array, compactTo: number): void {
    this.storage.createSnapshot(index, confState, data);
    if (compactTo > this.storage.firstIndex() - 1) this.storage.compact(compactTo);
    this.record({ kind: 'checkpoint', index, confState, data, compactTo });
  }

  private record(r: DiskRecord): void {
    this.disk.record(r);
    this.unsynced++;
  }
}

function applyRecord(storage: MemoryStorage, r: DiskRecord): void {
  switch (r.kind) {
    case 'entry':
      storage.append([r.entry]);
      return;
    case 'hardState':
      storage.setHardState(r.hardState);
      return;
    case 'snapshot':
      storage.applySnapshot(r.snapshot);
      return;
    case 'checkpoint':
      storage.createSnapshot(r.index, r.confState, r.data);
      if (r.compactTo > storage.firstIndex() - 1) storage.compact(r.compactTo);
      return;
  }
}

/** A copy of `from`: same snapshot, same entries (those kept behind the snapshot too), same hard state. */
function copyStorage(from: MemoryStorage): MemoryStorage {
  const snapshot = from.snapshot();
  const first = from.firstIndex();
  const last = from.lastIndex();
  const { confState } = snapshot.metadata;
  const to = new MemoryStorage(confState.voters, confState.learners);
  if (snapshot.metadata.index === first - 1) {
    if (snapshot.metadata.index > 0) to.applySnapshot(snapshot);
  } else {
    // Entries are kept behind the snapshot: start the copy where they begin, then record the snapshot over them.
    to.applySnapshot({ metadata: { index: first - 1, term: from.term(first - 1), confState }, data: new Uint8Array(0) });
  }
  if (last >= first) to.append(from.entries(first, last + 1, Infinity));
  if (snapshot.metadata.index > first - 1) to.createSnapshot(snapshot.metadata.index, confState, snapshot.data);
  to.setHardState(from.initialState().hardState);
  return to;
}

function termOrUndefined(storage: MemoryStorage, index: number): number | undefined {
  try {
    return storage.term(index);
  } catch {
    return undefined;
  }
}
