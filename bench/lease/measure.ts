// Measures lease keep-alive on one target: starts the server through the test
// launcher, lets every keep-alive process grant its share of the leases, then
// starts them renewing together and merges what they measured. Always stops
// the processes and the server before returning.
import { fileURLToPath } from 'node:url';
import type { ServerHandle } from '../../test/harness/launcher.js';
import type { TargetKind } from '../flags.js';
import { processCpuMicroseconds } from '../process-cpu.js';
import { withServer, within } from '../server.js';
import { evenShares } from '../shares.js';
import { LatencyHistogram } from '../stats.js';
import { forkWorker, type Worker } from '../workers.js';
import type { LeaseConfig } from './flags.js';
import type { GrantReport, KeepAliveResult, KeepAliveWorkerConfig } from './protocol.js';

const keepAliveScript = fileURLToPath(new URL('./keepalive.js', import.meta.url));
const connectTimeoutMs = 20_000;
/** Workers get this long past their planned run to report before the target is declared failed. */
const reportGraceMs = 30_000;

type KeepAliveWorker = Worker<GrantReport, KeepAliveResult>;

export interface LeaseTargetResult {
  target: TargetKind;
  leases: number;
  streams: number;
  /** Granting all leases: time (the slowest process), rate and per-grant latency. */
  grantSeconds: number;
  grantsPerSecond: number;
  grantP50Ms: number;
  grantP99Ms: number;
  /**
   * CPU per grant: the server's from forking the load processes to their last
   * grant (their connecting included), and the load processes' own while they
   * granted. The rate can be the load's bound rather than the server's, which
   * is why the server's cost per grant is the figure to compare.
   */
  grantServerCpuUs: number;
  grantLoadCpuUs: number;
  /** The server's CPU per keep-alive answered, from `go` to the last report (warm-up included). */
  keepAliveServerCpuUs: number;
  /** Keep-alives sent during the measured phase and answered. */
  keepAlives: number;
  measuredSeconds: number;
  keepAlivesPerSecond: number;
  /** How often each lease was renewed during the measured phase, on average. */
  renewalsPerLease: number;
  p50Ms: number;
  p99Ms: number;
  meanMs: number;
  maxMs: number;
  expired: number;
  unexpected: number;
  unanswered: number;
  streamErrors: number;
  errorSamples: string[];
}

/** A bound on granting that grows with the lease count (1 ms per lease on top of 30 s). */
function grantTimeoutMs(leases: number): number {
  return 30_000 + leases;
}

function workerConfig(config: LeaseConfig, server: ServerHandle, workerIndex: number, leases: number): KeepAliveWorkerConfig {
  return {
    endpoint: server.endpoint,
    workerIndex,
    leases,
    leaseTtlSeconds: config.leaseTtlSeconds,
    connections: config.connectionsPerWorker,
    streamsPerConnection: config.streamsPerConnection,
    inFlightPerStream: config.inFlightPerStream,
    grantInFlight: config.grantInFlight,
    warmupMs: config.warmupSeconds * 1000,
    durationMs: config.durationSeconds * 1000,
    requestTimeoutMs: config.requestTimeoutMs,
    grantTimeoutMs: grantTimeoutMs(leases),
  };
}

/** The server's CPU (µs) over each phase; measured in the parent from /proc. */
interface ServerCpu {
  grants: number;
  keepAlives: number;
}

async function runWorkers(config: LeaseConfig, server: ServerHandle): Promise<{ grants: GrantReport[]; results: KeepAliveResult[]; serverCpu: ServerCpu }> {
  const workers: KeepAliveWorker[] = [];
  try {
    const beforeGrants = processCpuMicroseconds(server.pid);
    evenShares(config.leases, config.workers).forEach((leases, index) => {
      workers.push(forkWorker(keepAliveScript, workerConfig(config, server, index, leases), `keep-alive process ${index}`));
    });
    const grants = await within(Promise.all(workers.map((worker) => worker.ready)), connectTimeoutMs + grantTimeoutMs(config.leases), 'granting leases');
    const beforeKeepAlives = processCpuMicroseconds(server.pid);
    for (const worker of workers) worker.go();
    const plannedMs = (config.warmupSeconds + config.durationSeconds) * 1000 + config.requestTimeoutMs;
    const results = await within(Promise.all(workers.map((worker) => worker.result)), plannedMs + reportGraceMs, 'keep-alive processes reporting');
    const serverCpu = { grants: beforeKeepAlives - beforeGrants, keepAlives: processCpuMicroseconds(server.pid) - beforeKeepAlives };
    return { grants, results, serverCpu };
  } finally {
    await Promise.all(workers.map((worker) => worker.kill()));
  }
}

function sum(results: KeepAliveResult[], field: (result: KeepAliveResult) => number): number {
  return results.reduce((total, result) => total + field(result), 0);
}

function perOperation(cpuMicroseconds: number, operations: number): number {
  return operations > 0 ? cpuMicroseconds / operations : 0;
}

function summarize(target: TargetKind, config: LeaseConfig, grants: GrantReport[], results: KeepAliveResult[], serverCpu: ServerCpu): LeaseTargetResult {
  const grantLatency = new LatencyHistogram();
  for (const grant of grants) grantLatency.merge(grant.histogram);
  const latency = new LatencyHistogram();
  for (const result of results) latency.merge(result.histogram);
  const granted = grants.reduce((total, grant) => total + grant.granted, 0);
  const grantSeconds = Math.max(...grants.map((grant) => grant.grantMs)) / 1000;
  const keepAlives = sum(results, (result) => result.keepAlives);
  // The processes started together; the slowest one bounds the measured window.
  const measuredSeconds = Math.max(0, ...results.map((result) => result.measuredMs)) / 1000;
  return {
    target,
    leases: granted,
    streams: config.workers * config.connectionsPerWorker * config.streamsPerConnection,
    grantSeconds,
    grantsPerSecond: grantSeconds > 0 ? granted / grantSeconds : 0,
    grantP50Ms: grantLatency.quantileUs(0.5) / 1000,
    grantP99Ms: grantLatency.quantileUs(0.99) / 1000,
    grantServerCpuUs: perOperation(serverCpu.grants, granted),
    grantLoadCpuUs: perOperation(grants.reduce((total, grant) => total + grant.cpuMicroseconds, 0), granted),
    keepAliveServerCpuUs: perOperation(serverCpu.keepAlives, keepAlives + sum(results, (result) => result.warmupKeepAlives)),
    keepAlives,
    measuredSeconds,
    keepAlivesPerSecond: measuredSeconds > 0 ? keepAlives / measuredSeconds : 0,
    renewalsPerLease: granted > 0 ? keepAlives / granted : 0,
    p50Ms: latency.quantileUs(0.5) / 1000,
    p99Ms: latency.quantileUs(0.99) / 1000,
    meanMs: latency.meanUs() / 1000,
    maxMs: latency.maxLatencyUs() / 1000,
    expired: sum(results, (result) => result.expired),
    unexpected: sum(results, (result) => result.unexpected),
    unanswered: sum(results, (result) => result.unanswered),
    streamErrors: sum(results, (result) => result.streamErrors),
    errorSamples: [...new Set(results.flatMap((result) => result.errorSamples))],
  };
}

/** What must be zero for the figures to mean anything; each broken rule is one sentence. */
export function leaseProblems(result: LeaseTargetResult): string[] {
  const problems: string[] = [];
  if (result.expired > 0) problems.push(`${result.expired} keep-alives were answered with TTL 0: the server lost leases it granted`);
  if (result.unexpected > 0) problems.push(`${result.unexpected} keep-alive answers named a lease the stream had not asked about`);
  if (result.unanswered > 0) problems.push(`${result.unanswered} keep-alives were never answered`);
  if (result.streamErrors > 0) problems.push(`${result.streamErrors} keep-alive streams failed: ${result.errorSamples.join('; ')}`);
  return problems;
}

export async function measureLeaseTarget(target: TargetKind, config: LeaseConfig): Promise<LeaseTargetResult> {
  return withServer(target, async (server) => {
    const { grants, results, serverCpu } = await runWorkers(config, server);
    return summarize(target, config, grants, results, serverCpu);
  });
}
