// Go's time.ParseDuration, which etcd uses wherever it takes a duration
// (--experimental-watch-progress-notify-interval, the ttl of --auth-token
// jwt, --auto-compaction-retention): a sequence of decimal numbers, each
// with a unit (ns, us, µs, ms, s, m, h), optionally signed: "300ms",
// "1.5h", "2h45m". "0" alone needs no unit.

const unitMs: Readonly<Record<string, number>> = { ns: 1e-6, us: 1e-3, 'µs': 1e-3, 'μs': 1e-3, ms: 1, s: 1_000, m: 60_000, h: 3_600_000 };

/** A duration that Go's parser refuses. */
export class DurationSyntaxError extends Error {
  override readonly name = 'DurationSyntaxError';
}

/** Milliseconds of a Go duration. Throws DurationSyntaxError with Go's words ("time: invalid duration \"x\""). */
export function parseGoDuration(text: string): number {
  let rest = text;
  let sign = 1;
  if (rest.startsWith('-') || rest.startsWith('+')) {
    if (rest.startsWith('-')) sign = -1;
    rest = rest.slice(1);
  }
  if (rest === '0') return 0;
  if (rest === '') throw new DurationSyntaxError(`time: invalid duration "${text}"`);
  let totalMs = 0;
  while (rest !== '') {
    const match = /^(\d+\.?\d*|\.\d+)([^\d.]*)/.exec(rest);
    if (match === null || match[1] === undefined) throw new DurationSyntaxError(`time: invalid duration "${text}"`);
    const unit = match[2] ?? '';
    if (unit === '') throw new DurationSyntaxError(`time: missing unit in duration "${text}"`);
    const factor = unitMs[unit];
    if (factor === undefined) throw new DurationSyntaxError(`time: unknown unit "${unit}" in duration "${text}"`);
    totalMs += Number(match[1]) * factor;
    rest = rest.slice(match[0].length);
  }
  if (!Number.isFinite(totalMs)) throw new DurationSyntaxError(`time: invalid duration "${text}"`);
  return sign * totalMs;
}
