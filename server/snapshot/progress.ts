// Progress of a long restore, on stderr. A restore of a few thousand keys
// takes well under a second and prints nothing; one that runs longer than
// quietMs says how far it got every intervalMs, so an operator restoring
// millions of keys sees it move. Time comes from the injected Clock.
import type { Clock } from '../clock.js';

export interface ProgressOptions {
  /** Nothing is printed before the restore has run this long. */
  quietMs: number;
  /** At most one line per this many milliseconds. */
  intervalMs: number;
}

export const progressDefaults: ProgressOptions = { quietMs: 2_000, intervalMs: 2_000 };

export class RestoreProgress {
  private readonly startedMs: number;
  private lastLineMs: number | undefined;

  constructor(
    /** Revision records the restore will write. */
    private readonly total: number,
    private readonly clock: Clock,
    private readonly write: (line: string) => void,
    private readonly options: ProgressOptions = progressDefaults,
  ) {
    this.startedMs = clock.nowMs();
  }

  /** Whether any line was printed (the restore was long enough to be reported). */
  get spoke(): boolean {
    return this.lastLineMs !== undefined;
  }

  /** `done` revision records are written; prints a line when one is due. */
  advanced(done: number): void {
    const now = this.clock.nowMs();
    if (now - this.startedMs < this.options.quietMs) return;
    if (this.lastLineMs !== undefined && now - this.lastLineMs < this.options.intervalMs) return;
    this.lastLineMs = now;
    const percent = this.total === 0 ? 100 : Math.floor((100 * done) / this.total);
    this.write(`restoring: ${done} of ${this.total} revision records (${percent}%), ${seconds(now - this.startedMs)} s`);
  }

  /** Seconds since the restore started, for the closing line. */
  elapsedSeconds(): string {
    return seconds(this.clock.nowMs() - this.startedMs);
  }
}

function seconds(ms: number): string {
  return (ms / 1000).toFixed(1);
}
