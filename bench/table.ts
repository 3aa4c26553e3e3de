// Pieces every benchmark's report shares: the machine it ran on (with the load
// average when it started, since the servers and the load share the machine),
// fixed-width table rows, and cairn/etcd ratios.
import { cpus, loadavg } from 'node:os';

export interface Environment {
  node: string;
  cpuCount: number;
  cpuModel: string;
  /** 1, 5 and 15 minute load averages just before the benchmark started. */
  loadAverageAtStart: number[];
}

export function captureEnvironment(): Environment {
  const cpuList = cpus();
  return {
    node: process.version,
    cpuCount: cpuList.length,
    cpuModel: cpuList[0]?.model ?? 'unknown',
    loadAverageAtStart: loadavg().map((load) => Math.round(load * 100) / 100),
  };
}

/** The 1-minute load average, to two decimals (os.loadavg() always gives the 1, 5 and 15 minute figures). */
export function loadAverage1m(): number {
  const [oneMinute] = loadavg();
  if (oneMinute === undefined) throw new Error('os.loadavg() returned no 1-minute load average');
  return Math.round(oneMinute * 100) / 100;
}

export function describeEnvironment(environment: Environment): string {
  return `node ${environment.node}, ${environment.cpuCount} x ${environment.cpuModel}; load average ` +
    `${environment.loadAverageAtStart.join(', ')} at start; servers and load share this machine`;
}

/** The first cell left-aligned, the others right-aligned. */
export function row(cells: string[], widths: number[]): string {
  return cells.map((cell, index) => {
    const width = widths[index];
    if (width === undefined) throw new Error(`table row: no width for column ${index + 1} of ${cells.length}`);
    return index === 0 ? cell.padEnd(width) : cell.padStart(width);
  }).join('  ');
}

/** cairn / etcd, or null when either figure is missing or not positive (a ratio of signed latencies means nothing). */
export function ratioOf(cairn: number, etcd: number): number | null {
  if (!(Number.isFinite(cairn) && Number.isFinite(etcd) && cairn > 0 && etcd > 0)) return null;
  return cairn / etcd;
}

export function formatRatio(ratio: number | null): string {
  return ratio === null ? '-' : `${ratio.toFixed(2)}x`;
}

/** A figure for a table cell: fixed decimals, '-' when missing. */
export function formatNumber(value: number, decimals: number): string {
  return Number.isFinite(value) ? value.toFixed(decimals) : '-';
}
