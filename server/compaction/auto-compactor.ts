// Auto-compaction as etcd 3.4's v3compactor (--auto-compaction-mode,
// --auto-compaction-retention). Only the leader compacts (etcd pauses the
// compactor on followers); a compaction goes through the log like a client's
// Compact. A revision the store already compacted counts as done.
//
// - revision: every 5 minutes, compact at (current revision − retention),
//   unless that is not positive or was the last one compacted.
// - periodic: keep the history of the last `retention` time. The current
//   revision is recorded every tenth of the compaction interval (the
//   retention, at most an hour), a sliding window of them kept; once the
//   retention has passed since the start (then once per interval after each
//   success), compact at the oldest recorded revision — the one current a
//   retention (and one recording interval) ago. Worked example, retention
//   1h: a revision is recorded every 6 minutes, 11 are kept; after the first
//   hour, and every hour after a success, the revision of 66 minutes ago is
//   compacted; after a failure the next try is 6 minutes later.
import type { Log } from '../log.js';
import type { Clock, Timer } from '../clock.js';
import { CompactedError } from '../mvcc/errors.js';

export type AutoCompaction = { mode: 'periodic'; retentionMs: number } | { mode: 'revision'; retention: number };

/** What the compactor needs of the member. */
export interface CompactionTarget {
  readonly currentRevision: number;
  readonly isLeader: boolean;
  /** Compacts at `revision` through the log; rejects with the error applying it gave. */
  compact(revision: number): Promise<void>;
}

/** How often the revision mode looks (etcd's revInterval). */
export const revisionCheckIntervalMs = 5 * 60_000;
const hourMs = 3_600_000;
/** The periodic mode records and retries every interval / retryDivisor (etcd's). */
const retryDivisor = 10;

export class AutoCompactor {
  private timer: Timer | undefined;
  private running = false;
  /** Revision mode: the last revision compacted by this compactor. */
  private previous = 0;
  /** Periodic mode: the recorded revisions, oldest first, and when the last compaction succeeded. */
  private readonly revisions: number[] = [];
  private lastSuccessMs = 0;
  private waitMs = 0;

  constructor(private readonly settings: AutoCompaction, private readonly target: CompactionTarget, private readonly clock: Clock, private readonly log: Log) {}

  start(): void {
    if (this.settings.mode === 'revision') {
      this.timer = this.clock.every(revisionCheckIntervalMs, () => this.revisionTick());
    } else {
      this.lastSuccessMs = this.clock.nowMs();
      this.waitMs = this.settings.retentionMs;
      this.revisions.push(this.target.currentRevision);
      this.timer = this.clock.every(this.retryIntervalMs(), () => this.periodicTick());
    }
    this.timer.unref();
  }

  stop(): void {
    this.timer?.cancel();
  }

  /** The periodic mode's interval between compactions: the retention, at most an hour. */
  private compactIntervalMs(): number {
    return this.settings.mode === 'periodic' ? Math.min(this.settings.retentionMs, hourMs) : revisionCheckIntervalMs;
  }

  private retryIntervalMs(): number {
    return this.compactIntervalMs() / retryDivisor;
  }

  private revisionTick(): void {
    if (this.settings.mode !== 'revision' || !this.target.isLeader || this.running) return;
    const revision = this.target.currentRevision - this.settings.retention;
    if (revision <= 0 || revision === this.previous) return;
    this.run('revision', revision, () => (this.previous = revision));
  }

  private periodicTick(): void {
    if (this.settings.mode !== 'periodic') return;
    const due = this.clock.nowMs() - this.lastSuccessMs >= this.waitMs;
    const oldest = this.revisions[0];
    if (this.target.isLeader && !this.running && due && oldest !== undefined) {
      this.waitMs = this.compactIntervalMs();
      this.run('periodic', oldest, () => (this.lastSuccessMs = this.clock.nowMs()));
    }
    this.revisions.push(this.target.currentRevision);
    // As etcd's window: revisions[0] is the one current a retention and one recording interval ago.
    const kept = Math.floor(this.settings.retentionMs / this.retryIntervalMs()) + 1;
    while (this.revisions.length > kept) this.revisions.shift();
  }

  private run(mode: string, revision: number, succeeded: () => void): void {
    this.running = true;
    const startedMs = this.clock.nowMs();
    this.log.info(`starting auto ${mode} compaction at revision ${revision}`);
    this.target.compact(revision).then(
      () => {
        succeeded();
        this.log.info(`completed auto ${mode} compaction at revision ${revision} in ${Math.round(this.clock.nowMs() - startedMs)} ms`);
      },
      (error: unknown) => {
        if (error instanceof CompactedError) succeeded();
        else this.log.warn(`failed auto ${mode} compaction at revision ${revision}: ${(error as Error).message}`);
      },
    ).finally(() => (this.running = false));
  }
}
