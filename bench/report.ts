// Renders the put benchmark's results: a plain table for people, one JSON
// document for scripts. Ratios are cairn/etcd: above 1 means more throughput,
// but also more latency — so >1 is good for puts/s and bad for p50/p99.
import type { BenchConfig } from './flags.js';
import type { TargetResult } from './measure.js';
import { describeEnvironment, formatRatio, ratioOf, row, type Environment } from './table.js';

export interface Ratio {
  putsPerSecond: number | null;
  p50: number | null;
  p99: number | null;
}

export interface Report {
  config: BenchConfig;
  environment: Environment;
  results: TargetResult[];
  /** cairn/etcd, when both were measured. */
  ratio: Ratio | null;
}

export function buildReport(config: BenchConfig, results: TargetResult[], environment: Environment): Report {
  const etcd = results.find((result) => result.target === 'etcd');
  const cairn = results.find((result) => result.target === 'cairn');
  const ratio = etcd !== undefined && cairn !== undefined
    ? {
      putsPerSecond: ratioOf(cairn.putsPerSecond, etcd.putsPerSecond),
      p50: ratioOf(cairn.p50Ms, etcd.p50Ms),
      p99: ratioOf(cairn.p99Ms, etcd.p99Ms),
    }
    : null;
  return { config, environment, results, ratio };
}

export function formatTable(report: Report): string {
  const { config } = report;
  const concurrency = config.workers * config.connectionsPerWorker * config.clientsPerConnection;
  const lines = [
    `put load: ${config.valueBytes}-byte values to distinct keys; ${config.workers} workers x ${config.connectionsPerWorker} connections x ` +
      `${config.clientsPerConnection} in flight = ${concurrency} concurrent puts; ${config.warmupSeconds} s warm-up, then up to ` +
      `${config.durationSeconds} s per target`,
    describeEnvironment(report.environment),
    '',
  ];
  const widths = [10, 9, 8, 10, 8, 8, 8, 8, 7];
  lines.push(row(['target', 'puts', 'seconds', 'puts/s', 'p50 ms', 'p99 ms', 'mean ms', 'max ms', 'errors'], widths));
  for (const result of report.results) {
    lines.push(row([
      result.target, String(result.puts), result.measuredSeconds.toFixed(2), result.putsPerSecond.toFixed(0),
      result.p50Ms.toFixed(2), result.p99Ms.toFixed(2), result.meanMs.toFixed(2), result.maxMs.toFixed(1), String(result.errors),
    ], widths));
  }
  if (report.ratio !== null) {
    const { ratio } = report;
    lines.push(row(['cairn/etcd', '', '', formatRatio(ratio.putsPerSecond), formatRatio(ratio.p50), formatRatio(ratio.p99), '', '', ''], widths));
  }
  for (const result of report.results) {
    if (result.errorSamples.length > 0) lines.push(`${result.target} errors: ${result.errorSamples.join('; ')}`);
  }
  return lines.join('\n');
}
