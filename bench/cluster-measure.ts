// Measures one repetition of one kind: starts a fresh 3-member cluster, runs
// every workload on it in turn (workers forked afresh for each, all started
// together), merges what they measured, and always destroys the cluster. In a
// kind's first repetition it then runs `etcdctl check perf`, each load on a
// fresh cluster of its own so that no load inherits another's data.
import { loadavg } from 'node:os';
import { fileURLToPath } from 'node:url';
import type { Cluster, ClusterMember } from '../test/harness/cluster.js';
import { wasInterrupted } from './cleanup.js';
import { runCheckPerf, type CheckPerfResult } from './cluster-check-perf.js';
import { processCpuMicroseconds } from './process-cpu.js';
import type { ClusterConfig, WorkloadName } from './cluster-flags.js';
import { fillTimeoutMs, type ClusterLoadConfig, type ClusterLoadResult, type FillReport, type Operation } from './cluster-protocol.js';
import { memberOutputTails, withCluster } from './cluster-server.js';
import type { TargetKind } from './flags.js';
import { within } from './server.js';
import { evenShares } from './shares.js';
import { LatencyHistogram } from './stats.js';
import { loadAverage1m } from './table.js';
import { forkWorker, type Worker } from './workers.js';

const loadScript = fileURLToPath(new URL('./cluster-load.js', import.meta.url));
const connectTimeoutMs = 20_000;
/** Workers get this long past their planned run to report before the workload is declared failed. */
const reportGraceMs = 30_000;
/** After a workload the members should agree on a leader at once; a longer wait would hide an election in progress. */
const leaderAfterDeadlineMs = 2_000;

type LoadWorker = Worker<FillReport, ClusterLoadResult>;

export interface WorkloadResult {
  workload: WorkloadName;
  /** 1-minute load average of the machine when the workload started (others may be using it). */
  loadAverage1mAtStart: number;
  /** Where the connections went, e.g. "m2 x16" (the leader) or "m1 x6, m2 x5, m3 x5". */
  connections: string;
  /** Empty when the members agreed on no leader before the workload (then it failed). */
  leaderBefore: string;
  /** Null when the members did not agree on a leader right after the workload. */
  leaderAfter: string | null;
  operations: number;
  measuredSeconds: number;
  operationsPerSecond: number;
  p50Ms: number;
  p99Ms: number;
  meanMs: number;
  maxMs: number;
  /** Failed requests, warm-up included (as errors counts them). */
  errors: number;
  /** Failed requests by the member they were sent to, e.g. { m1: 96 }; members without errors are left out. */
  errorsByMember: Record<string, number>;
  /** The longest a failed request took to fail; 0 without errors. */
  errorLatencyMsMax: number;
  errorSamples: string[];
  emptyRanges: number;
  loopsGivenUp: number;
  /** Members whose process was no longer running after the workload. */
  membersExited: string[];
  /** Why the workload produced no figures (workers failed, no leader); null when it ran. */
  failure: string | null;
  /**
   * All members' CPU per request answered (µs), warm-up included, from the
   * workers' start to their reports; null when a member was not running. The
   * figure to compare builds by: the rate moves with how busy the machine is.
   */
  cpuMicrosecondsPerOperation: number | null;
}

export interface ClusterTargetResult {
  target: TargetKind;
  /** 1-based; with both kinds, odd repetitions measured etcd first and even ones cairn first. */
  repetition: number;
  loadAverageAtStart: number[];
  /** Writing the whole key space once (puts of every worker together) before the first workload. */
  fill: { keys: number; seconds: number; keysPerSecond: number } | null;
  workloads: WorkloadResult[];
  /** Each member's last output, kept when a workload saw errors, a member exited or a workload failed. */
  memberOutputTails: Record<string, string>;
  checkPerf: ClusterCheckPerf[];
}

/** A check perf run on a cluster, with what its members spent. */
export interface ClusterCheckPerf extends CheckPerfResult {
  memberOutputTails: Record<string, string>;
  /** CPU each member used during the run (user + system seconds, by member name), the closing delete included. */
  memberCpuSeconds: Record<string, number>;
  /**
   * All members' CPU per write (µs): check perf writes for 60 s at what it
   * reports as its rate, so writes ≈ 60 × writes/s. The figure to compare
   * builds and servers by when the rate is capped by check perf's limit.
   */
  cpuMicrosecondsPerWrite: number | null;
}

/** check perf's load phase (etcdctl's 3.4 check.go: duration 60 for every load). */
const checkPerfLoadSeconds = 60;

/** All members' CPU between two readings of memberCpuMicroseconds (NaN if a member stopped running). */
function cpuSince(before: Map<string, number>, after: Map<string, number>): number {
  let total = 0;
  for (const [name, used] of after) total += used - (before.get(name) ?? Number.NaN);
  return total;
}

/** Each member's CPU so far; NaN for one that is no longer running (its figure then means nothing). */
function memberCpuMicroseconds(cluster: Cluster): Map<string, number> {
  return new Map(cluster.members.map((member) => [member.name, member.running() ? processCpuMicroseconds(member.pid()) : Number.NaN]));
}

const operationOf: Record<WorkloadName, Operation> = {
  'put-leader': 'put',
  'put-all': 'put',
  'range-linearizable': 'range-linearizable',
  'range-serializable': 'range-serializable',
};

/** The endpoint of every connection of every worker: all the leader's, or the members' in turn. */
function connectionEndpoints(workload: WorkloadName, config: ClusterConfig, members: ClusterMember[], leader: ClusterMember): ClusterMember[][] {
  return Array.from({ length: config.workers }, (_, worker) => Array.from({ length: config.connectionsPerWorker }, (_, connection) => {
    if (workload === 'put-leader') return leader;
    const member = members[(worker * config.connectionsPerWorker + connection) % members.length];
    if (member === undefined) throw new Error('cluster benchmark: no members to spread the connections over');
    return member;
  }));
}

function describeConnections(targets: ClusterMember[][]): string {
  const counts = new Map<string, number>();
  for (const member of targets.flat()) counts.set(member.name, (counts.get(member.name) ?? 0) + 1);
  return [...counts].sort(([a], [b]) => a.localeCompare(b)).map(([name, count]) => `${name} x${count}`).join(', ');
}

function loadConfigs(workload: WorkloadName, config: ClusterConfig, targets: ClusterMember[][], fillFirst: boolean, keyPrefix: string): ClusterLoadConfig[] {
  const fillShares = evenShares(fillFirst ? config.keySpace : 0, config.workers);
  let fillFrom = 0;
  return targets.map((members, workerIndex) => {
    // One target list and one fill share per worker.
    const fillShare = fillShares[workerIndex];
    if (fillShare === undefined) throw new Error(`cluster benchmark: no fill share for worker ${workerIndex} of ${fillShares.length}`);
    const loadConfig: ClusterLoadConfig = {
      workerIndex,
      endpoints: members.map((member) => member.endpoint),
      inFlightPerConnection: config.inFlightPerConnection,
      operation: operationOf[workload],
      keyPrefix,
      keySpace: config.keySpace,
      valueBytes: config.valueBytes,
      fillFrom,
      fillTo: fillFrom + fillShare,
      warmupMs: config.warmupSeconds * 1000,
      durationMs: config.durationSeconds * 1000,
      requestTimeoutMs: config.requestTimeoutMs,
    };
    fillFrom = loadConfig.fillTo;
    return loadConfig;
  });
}

interface WorkersRun {
  fills: FillReport[];
  results: ClusterLoadResult[];
  /** All members' CPU (µs) from `go` to the last report; NaN when a member was not running. */
  memberCpuMicroseconds: number;
}

async function runWorkers(configs: ClusterLoadConfig[], config: ClusterConfig, cluster: Cluster): Promise<WorkersRun> {
  const workers: LoadWorker[] = [];
  try {
    for (const loadConfig of configs) {
      workers.push(forkWorker(loadScript, loadConfig, `cluster load worker ${loadConfig.workerIndex}`));
    }
    const fills = await within(Promise.all(workers.map((worker) => worker.ready)), connectTimeoutMs + fillTimeoutMs(config.keySpace), 'workers connecting and filling');
    const before = memberCpuMicroseconds(cluster);
    for (const worker of workers) worker.go();
    const plannedMs = (config.warmupSeconds + config.durationSeconds) * 1000 + config.requestTimeoutMs;
    const results = await within(Promise.all(workers.map((worker) => worker.result)), plannedMs + reportGraceMs, 'workers reporting');
    return { fills, results, memberCpuMicroseconds: cpuSince(before, memberCpuMicroseconds(cluster)) };
  } finally {
    await Promise.all(workers.map((worker) => worker.kill()));
  }
}

function sum(results: ClusterLoadResult[], field: (result: ClusterLoadResult) => number): number {
  return results.reduce((total, result) => total + field(result), 0);
}

type Figures = Pick<WorkloadResult,
  'operations' | 'measuredSeconds' | 'operationsPerSecond' | 'p50Ms' | 'p99Ms' | 'meanMs' | 'maxMs' | 'errors' | 'errorsByMember' | 'errorLatencyMsMax' |
  'errorSamples' | 'emptyRanges' | 'loopsGivenUp'>;

function errorsByMember(results: ClusterLoadResult[], members: ClusterMember[]): Record<string, number> {
  const byMember: Record<string, number> = {};
  for (const result of results) {
    for (const [endpoint, count] of Object.entries(result.errorsByEndpoint)) {
      const name = members.find((member) => member.endpoint === endpoint)?.name ?? endpoint;
      byMember[name] = (byMember[name] ?? 0) + count;
    }
  }
  return byMember;
}

function summarize(results: ClusterLoadResult[], members: ClusterMember[]): Figures {
  const histogram = new LatencyHistogram();
  for (const result of results) histogram.merge(result.histogram);
  const operations = sum(results, (result) => result.operations);
  // The workers started together; the slowest one bounds the measured window.
  const measuredSeconds = Math.max(0, ...results.map((result) => result.measuredMs)) / 1000;
  return {
    operations,
    measuredSeconds,
    operationsPerSecond: measuredSeconds > 0 ? operations / measuredSeconds : 0,
    p50Ms: histogram.quantileUs(0.5) / 1000,
    p99Ms: histogram.quantileUs(0.99) / 1000,
    meanMs: histogram.meanUs() / 1000,
    maxMs: histogram.maxLatencyUs() / 1000,
    errors: sum(results, (result) => result.errors),
    errorsByMember: errorsByMember(results, members),
    errorLatencyMsMax: Math.max(0, ...results.map((result) => result.errorLatencyMsMax)),
    errorSamples: [...new Set(results.flatMap((result) => result.errorSamples))],
    emptyRanges: sum(results, (result) => result.emptyRanges),
    loopsGivenUp: sum(results, (result) => result.loopsGivenUp),
  };
}

const noFigures: Figures = {
  operations: 0, measuredSeconds: 0, operationsPerSecond: 0, p50Ms: Number.NaN, p99Ms: Number.NaN, meanMs: Number.NaN,
  maxMs: Number.NaN, errors: 0, errorsByMember: {}, errorLatencyMsMax: 0, errorSamples: [], emptyRanges: 0, loopsGivenUp: 0,
};

function fillOf(fills: FillReport[]): ClusterTargetResult['fill'] {
  const keys = fills.reduce((total, fill) => total + fill.filled, 0);
  if (keys === 0) return null;
  const seconds = Math.max(...fills.map((fill) => fill.fillMs)) / 1000;
  return { keys, seconds, keysPerSecond: seconds > 0 ? keys / seconds : 0 };
}

interface WorkloadRun {
  result: WorkloadResult;
  fill: ClusterTargetResult['fill'];
}

/** One workload on a running cluster; a failure is recorded in the result rather than thrown, so earlier figures survive. */
async function runWorkload(cluster: Cluster, workload: WorkloadName, config: ClusterConfig, fillFirst: boolean, keyPrefix: string): Promise<WorkloadRun> {
  const loadAverage1mAtStart = loadAverage1m();
  let figures = noFigures;
  let fill: ClusterTargetResult['fill'] = null;
  let failure: string | null = null;
  let connections = '';
  let leaderBefore = '';
  let cpuMicrosecondsPerOperation: number | null = null;
  try {
    const leader = await cluster.leader();
    leaderBefore = leader.name;
    const targets = connectionEndpoints(workload, config, cluster.members, leader);
    connections = describeConnections(targets);
    const { fills, results, memberCpuMicroseconds: cpu } = await runWorkers(loadConfigs(workload, config, targets, fillFirst, keyPrefix), config, cluster);
    figures = summarize(results, cluster.members);
    const answered = sum(results, (result) => result.operations + result.warmupOperations);
    cpuMicrosecondsPerOperation = answered > 0 && Number.isFinite(cpu) ? cpu / answered : null;
    fill = fillOf(fills);
  } catch (error) {
    failure = (error as Error).message;
  }
  const leaderAfter = await cluster.leader(leaderAfterDeadlineMs).then((member) => member.name, () => null);
  const membersExited = cluster.members.filter((member) => !member.running()).map((member) => member.name);
  return {
    result: { workload, loadAverage1mAtStart, connections, leaderBefore, leaderAfter, ...figures, membersExited, failure, cpuMicrosecondsPerOperation },
    fill,
  };
}

function describeWorkload(prefix: string, result: WorkloadResult): string {
  if (result.failure !== null) return `${prefix} ${result.workload} failed: ${result.failure.split('\n')[0]}`;
  return `${prefix} ${result.workload}: ${result.operationsPerSecond.toFixed(0)} ops/s, p50 ${result.p50Ms.toFixed(2)} ms, ` +
    `p99 ${result.p99Ms.toFixed(2)} ms, ${result.errors} errors (load ${result.loadAverage1mAtStart})`;
}

function troubled(result: WorkloadResult): boolean {
  return result.failure !== null || result.errors > 0 || result.membersExited.length > 0;
}

async function runWorkloads(cluster: Cluster, target: TargetKind, repetition: number, config: ClusterConfig, runId: string): Promise<Omit<ClusterTargetResult, 'checkPerf'>> {
  const loadAverageAtStart = loadavg().map((load) => Math.round(load * 100) / 100);
  const keyPrefix = `bench-cluster/${runId}/`;
  const workloads: WorkloadResult[] = [];
  let fill: ClusterTargetResult['fill'] = null;
  for (const workload of config.workloads) {
    if (wasInterrupted()) break;
    const run = await runWorkload(cluster, workload, config, workloads.length === 0, keyPrefix);
    workloads.push(run.result);
    fill ??= run.fill;
    console.error(describeWorkload(`cluster-throughput ${target} r${repetition}:`, run.result));
    // A member gone or a workload that could not run leaves nothing sound to measure on this cluster.
    if (run.result.failure !== null || run.result.membersExited.length > 0) break;
  }
  const tails = workloads.some(troubled) ? memberOutputTails(cluster) : {};
  return { target, repetition, loadAverageAtStart, fill, workloads, memberOutputTails: tails };
}

async function runCheckPerfLoads(target: TargetKind, config: ClusterConfig): Promise<ClusterTargetResult['checkPerf']> {
  const results: ClusterTargetResult['checkPerf'] = [];
  for (const load of config.checkPerfLoads) {
    if (wasInterrupted()) break;
    console.error(`cluster-throughput ${target}: etcdctl check perf --load=${load} on a fresh cluster (about 60 s)`);
    const result = await withCluster(target, { size: config.clusterSize, args: config.clusterArgs }, async (cluster): Promise<ClusterCheckPerf> => {
      const before = memberCpuMicroseconds(cluster);
      const checked = await runCheckPerf(target, cluster.endpoints(), load);
      const after = memberCpuMicroseconds(cluster);
      const memberCpuSeconds = Object.fromEntries([...after].map(([name, used]) => [name, (used - (before.get(name) ?? Number.NaN)) / 1e6]));
      const totalMicroseconds = cpuSince(before, after);
      const writes = checked.writesPerSecond === null ? 0 : checked.writesPerSecond * checkPerfLoadSeconds;
      const failedRequests = checked.verdictLines.some((line) => line.startsWith('FAIL: ERROR'));
      const tails = checked.passed === null || failedRequests ? memberOutputTails(cluster) : {};
      return { ...checked, memberOutputTails: tails, memberCpuSeconds, cpuMicrosecondsPerWrite: writes > 0 && Number.isFinite(totalMicroseconds) ? totalMicroseconds / writes : null };
    });
    console.error(`cluster-throughput ${target}: check perf ${load}: ${result.verdictLines.join(' | ') || `no verdict (exit ${result.exitCode})`}`);
    results.push(result);
  }
  return results;
}

export async function measureCluster(target: TargetKind, repetition: number, config: ClusterConfig, runId: string): Promise<ClusterTargetResult> {
  const shape = { size: config.clusterSize, args: config.clusterArgs };
  const measured = await withCluster(target, shape, (cluster) => runWorkloads(cluster, target, repetition, config, `${runId}-${target}-r${repetition}`));
  const checkPerf = repetition === 1 ? await runCheckPerfLoads(target, config) : [];
  return { ...measured, checkPerf };
}

/** What makes a cluster's figures unsound; each is one sentence. Slow or FAILed check perf runs are results, not problems. */
export function clusterProblems(result: ClusterTargetResult): string[] {
  const problems: string[] = [];
  const prefix = `r${result.repetition}`;
  for (const workload of result.workloads) {
    const name = `${prefix} ${workload.workload}`;
    if (workload.failure !== null) problems.push(`${name} failed: ${workload.failure}`);
    if (workload.membersExited.length > 0) problems.push(`${name}: members ${workload.membersExited.join(', ')} exited`);
    if (workload.loopsGivenUp > 0) problems.push(`${name}: ${workload.loopsGivenUp} request loops gave up: ${workload.errorSamples.join('; ')}`);
    if (workload.workload === 'range-linearizable' && workload.emptyRanges > 0) {
      problems.push(`${name}: ${workload.emptyRanges} linearizable Ranges did not find a key written before the workload`);
    }
  }
  for (const checked of result.checkPerf) {
    if (checked.passed === null) problems.push(`check perf ${checked.load} gave no verdict (exit ${checked.exitCode}): ${checked.errorOutput}`);
  }
  return problems;
}
