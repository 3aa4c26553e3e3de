// Renders the etcd-tool benchmark: one row per workload, kind and repetition
// with the tool's own figures, each kind's mean, and cairn/etcd ratios (above
// 1 is better for requests/s, worse for latencies); or one JSON document.
import type { EtcdToolConfig, ToolWorkload } from './etcd-tool-flags.js';
import type { EtcdToolTargetResult, ToolRun } from './etcd-tool-measure.js';
import type { ToolSummary } from './etcd-tool-output.js';
import type { TargetKind } from './flags.js';
import { describeEnvironment, formatNumber, formatRatio, ratioOf, row, type Environment } from './table.js';

/** One workload's figures from one run, in the units of the table. */
export interface ToolFigures {
  requestsPerSecond: number;
  averageMs: number;
  p50Ms: number;
  p99Ms: number;
  slowestMs: number;
  totalSeconds: number;
}

export interface ToolMean extends ToolFigures {
  workload: ToolWorkload;
  target: TargetKind;
  repetitions: number;
}

export interface ToolRatio {
  workload: ToolWorkload;
  /** Of the means. */
  requestsPerSecond: number | null;
  averageMs: number | null;
  p50Ms: number | null;
  p99Ms: number | null;
  /** requests/s of cairn's repetition r over etcd's repetition r: how much the ratio moves between runs. */
  requestsPerSecondByRepetition: Array<number | null>;
}

export interface EtcdToolReport {
  benchmark: 'etcd-tool';
  config: EtcdToolConfig;
  environment: Environment;
  results: EtcdToolTargetResult[];
  means: ToolMean[];
  /** cairn/etcd, when both kinds were measured. */
  ratios: ToolRatio[];
}

/**
 * The figures of a run. watch's latencies are left out: its "events received"
 * summary times the tool's own hand-over of each event, not the server.
 */
export function figuresOf(run: ToolRun): ToolFigures | null {
  const summary: ToolSummary | null = run.failure === null ? run.summary : null;
  if (summary === null) return null;
  const latency = (seconds: number | undefined) => (run.workload === 'watch' || seconds === undefined ? Number.NaN : seconds * 1000);
  return {
    requestsPerSecond: summary.requestsPerSecond,
    averageMs: latency(summary.averageSeconds),
    p50Ms: latency(summary.percentileSeconds['50']),
    p99Ms: latency(summary.percentileSeconds['99']),
    slowestMs: latency(summary.slowestSeconds),
    totalSeconds: summary.totalSeconds,
  };
}

function mean(values: number[]): number {
  return values.length === 0 ? Number.NaN : values.reduce((total, value) => total + value, 0) / values.length;
}

function meanOf(results: EtcdToolTargetResult[], target: TargetKind, workload: ToolWorkload): ToolMean | null {
  const figures = results
    .filter((result) => result.target === target)
    .flatMap((result) => result.runs.filter((run) => run.workload === workload).flatMap((run) => figuresOf(run) ?? []));
  if (figures.length === 0) return null;
  const average = (pick: (each: ToolFigures) => number) => mean(figures.map(pick));
  return {
    workload,
    target,
    repetitions: figures.length,
    requestsPerSecond: average((each) => each.requestsPerSecond),
    averageMs: average((each) => each.averageMs),
    p50Ms: average((each) => each.p50Ms),
    p99Ms: average((each) => each.p99Ms),
    slowestMs: average((each) => each.slowestMs),
    totalSeconds: average((each) => each.totalSeconds),
  };
}

function rateOf(results: EtcdToolTargetResult[], target: TargetKind, repetition: number, workload: ToolWorkload): number {
  const run = results.find((result) => result.target === target && result.repetition === repetition)?.runs.find((each) => each.workload === workload);
  return (run === undefined ? null : figuresOf(run))?.requestsPerSecond ?? Number.NaN;
}

function ratioFor(config: EtcdToolConfig, results: EtcdToolTargetResult[], means: ToolMean[], workload: ToolWorkload): ToolRatio | null {
  const etcd = means.find((each) => each.workload === workload && each.target === 'etcd');
  const cairn = means.find((each) => each.workload === workload && each.target === 'cairn');
  if (etcd === undefined || cairn === undefined) return null;
  return {
    workload,
    requestsPerSecond: ratioOf(cairn.requestsPerSecond, etcd.requestsPerSecond),
    averageMs: ratioOf(cairn.averageMs, etcd.averageMs),
    p50Ms: ratioOf(cairn.p50Ms, etcd.p50Ms),
    p99Ms: ratioOf(cairn.p99Ms, etcd.p99Ms),
    requestsPerSecondByRepetition: Array.from({ length: config.repetitions }, (_, index) =>
      ratioOf(rateOf(results, 'cairn', index + 1, workload), rateOf(results, 'etcd', index + 1, workload))),
  };
}

export function buildEtcdToolReport(config: EtcdToolConfig, results: EtcdToolTargetResult[], environment: Environment): EtcdToolReport {
  const kinds = [...new Set(config.targets)];
  const means = config.workloads.flatMap((workload) => kinds.flatMap((target) => meanOf(results, target, workload) ?? []));
  const ratios = config.workloads.flatMap((workload) => ratioFor(config, results, means, workload) ?? []);
  return { benchmark: 'etcd-tool', config, environment, results, means, ratios };
}

function describeLoad(config: EtcdToolConfig): string[] {
  return [
    `etcd's benchmark tool (tools/benchmark, etcd 3.4 source) against a single-node etcd and cairn, the same command line for both; ` +
      `a fresh server per kind and repetition, measured in the order ${config.targets.join(', ')}`,
    `--conns ${config.connections} --clients ${config.clients}; put and txn-put: ${config.putTotal} requests, ${config.keyBytes}-byte keys among ` +
      `${config.keySpace}, ${config.valueBytes}-byte values; range: ${config.rangeTotal} ${config.rangeConsistency === 'l' ? 'linearizable' : 'serializable'} ` +
      `reads of one key; watch: ${config.watchStreams} streams x ${config.watchersPerStream} watchers on ${config.watchedKeys} keys, ` +
      `${config.watchPutTotal} puts (req/s = events received/s; no latency: the tool times only its own hand-over)`,
    '"load" is the 1-minute load average when the run started; the servers and the tool share this machine.',
  ];
}

const widths = [8, 10, 4, 5, 9, 7, 7, 7, 9, 7, 6];

function cells(figures: ToolFigures): string[] {
  return [
    figures.requestsPerSecond.toFixed(0), formatNumber(figures.averageMs, 2), formatNumber(figures.p50Ms, 2), formatNumber(figures.p99Ms, 2),
    formatNumber(figures.slowestMs, 1), formatNumber(figures.totalSeconds, 2),
  ];
}

function workloadLines(report: EtcdToolReport, workload: ToolWorkload): string[] {
  const lines: string[] = [];
  for (const result of report.results) {
    for (const run of result.runs.filter((each) => each.workload === workload)) {
      const figures = figuresOf(run);
      const measured = figures === null ? ['failed', '', '', '', '', ''] : cells(figures);
      lines.push(row([workload, result.target, String(result.repetition), run.loadAverage1mAtStart.toFixed(2), ...measured, String(run.errors)], widths));
    }
  }
  for (const each of report.means.filter((entry) => entry.workload === workload)) {
    lines.push(row([workload, each.target, 'mean', '', ...cells(each), ''], widths));
  }
  const ratio = report.ratios.find((each) => each.workload === workload);
  if (ratio !== undefined) {
    const byRepetition = ratio.requestsPerSecondByRepetition.map((value, index) => `r${index + 1} ${formatRatio(value)}`).join(', ');
    lines.push(`${row([workload, 'cairn/etcd', '', '', formatRatio(ratio.requestsPerSecond), formatRatio(ratio.averageMs), formatRatio(ratio.p50Ms),
      formatRatio(ratio.p99Ms), '', '', ''], widths)}   req/s by repetition: ${byRepetition}`);
  }
  return lines;
}

function failureLines(report: EtcdToolReport): string[] {
  return report.results.flatMap((result) => result.runs.flatMap((run) => [
    ...(run.failure === null ? [] : [`${result.target} r${result.repetition} ${run.workload} failed: ${run.failure}`]),
    ...[run.summary, run.creation].flatMap((summary) => Object.entries(summary?.errors ?? {}).map(([message, count]) =>
      `${result.target} r${result.repetition} ${run.workload}: ${count} x ${message}`)),
  ]));
}

export function formatEtcdToolTable(report: EtcdToolReport): string {
  const lines = [...describeLoad(report.config), describeEnvironment(report.environment), ''];
  lines.push(row(['workload', 'target', 'rep', 'load', 'req/s', 'avg ms', 'p50 ms', 'p99 ms', 'slowest ms', 'total s', 'errors'], widths));
  for (const workload of report.config.workloads) lines.push(...workloadLines(report, workload));
  const failures = failureLines(report);
  if (failures.length > 0) lines.push('', ...failures);
  return lines.join('\n');
}
