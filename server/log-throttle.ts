// Log lines caused by input the member does not control (a peer that keeps
// sending what it refuses) are throttled: the first line of each kind is
// logged, repeats within an interval are counted and reported with the next
// line of that kind that gets through.
import type { Clock } from './clock.js';

/** Kinds remembered at once; past this the memory is cleared (a peer inventing IDs cannot grow it). */
const kindsMax = 1_024;

export class LogThrottle {
  private readonly kinds = new Map<string, { loggedAtMs: number; suppressed: number }>();

  constructor(
    private readonly log: (line: string) => void,
    private readonly intervalMs: number,
    private readonly clock: Clock,
  ) {}

  /** Logs `line` unless a line of the same `kind` was logged less than intervalMs ago. */
  line(kind: string, line: string): void {
    const now = this.clock.nowMs();
    const seen = this.kinds.get(kind);
    if (seen !== undefined && now - seen.loggedAtMs < this.intervalMs) {
      seen.suppressed++;
      return;
    }
    if (seen === undefined && this.kinds.size >= kindsMax) this.kinds.clear();
    const suppressed = seen?.suppressed ?? 0;
    this.kinds.set(kind, { loggedAtMs: now, suppressed: 0 });
    this.log(suppressed === 0 ? line : `${line} (${suppressed} more like it since the last report)`);
  }
}
