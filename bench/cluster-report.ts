// Renders the cluster benchmark's results: one table of every workload on
// every cluster with per-kind means and cairn/etcd ratios, then the etcdctl
// check perf verdicts; or one JSON document for scripts. Ratios are
// cairn/etcd: above 1 is better for ops/s and writes/s, worse for latencies.
import type { CheckPerfLoad } from './cluster-check-perf.js';
import { checkPerfLimitPerSecond } from './cluster-check-perf.js';
import type { ClusterConfig, WorkloadName } from './cluster-flags.js';
import type { ClusterCheckPerf, ClusterTargetResult, WorkloadResult } from './cluster-measure.js';
import type { TargetKind } from './flags.js';
import { describeEnvironment, formatNumber, formatRatio, ratioOf, row, type Environment } from './table.js';

/** A kind's figures for one workload over the repetitions that produced figures: plain means, each repetition weighing the same. */
export interface WorkloadMean {
  workload: WorkloadName;
  target: TargetKind;
  repetitions: number;
  operationsPerSecond: number;
  p50Ms: number;
  p99Ms: number;
}

export interface WorkloadRatio {
  workload: WorkloadName;
  /** Of the means. */
  operationsPerSecond: number | null;
  p50: number | null;
  p99: number | null;
  /** ops/s of cairn's repetition r over etcd's repetition r, for r = 1, 2, ...: how much the ratio moves between runs. */
  operationsPerSecondByRepetition: Array<number | null>;
}

export interface CheckPerfRatio {
  load: CheckPerfLoad;
  writesPerSecond: number | null;
}

export interface ClusterReport {
  benchmark: 'cluster-throughput';
  config: ClusterConfig;
  environment: Environment;
  results: ClusterTargetResult[];
  means: WorkloadMean[];
  /** cairn/etcd, when both kinds were measured. */
  ratios: WorkloadRatio[];
  checkPerfRatios: CheckPerfRatio[];
}

function mean(values: number[]): number {
  return values.length === 0 ? Number.NaN : values.reduce((total, value) => total + value, 0) / values.length;
}

function measured(results: ClusterTargetResult[], target: TargetKind, workload: WorkloadName): WorkloadResult[] {
  return results
    .filter((result) => result.target === target)
    .flatMap((result) => result.workloads.filter((run) => run.workload === workload && run.failure === null && run.operations > 0));
}

function meanOf(results: ClusterTargetResult[], target: TargetKind, workload: WorkloadName): WorkloadMean | null {
  const runs = measured(results, target, workload);
  if (runs.length === 0) return null;
  return {
    workload,
    target,
    repetitions: runs.length,
    operationsPerSecond: mean(runs.map((run) => run.operationsPerSecond)),
    p50Ms: mean(runs.map((run) => run.p50Ms)),
    p99Ms: mean(runs.map((run) => run.p99Ms)),
  };
}

function rateOf(results: ClusterTargetResult[], target: TargetKind, repetition: number, workload: WorkloadName): number {
  const run = results.find((result) => result.target === target && result.repetition === repetition)?.workloads.find((each) => each.workload === workload);
  return run === undefined || run.failure !== null ? Number.NaN : run.operationsPerSecond;
}

function ratioFor(config: ClusterConfig, results: ClusterTargetResult[], means: WorkloadMean[], workload: WorkloadName): WorkloadRatio | null {
  const etcd = means.find((each) => each.workload === workload && each.target === 'etcd');
  const cairn = means.find((each) => each.workload === workload && each.target === 'cairn');
  if (etcd === undefined || cairn === undefined) return null;
  const byRepetition = Array.from({ length: config.repetitions }, (_, index) => ratioOf(
    rateOf(results, 'cairn', index + 1, workload),
    rateOf(results, 'etcd', index + 1, workload),
  ));
  return {
    workload,
    operationsPerSecond: ratioOf(cairn.operationsPerSecond, etcd.operationsPerSecond),
    p50: ratioOf(cairn.p50Ms, etcd.p50Ms),
    p99: ratioOf(cairn.p99Ms, etcd.p99Ms),
    operationsPerSecondByRepetition: byRepetition,
  };
}

function checkPerfRatios(config: ClusterConfig, results: ClusterTargetResult[]): CheckPerfRatio[] {
  const checks = results.flatMap((result) => result.checkPerf);
  const rate = (target: TargetKind, load: CheckPerfLoad) => checks.find((check) => check.target === target && check.load === load)?.writesPerSecond ?? Number.NaN;
  return config.checkPerfLoads.map((load) => ({ load, writesPerSecond: ratioOf(rate('cairn', load), rate('etcd', load)) }));
}

export function buildClusterReport(config: ClusterConfig, results: ClusterTargetResult[], environment: Environment): ClusterReport {
  const kinds = [...new Set(config.targets)];
  const means = config.workloads.flatMap((workload) => kinds.flatMap((target) => meanOf(results, target, workload) ?? []));
  const ratios = config.workloads.flatMap((workload) => ratioFor(config, results, means, workload) ?? []);
  return { benchmark: 'cluster-throughput', config, environment, results, means, ratios, checkPerfRatios: checkPerfRatios(config, results) };
}

function describeLoad(config: ClusterConfig): string[] {
  const inFlight = config.workers * config.connectionsPerWorker * config.inFlightPerConnection;
  return [
    `cluster throughput: ${config.clusterSize}-member clusters, every member with ${config.clusterArgs.join(' ')} (default snapshot count); ` +
      `a fresh cluster per kind and repetition, measured in the order ${config.targets.join(', ')}`,
    `${inFlight} requests in flight (${config.workers} workers x ${config.connectionsPerWorker} connections x ${config.inFlightPerConnection}); ` +
      `puts of ${config.valueBytes}-byte values and single-key Ranges, on random keys among ${config.keySpace} (all written first); ` +
      `${config.warmupSeconds} s warm-up, then ${config.durationSeconds} s per workload`,
    'put-leader: every connection to the leader; put-all, range-*: connections spread over all members. ' +
      '"load" is the 1-minute load average when the workload started; "leader" is before -> after; ' +
      '"cpu µs/op" is all members\' CPU per request answered (warm-up included), what to compare builds by.',
  ];
}

const widths = [18, 10, 4, 5, 8, 7, 8, 8, 6, 9, 16, 8];

function workloadRow(result: ClusterTargetResult, run: WorkloadResult): string {
  if (run.failure !== null) {
    return row([run.workload, result.target, String(result.repetition), run.loadAverage1mAtStart.toFixed(2), 'failed', '', '', '', '', '', run.connections, run.leaderBefore], widths);
  }
  return row([
    run.workload, result.target, String(result.repetition), run.loadAverage1mAtStart.toFixed(2), run.operationsPerSecond.toFixed(0),
    formatNumber(run.p50Ms, 2), formatNumber(run.p99Ms, 2), formatNumber(run.maxMs, 1), String(run.errors),
    run.cpuMicrosecondsPerOperation === null ? '-' : run.cpuMicrosecondsPerOperation.toFixed(0), run.connections,
    `${run.leaderBefore}->${run.leaderAfter ?? 'none'}`,
  ], widths);
}

function workloadLines(report: ClusterReport, workload: WorkloadName): string[] {
  const lines: string[] = [];
  for (const result of report.results) {
    for (const run of result.workloads.filter((each) => each.workload === workload)) lines.push(workloadRow(result, run));
  }
  for (const each of report.means.filter((entry) => entry.workload === workload)) {
    lines.push(row([workload, each.target, 'mean', '', each.operationsPerSecond.toFixed(0), formatNumber(each.p50Ms, 2), formatNumber(each.p99Ms, 2), '', '', '', '', ''], widths));
  }
  const ratio = report.ratios.find((each) => each.workload === workload);
  if (ratio !== undefined) {
    const byRepetition = ratio.operationsPerSecondByRepetition.map((value, index) => `r${index + 1} ${formatRatio(value)}`).join(', ');
    lines.push(`${row([workload, 'cairn/etcd', '', '', formatRatio(ratio.operationsPerSecond), formatRatio(ratio.p50), formatRatio(ratio.p99), '', '', '', '', ''], widths)}` +
      `   ops/s by repetition: ${byRepetition}`);
  }
  return lines;
}

function checkPerfLines(report: ClusterReport): string[] {
  const checks: ClusterCheckPerf[] = report.results.flatMap((result) => result.checkPerf);
  if (checks.length === 0) return [];
  const checkWidths = [10, 4, 5, 9, 7, 9, 8, 7, 4];
  const lines = [
    '',
    'etcdctl check perf --endpoints=<all 3 members> --load=L, each on a fresh cluster (PASS needs > 90% of the limit, slowest <= 0.5 s, stddev <= 0.1 s):',
    row(['target', 'load', 'load', 'writes/s', 'limit', 'slowest s', 'stddev s', 'verdict', 'exit'], checkWidths),
  ];
  for (const check of checks) {
    const verdict = check.passed === null ? 'none' : check.passed ? 'PASS' : 'FAIL';
    lines.push(row([
      check.target, check.load, check.loadAverage1mAtStart.toFixed(2), String(check.writesPerSecond ?? '-'), String(checkPerfLimitPerSecond[check.load]),
      String(check.slowestSeconds ?? '-'), String(check.stddevSeconds ?? '-'), verdict, String(check.exitCode ?? 'killed'),
    ], checkWidths));
  }
  for (const ratio of report.checkPerfRatios) {
    lines.push(row(['cairn/etcd', ratio.load, '', formatRatio(ratio.writesPerSecond), '', '', '', '', ''], checkWidths));
  }
  for (const check of checks) {
    lines.push(`${check.target} ${check.load}: ${check.verdictLines.join(' | ') || '(no verdict)'}`);
    const perMember = Object.entries(check.memberCpuSeconds).map(([name, seconds]) => `${name} ${seconds.toFixed(1)} s`).join(', ');
    lines.push(`${check.target} ${check.load}: members' CPU ${perMember}; ${check.cpuMicrosecondsPerWrite === null ? '-' : check.cpuMicrosecondsPerWrite.toFixed(0)} µs per write in all`);
    if (check.errorOutput !== '') lines.push(`${check.target} ${check.load} stderr: ${check.errorOutput}`);
  }
  return lines;
}

function detailLines(report: ClusterReport): string[] {
  const lines: string[] = [''];
  for (const result of report.results) {
    const fill = result.fill === null ? 'no fill' : `filled ${result.fill.keys} keys in ${result.fill.seconds.toFixed(2)} s (${result.fill.keysPerSecond.toFixed(0)} puts/s)`;
    lines.push(`${result.target} r${result.repetition}: load average ${result.loadAverageAtStart.join(', ')} at start; ${fill}`);
    for (const run of result.workloads) {
      if (run.errorSamples.length > 0) {
        const byMember = Object.entries(run.errorsByMember).sort(([a], [b]) => a.localeCompare(b)).map(([name, count]) => `${name} ${count}`).join(', ');
        lines.push(`  ${run.workload}: ${run.errors} errors (sent to ${byMember}; the slowest failed after ` +
          `${(run.errorLatencyMsMax / 1000).toFixed(2)} s): ${run.errorSamples.join('; ')}`);
      }
      if (run.emptyRanges > 0) lines.push(`  ${run.workload}: ${run.emptyRanges} Ranges found no key`);
      if (run.failure !== null) lines.push(`  ${run.workload} failed: ${run.failure}`);
      if (run.membersExited.length > 0) lines.push(`  ${run.workload}: members ${run.membersExited.join(', ')} exited`);
    }
    for (const [name, tail] of Object.entries(result.memberOutputTails)) lines.push(`  --- ${name} output (tail) ---\n${tail}`);
  }
  return lines;
}

export function formatClusterTable(report: ClusterReport): string {
  const lines = [...describeLoad(report.config), describeEnvironment(report.environment), ''];
  lines.push(row(['workload', 'target', 'rep', 'load', 'ops/s', 'p50 ms', 'p99 ms', 'max ms', 'errors', 'cpu µs/op', 'connections', 'leader'], widths));
  for (const workload of report.config.workloads) lines.push(...workloadLines(report, workload));
  lines.push(...detailLines(report), ...checkPerfLines(report));
  return lines.join('\n');
}
