// The watch hub routes committed changes to watchers. A watcher is either
// synced (it has every change up to now and gets new ones as they commit)
// or unsynced (it is behind: it started from history, or its stream was
// full). Unsynced watchers are caught up from the store's history in
// bounded passes. A slow stream never blocks the apply loop: a watcher
// whose stream refuses a response is moved aside ("victim", as etcd calls
// it) and caught up later from history, so nothing is lost or reordered.
import type { Clock, Timer } from '../clock.js';
import type { MvccStore, RevisionChanges } from '../mvcc/store.js';
import { CompactedError } from '../mvcc/errors.js';
import type { Watcher } from './watcher.js';

export interface WatchHubLimits {
  /** Revisions read from history for one catch-up pass. */
  catchUpRevisionsMax: number;
  /** Delay before retrying watchers whose streams were full, in ms. */
  retryDelayMs: number;
}

export const defaultWatchHubLimits: WatchHubLimits = { catchUpRevisionsMax: 1_000, retryDelayMs: 100 };

export class WatchHub {
  /** Synced single-key watchers by key. */
  private readonly byKey = new Map<string, Set<Watcher>>();
  /** Synced watchers of a range. */
  private readonly ranges = new Set<Watcher>();
  private readonly unsynced = new Set<Watcher>();
  private catchUpScheduled = false;
  private retryTimer: Timer | undefined;

  constructor(
    private readonly store: MvccStore,
    private readonly clock: Clock,
    private readonly limits: WatchHubLimits = defaultWatchHubLimits,
  ) {}

  get watcherCount(): number {
    let count = this.ranges.size + this.unsynced.size;
    for (const set of this.byKey.values()) count += set.size;
    return count;
  }

  /** Adds a watcher; one that starts at or before the current revision catches up from history first. */
  add(watcher: Watcher): void {
    if (watcher.nextRevision > this.store.currentRevision) this.addSynced(watcher);
    else this.moveAside(watcher);
  }

  remove(watcher: Watcher): void {
    this.unsynced.delete(watcher);
    this.ranges.delete(watcher);
    const set = this.byKey.get(watcher.range.start);
    if (watcher.range.end === undefined && set !== undefined) {
      set.delete(watcher);
      if (set.size === 0) this.byKey.delete(watcher.range.start);
    }
  }

  /** Routes the changes of freshly committed revisions (oldest first) to synced watchers. */
  notify(changes: RevisionChanges[]): void {
    for (const { revision, events } of changes) {
      const routed = new Map<Watcher, typeof events>();
      for (const event of events) {
        const key = event.kv.key.toString('latin1');
        for (const watcher of this.byKey.get(key) ?? []) route(routed, watcher, event);
        for (const watcher of this.ranges) if (watcher.covers(key)) route(routed, watcher, event);
      }
      for (const [watcher, candidates] of routed) {
        if (watcher.nextRevision > revision) continue;
        const wanted = watcher.select(candidates);
        if (wanted.length === 0) continue;
        if (watcher.sink.deliver(watcher, revision, wanted)) {
          watcher.nextRevision = revision + 1;
        } else {
          watcher.nextRevision = revision;
          this.remove(watcher);
          this.moveAside(watcher);
        }
      }
    }
  }

  /**
   * Whether the watcher has been offered every change it wants up to the
   * current revision (true of every watcher in the synced set, including
   * one waiting for a future start revision).
   */
  isSynced(watcher: Watcher): boolean {
    return !this.unsynced.has(watcher);
  }

  /**
   * The store was replaced (a snapshot from the leader): every watcher
   * catches up from the new store's history, from where it was.
   */
  resync(): void {
    for (const set of this.byKey.values()) for (const watcher of set) this.unsynced.add(watcher);
    for (const watcher of this.ranges) this.unsynced.add(watcher);
    this.byKey.clear();
    this.ranges.clear();
    this.scheduleCatchUp();
  }

  /** A stream has room again: retry its watchers that are behind. */
  wake(): void {
    if (this.unsynced.size > 0) this.scheduleCatchUp();
  }

  private addSynced(watcher: Watcher): void {
    if (watcher.range.end === undefined) {
      let set = this.byKey.get(watcher.range.start);
      if (set === undefined) this.byKey.set(watcher.range.start, (set = new Set()));
      set.add(watcher);
    } else {
      this.ranges.add(watcher);
    }
  }

  private moveAside(watcher: Watcher): void {
    this.unsynced.add(watcher);
    this.scheduleCatchUp();
  }

  private scheduleCatchUp(): void {
    if (this.catchUpScheduled) return;
    this.catchUpScheduled = true;
    this.clock.soon(() => {
      this.catchUpScheduled = false;
      this.catchUp();
    });
  }

  /** One bounded pass: reads history once from the oldest revision a ready watcher needs. */
  private catchUp(): void {
    const current = this.store.currentRevision;
    const compacted = this.store.compactRevision;
    const ready: Watcher[] = [];
    for (const watcher of this.unsynced) {
      // As etcd: a watcher may start at the compaction revision itself.
      if (watcher.nextRevision < compacted) {
        this.unsynced.delete(watcher);
        watcher.sink.compacted(watcher, compacted);
      } else if (watcher.nextRevision > current) {
        this.unsynced.delete(watcher);
        this.addSynced(watcher);
      } else if (watcher.sink.hasRoom()) {
        ready.push(watcher);
      }
    }
    if (ready.length > 0) this.catchUpFromHistory(ready, current);
    if (this.unsynced.size > 0) this.scheduleRetry(ready.length > 0);
  }

  private catchUpFromHistory(ready: Watcher[], current: number): void {
    const from = Math.min(...ready.map((watcher) => watcher.nextRevision));
    let history: RevisionChanges[];
    try {
      history = this.store.changesBetween(from, current, this.limits.catchUpRevisionsMax);
    } catch (error) {
      if (error instanceof CompactedError) return; // the next pass cancels the compacted watchers
      throw error;
    }
    const last = Math.min(current, from + this.limits.catchUpRevisionsMax - 1);
    for (const watcher of ready) {
      const events = history.filter((changes) => changes.revision >= watcher.nextRevision).flatMap((changes) => watcher.select(changes.events));
      if (events.length > 0 && !watcher.sink.deliver(watcher, last, events)) continue;
      watcher.nextRevision = Math.max(watcher.nextRevision, last + 1);
      if (last >= current) {
        this.unsynced.delete(watcher);
        this.addSynced(watcher);
      }
    }
  }

  /** More to do now (another pass at once), or only watchers waiting for room (a pass later). */
  private scheduleRetry(progressed: boolean): void {
    if (progressed) {
      this.scheduleCatchUp();
      return;
    }
    if (this.retryTimer !== undefined) return;
    this.retryTimer = this.clock
      .after(this.limits.retryDelayMs, () => {
        this.retryTimer = undefined;
        this.catchUp();
      })
      .unref();
  }

  close(): void {
    this.retryTimer?.cancel();
    this.byKey.clear();
    this.ranges.clear();
    this.unsynced.clear();
  }
}

function route<T>(routed: Map<Watcher, T[]>, watcher: Watcher, event: T): void {
  const list = routed.get(watcher);
  if (list === undefined) routed.set(watcher, [event]);
  else list.push(event);
}
