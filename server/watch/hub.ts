// The watch hub routes committed changes to watchers. A watcher is either
// synced (it has every change up to now and gets new ones as they commit)
// or unsynced (it is behind: it started from history, or its stream was
// full). Unsynced watchers are caught up from the store's history in
// bounded passes. A slow stream never blocks the apply loop: a watcher
// whose stream refuses a response is moved aside ("victim", as etcd calls
// it) and caught up later from history, so nothing is lost or reordered.
//
// A watcher gets one response per batch of revisions, not one per revision:
// the revisions applied together (a synced batch) or read together (a
// catch-up pass) go out in one response, cut only between revisions, so a
// revision's events always arrive together. etcd's catch-up does the same;
// what costs is the number of responses, not the number of events.
import type { Clock, Timer } from '../clock.js';
import type { ChangeEvent, MvccStore, RevisionChanges } from '../mvcc/store.js';
import { CompactedError } from '../mvcc/errors.js';
import type { Watcher } from './watcher.js';

export interface WatchHubLimits {
  /** Revisions read from history for one catch-up pass. */
  catchUpRevisionsMax: number;
  /** Events in one response: a longer batch is cut, between two revisions, into several. */
  responseEventsMax: number;
  /** Delay before retrying watchers whose streams were full, in ms. */
  retryDelayMs: number;
}

export const defaultWatchHubLimits: WatchHubLimits = { catchUpRevisionsMax: 1_000, responseEventsMax: 1_000, retryDelayMs: 100 };

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

  /** Routes the changes of freshly committed revisions (oldest first) to synced watchers, one response per watcher. */
  notify(changes: RevisionChanges[]): void {
    const newest = changes[changes.length - 1];
    if (newest === undefined) return;
    const routed: Watcher[] = [];
    for (const { revision, events } of changes) {
      for (const event of events) {
        const key = event.kv.key.toString('latin1');
        const keyed = this.byKey.get(key);
        if (keyed !== undefined) for (const watcher of keyed) if (watcher.nextRevision <= revision && watcher.wants(event)) routeTo(routed, watcher, event);
        for (const watcher of this.ranges) if (watcher.nextRevision <= revision && watcher.covers(key) && watcher.wants(event)) routeTo(routed, watcher, event);
      }
    }
    let next = 0;
    try {
      while (next < routed.length) {
        const watcher = routed[next++] as Watcher;
        const events = watcher.routed as ChangeEvent[];
        watcher.routed = undefined;
        this.notifyOne(watcher, newest.revision, events);
      }
    } finally {
      // Should a sink throw, the watchers not reached keep no events for the next batch.
      for (; next < routed.length; next++) (routed[next] as Watcher).routed = undefined;
    }
  }

  private notifyOne(watcher: Watcher, revision: number, events: ChangeEvent[]): void {
    const undelivered = this.deliver(watcher, revision, events);
    if (undelivered === undefined) {
      watcher.nextRevision = revision + 1;
    } else {
      watcher.nextRevision = undelivered;
      this.remove(watcher);
      this.moveAside(watcher);
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
    const read = new HistoryRead(history);
    for (const watcher of ready) {
      const undelivered = this.deliver(watcher, last, read.eventsFor(watcher));
      if (undelivered !== undefined) {
        watcher.nextRevision = undelivered;
        continue;
      }
      watcher.nextRevision = Math.max(watcher.nextRevision, last + 1);
      if (last >= current) {
        this.unsynced.delete(watcher);
        this.addSynced(watcher);
      }
    }
  }

  /**
   * Offers `events` (oldest first, all at or before `revision`) in responses
   * of at most responseEventsMax events, cut between revisions; the last
   * response carries `revision`. Returns the revision of the first event its
   * stream refused, or undefined once every event was taken.
   */
  private deliver(watcher: Watcher, revision: number, events: ChangeEvent[]): number | undefined {
    let first = 0;
    while (first < events.length) {
      const end = responseEnd(events, first, this.limits.responseEventsMax);
      const header = end === events.length ? revision : eventRevision(events[end - 1] as ChangeEvent);
      const part = first === 0 && end === events.length ? events : events.slice(first, end);
      if (!watcher.sink.deliver(watcher, header, part)) return eventRevision(events[first] as ChangeEvent);
      first = end;
    }
    return undefined;
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

/**
 * A catch-up pass's history, read once for all the watchers it serves:
 * single-key watchers look up their key's events instead of scanning every
 * revision (a pass serves watchers × revisions otherwise).
 */
class HistoryRead {
  private readonly events: ChangeEvent[];
  private readonly keys: string[];
  private byKey: Map<string, ChangeEvent[]> | undefined;

  constructor(history: RevisionChanges[]) {
    this.events = history.flatMap((changes) => changes.events);
    this.keys = this.events.map((event) => event.kv.key.toString('latin1'));
  }

  /** The events the watcher wants from its next revision on, oldest first. */
  eventsFor(watcher: Watcher): ChangeEvent[] {
    const from = watcher.nextRevision;
    if (watcher.range.end === undefined) {
      const keyed = this.keyed().get(watcher.range.start) ?? [];
      return keyed.filter((event) => eventRevision(event) >= from && watcher.wants(event));
    }
    return this.events.filter((event, i) => eventRevision(event) >= from && watcher.covers(this.keys[i] as string) && watcher.wants(event));
  }

  private keyed(): Map<string, ChangeEvent[]> {
    if (this.byKey !== undefined) return this.byKey;
    this.byKey = new Map();
    this.events.forEach((event, i) => route(this.byKey as Map<string, ChangeEvent[]>, this.keys[i] as string, event));
    return this.byKey;
  }
}

/** The revision an event belongs to (a delete's kv carries it as its mod revision, as etcd's). */
function eventRevision(event: ChangeEvent): number {
  return Number(event.kv.modRevision);
}

/** Where a response starting at `first` ends: after at most `eventsMax` events, rounded down to a revision boundary (a revision alone may exceed it). */
function responseEnd(events: ChangeEvent[], first: number, eventsMax: number): number {
  if (events.length - first <= eventsMax) return events.length;
  let end = first + eventsMax;
  const revision = eventRevision(events[end] as ChangeEvent);
  while (end > first && eventRevision(events[end - 1] as ChangeEvent) === revision) end--;
  if (end > first) return end;
  end = first + eventsMax;
  while (end < events.length && eventRevision(events[end] as ChangeEvent) === revision) end++;
  return end;
}

/** Adds `event` to the watcher's events of the batch being routed, listing the watcher in `routed` at its first. */
function routeTo(routed: Watcher[], watcher: Watcher, event: ChangeEvent): void {
  if (watcher.routed === undefined) {
    watcher.routed = [event];
    routed.push(watcher);
  } else {
    watcher.routed.push(event);
  }
}

function route<K, T>(routed: Map<K, T[]>, key: K, event: T): void {
  const list = routed.get(key);
  if (list === undefined) routed.set(key, [event]);
  else list.push(event);
}
