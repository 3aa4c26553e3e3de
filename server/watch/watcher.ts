// One watcher: a key range, the next revision it must receive, its filters,
// and the stream (sink) that carries its responses.
import type { ChangeEvent } from '../mvcc/store.js';
import type { KeyRange } from '../mvcc/tree-index.js';

export interface WatchSink {
  /**
   * Offers the events of revisions up to `revision` to the watcher's
   * stream. Returns false, delivering nothing, when the stream is full: the
   * hub then moves the watcher aside and catches it up from history later.
   * `events` is the hub's: read it during the call, keep none of it.
   */
  deliver(watcher: Watcher, revision: number, events: readonly ChangeEvent[]): boolean;
  /** The history the watcher needs was compacted; the watcher is removed. */
  compacted(watcher: Watcher, compactRevision: number): void;
  /** Whether the stream has room for more responses now. */
  hasRoom(): boolean;
}

export interface WatchFilters {
  noPut: boolean;
  noDelete: boolean;
}

export class Watcher {
  /**
   * The hub's scratch while it routes one batch of changes: this watcher's
   * events in it (a field is what a Map from watcher to events would be, at
   * a fraction of the cost with a thousand watchers of a key). Undefined
   * between batches.
   */
  routed: ChangeEvent[] | undefined = undefined;
  /**
   * The sink's scratch: what its stream keeps for this watcher between
   * deliveries (api/watch.ts: the response still open to more events). The
   * hub never reads it.
   */
  sinkState: unknown = undefined;

  constructor(
    /** The id the client knows it by (unique within its stream). */
    readonly id: bigint,
    readonly range: KeyRange,
    /** The first revision not yet delivered. */
    public nextRevision: number,
    readonly filters: WatchFilters,
    readonly prevKv: boolean,
    readonly sink: WatchSink,
  ) {}

  covers(key: string): boolean {
    const { start, end } = this.range;
    if (end === undefined) return key === start;
    return key >= start && (end === '' || key < end);
  }

  /** Whether the filters let an event of the watcher's range through. */
  wants(event: ChangeEvent): boolean {
    return !(event.type === 'put' ? this.filters.noPut : this.filters.noDelete);
  }
}
