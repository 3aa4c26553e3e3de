// The figures the memory benchmark reports: a process's resident memory as
// Linux counts it (/proc/PID/status), and the slope of a series of samples.

export interface ResidentMemory {
  /** VmRSS: resident now (anonymous, file-backed and shared pages). */
  residentBytes: number;
  /** VmHWM: the most it has been resident since it started. */
  peakBytes: number;
}

/** VmRSS and VmHWM from the text of /proc/PID/status (values in kB). */
export function parseProcStatus(text: string): ResidentMemory {
  const kilobytes = (field: string): number => {
    const match = new RegExp(`^${field}:\\s+(\\d+) kB$`, 'm').exec(text);
    if (match === null) throw new Error(`/proc status has no ${field} line`);
    return Number(match[1]) * 1024;
  };
  return { residentBytes: kilobytes('VmRSS'), peakBytes: kilobytes('VmHWM') };
}

export interface Sample {
  atMs: number;
  bytes: number;
}

/**
 * Least-squares slope of `samples` in bytes per minute; NaN with fewer than
 * two samples or no time between them.
 */
export function slopeBytesPerMinute(samples: readonly Sample[]): number {
  if (samples.length < 2) return NaN;
  const meanAt = samples.reduce((sum, sample) => sum + sample.atMs, 0) / samples.length;
  const meanBytes = samples.reduce((sum, sample) => sum + sample.bytes, 0) / samples.length;
  let covariance = 0;
  let variance = 0;
  for (const sample of samples) {
    covariance += (sample.atMs - meanAt) * (sample.bytes - meanBytes);
    variance += (sample.atMs - meanAt) ** 2;
  }
  return variance === 0 ? NaN : (covariance / variance) * 60_000;
}

/** The samples after the first `fraction` of the run's time: the heap's warm-up is not a leak. */
export function afterWarmup(samples: readonly Sample[], fraction: number): Sample[] {
  const first = samples[0];
  const last = samples.at(-1);
  if (first === undefined || last === undefined) return [];
  const from = first.atMs + (last.atMs - first.atMs) * fraction;
  return samples.filter((sample) => sample.atMs >= from);
}

/** "1,234.5 MB"-style megabytes (2^20 bytes). */
export function megabytes(bytes: number): number {
  return bytes / 2 ** 20;
}
