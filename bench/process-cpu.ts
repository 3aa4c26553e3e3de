// CPU time a process has used, as Linux counts it: what the benchmarks divide
// by the operations of a run to compare servers (and builds) per operation.
import { readFileSync } from 'node:fs';

/** user + system CPU time of a process so far, in µs (/proc/PID/stat, in clock ticks of 10 ms). */
export function processCpuMicroseconds(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  // Fields 14 and 15 of the line (utime, stime); the slice starts at field 3.
  return (Number(fields[11]) + Number(fields[12])) * 10_000;
}
