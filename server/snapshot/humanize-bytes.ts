// A byte count as etcdctl prints one (go-humanize's Bytes, SI units): "20 kB",
// "1.5 MB", "7 B". Reimplemented here because status's simple and table
// formats must print the same text for the same size as etcdctl does.

const units = ['B', 'kB', 'MB', 'GB', 'TB', 'PB', 'EB'] as const;
const base = 1000;

export function humanizeBytes(bytes: number): string {
  if (!Number.isSafeInteger(bytes) || bytes < 0) throw new Error(`humanizeBytes: ${bytes} is not a byte count`);
  if (bytes < 10) return `${bytes} B`;
  // go-humanize's own arithmetic (floating logarithm, then rounding to tenths), so the unit and digits match.
  const exponent = Math.floor(Math.log(bytes) / Math.log(base));
  const unit = units[exponent] ?? units[units.length - 1];
  const tenths = Math.floor((bytes / base ** exponent) * 10 + 0.5);
  if (tenths < 100) return `${(tenths / 10).toFixed(1)} ${unit}`;
  return `${goRoundTenths(tenths)} ${unit}`;
}

/**
 * Go's "%.0f" of tenths/10: to the nearest whole number, a tie (x.5) to the
 * even one, as Go's strconv rounds (JavaScript's toFixed rounds it up).
 */
function goRoundTenths(tenths: number): number {
  const whole = Math.floor(tenths / 10);
  const rest = tenths % 10;
  if (rest > 5 || (rest === 5 && whole % 2 === 1)) return whole + 1;
  return whole;
}
