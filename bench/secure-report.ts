// Renders the security-cost benchmark: one row per figure and configuration,
// each server's value side by side, the cairn/etcd ratio, and what the
// configuration costs each server relative to its own plaintext run. Ratios
// above 1 are better for rates (/s) and worse for latencies (ms).
import { checkPerfLimitPerSecond } from './cluster-check-perf.js';
import type { TargetKind } from './flags.js';
import type { SecureConfig, Security } from './secure-flags.js';
import type { SecureResult } from './secure-measure.js';
import { describeEnvironment, formatNumber, formatRatio, ratioOf, row, type Environment } from './table.js';

/** A figure the table shows for every configuration; null when the run did not produce it. */
interface Figure {
  name: string;
  decimals: number;
  /** Printed only when check perf ran. */
  checkPerf: boolean;
  of(result: SecureResult): number | null;
}

const secondsToMs = (seconds: number | null | undefined) => (seconds === null || seconds === undefined ? null : seconds * 1000);

const figures: readonly Figure[] = [
  { name: 'check perf writes/s', decimals: 0, checkPerf: true, of: (result) => result.checkPerf?.writesPerSecond ?? null },
  { name: 'check perf slowest ms', decimals: 1, checkPerf: true, of: (result) => secondsToMs(result.checkPerf?.slowestSeconds) },
  { name: 'check perf stddev ms', decimals: 2, checkPerf: true, of: (result) => secondsToMs(result.checkPerf?.stddevSeconds) },
  { name: 'sdk puts/s', checkPerf: false, decimals: 0, of: (result) => result.puts.putsPerSecond },
  { name: 'sdk put p50 ms', checkPerf: false, decimals: 2, of: (result) => result.puts.p50Ms },
  { name: 'sdk put p99 ms', checkPerf: false, decimals: 2, of: (result) => result.puts.p99Ms },
  { name: 'connect p50 ms', checkPerf: false, decimals: 1, of: (result) => result.connects.p50Ms },
];

export interface SecureRow {
  figure: string;
  security: Security;
  etcd: number | null;
  cairn: number | null;
  /** cairn / etcd for this configuration. */
  cairnOverEtcd: number | null;
  /** This configuration / plaintext, on etcd and on cairn. */
  etcdOverPlaintext: number | null;
  cairnOverPlaintext: number | null;
}

export interface SecureReport {
  benchmark: 'secure-perf';
  config: SecureConfig;
  environment: Environment;
  results: SecureResult[];
  rows: SecureRow[];
}

function find(results: SecureResult[], target: TargetKind, security: Security): SecureResult | undefined {
  return results.find((result) => result.target === target && result.security === security);
}

function ratio(numerator: number | null | undefined, denominator: number | null | undefined): number | null {
  return numerator === null || numerator === undefined || denominator === null || denominator === undefined ? null : ratioOf(numerator, denominator);
}

export function buildSecureReport(config: SecureConfig, results: SecureResult[], environment: Environment): SecureReport {
  const rows: SecureRow[] = [];
  for (const figure of figures) {
    if (figure.checkPerf && config.checkPerfLoad === null) continue;
    const value = (target: TargetKind, security: Security) => {
      const result = find(results, target, security);
      return result === undefined ? null : figure.of(result);
    };
    for (const security of config.securities) {
      const etcd = value('etcd', security);
      const cairn = value('cairn', security);
      rows.push({
        figure: figure.name,
        security,
        etcd,
        cairn,
        cairnOverEtcd: ratio(cairn, etcd),
        etcdOverPlaintext: ratio(etcd, value('etcd', 'plaintext')),
        cairnOverPlaintext: ratio(cairn, value('cairn', 'plaintext')),
      });
    }
  }
  return { benchmark: 'secure-perf', config, environment, results, rows };
}

function describeLoad(config: SecureConfig): string {
  const checkPerf = config.checkPerfLoad === null
    ? 'no check perf'
    : `etcdctl check perf --load ${config.checkPerfLoad} (at most ${checkPerfLimitPerSecond[config.checkPerfLoad]} puts/s for 60 s)`;
  return `security cost: per run a fresh server; ${checkPerf}; then an SDK put loop (one client, ${config.putsInFlight} in flight, ` +
    `256-byte keys, 1 KiB values, ${config.putWarmupSeconds} s warm-up + ${config.putSeconds} s); then ${config.connectSamples} ` +
    'SDK connects to a first answer, each on a new connection';
}

export function formatSecureTable(report: SecureReport): string {
  const lines = [
    describeLoad(report.config),
    describeEnvironment(report.environment),
    'ratios: cairn/etcd, and each configuration / plaintext on the same server; above 1 is better for /s, worse for ms',
    '',
  ];
  const widths = [22, 10, 9, 9, 10, 10, 11];
  lines.push(row(['figure', 'security', 'etcd', 'cairn', 'cairn/etcd', 'etcd/plain', 'cairn/plain'], widths));
  let previous = '';
  for (const entry of report.rows) {
    const decimals = figures.find((figure) => figure.name === entry.figure)?.decimals ?? 2;
    const cell = (value: number | null) => (value === null ? '-' : formatNumber(value, decimals));
    lines.push(row([
      entry.figure === previous ? '' : entry.figure, entry.security, cell(entry.etcd), cell(entry.cairn),
      formatRatio(entry.cairnOverEtcd), formatRatio(entry.etcdOverPlaintext), formatRatio(entry.cairnOverPlaintext),
    ], widths));
    previous = entry.figure;
  }
  lines.push('', ...runLines(report));
  return lines.join('\n');
}

/** Per run: check perf's verdict, the load average when it started, and anything that went wrong. */
function runLines(report: SecureReport): string[] {
  const lines: string[] = [];
  for (const result of report.results) {
    lines.push(`${result.target} ${result.security}: ${checkPerfVerdict(result)}; load average ${result.loadAverage1mAtStart.toFixed(2)} at start` +
      (result.puts.errors > 0 ? `; ${result.puts.errors} SDK put errors: ${result.puts.errorSamples.join('; ')}` : ''));
  }
  return lines;
}

function checkPerfVerdict(result: SecureResult): string {
  const checked = result.checkPerf;
  if (checked === null) return 'check perf skipped';
  if (checked.passed === null) return `check perf gave no verdict (exit ${checked.exitCode})`;
  if (checked.passed) return 'check perf PASS';
  return `check perf FAIL (${checked.verdictLines.filter((line) => !line.startsWith('PASS') && line !== 'FAIL').join(' | ')})`;
}
