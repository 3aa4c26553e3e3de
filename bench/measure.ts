// Measures one target: starts the server through the test launcher, runs the
// same put load from every worker at once, merges what they measured, and
// always stops the workers and the server before returning.
import { startCairn, startEtcd, type ServerHandle } from '../test/harness/launcher.js';
import { onCleanup } from './cleanup.js';
import type { BenchConfig, TargetKind } from './flags.js';
import type { LoadConfig, LoadResult, StopReason } from './protocol.js';
import { LatencyHistogram } from './stats.js';
import { forkWorker, type LoadWorker } from './workers.js';

/** Workers get this long past their planned run to report before the target is declared failed. */
const reportGraceMs = 30_000;
const readyTimeoutMs = 20_000;
const serverOutputTailChars = 2_000;

export interface TargetResult {
  target: TargetKind;
  puts: number;
  errors: number;
  errorSamples: string[];
  measuredSeconds: number;
  putsPerSecond: number;
  p50Ms: number;
  p99Ms: number;
  meanMs: number;
  maxMs: number;
  /** Why the workers stopped; more than one reason means they disagreed. */
  stoppedBy: StopReason[];
}

function startServer(target: TargetKind): Promise<ServerHandle> {
  return target === 'etcd' ? startEtcd() : startCairn();
}

/** Splits the measured-put budget so that the workers' shares add up to it exactly. */
function putsShare(config: BenchConfig, workerIndex: number): number {
  const base = Math.floor(config.putsPerTarget / config.workers);
  return base + (workerIndex < config.putsPerTarget % config.workers ? 1 : 0);
}

function loadConfig(config: BenchConfig, server: ServerHandle, workerIndex: number, runId: string): LoadConfig {
  return {
    endpoint: server.endpoint,
    workerIndex,
    connections: config.connectionsPerWorker,
    clientsPerConnection: config.clientsPerConnection,
    valueBytes: config.valueBytes,
    warmupMs: config.warmupSeconds * 1000,
    durationMs: config.durationSeconds * 1000,
    putsMax: putsShare(config, workerIndex),
    requestTimeoutMs: config.requestTimeoutMs,
    keyPrefix: `bench/${runId}`,
  };
}

function within<T>(promise: Promise<T>, timeoutMs: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what}: no answer within ${timeoutMs} ms`)), timeoutMs);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

function summarize(target: TargetKind, results: LoadResult[]): TargetResult {
  const histogram = new LatencyHistogram();
  for (const result of results) histogram.merge(result.histogram);
  const puts = results.reduce((sum, result) => sum + result.puts, 0);
  // The workers started together; the slowest one bounds the measured window.
  const measuredSeconds = Math.max(0, ...results.map((result) => result.measuredMs)) / 1000;
  return {
    target,
    puts,
    errors: results.reduce((sum, result) => sum + result.errors, 0),
    errorSamples: [...new Set(results.flatMap((result) => result.errorSamples))],
    measuredSeconds,
    putsPerSecond: measuredSeconds > 0 ? puts / measuredSeconds : 0,
    p50Ms: histogram.quantileUs(0.5) / 1000,
    p99Ms: histogram.quantileUs(0.99) / 1000,
    meanMs: histogram.meanUs() / 1000,
    maxMs: histogram.maxLatencyUs() / 1000,
    stoppedBy: [...new Set(results.map((result) => result.stoppedBy))],
  };
}

async function runWorkers(config: BenchConfig, server: ServerHandle, runId: string): Promise<LoadResult[]> {
  const workers: LoadWorker[] = [];
  try {
    for (let index = 0; index < config.workers; index++) workers.push(forkWorker(loadConfig(config, server, index, runId)));
    await within(Promise.all(workers.map((worker) => worker.ready)), readyTimeoutMs, 'workers connecting');
    for (const worker of workers) worker.go();
    const plannedMs = (config.warmupSeconds + config.durationSeconds) * 1000 + config.requestTimeoutMs;
    return await within(Promise.all(workers.map((worker) => worker.result)), plannedMs + reportGraceMs, 'workers reporting');
  } finally {
    await Promise.all(workers.map((worker) => worker.kill()));
  }
}

export async function measureTarget(target: TargetKind, config: BenchConfig, runId: string): Promise<TargetResult> {
  const server = await startServer(target);
  // A graceful stop first, so a server run under a profiler (NODE_OPTIONS=--cpu-prof) writes its profile.
  const destroyServer = onCleanup(async () => {
    await server.stop();
    await server.destroy();
  });
  try {
    const summary = summarize(target, await runWorkers(config, server, `${runId}-${target}`));
    // A result with loops that gave up measures a broken server, not a fast or slow one.
    if (summary.stoppedBy.includes('errors')) throw new Error(`puts kept failing: ${summary.errorSamples.join('; ')}`);
    return summary;
  } catch (error) {
    const tail = server.output().slice(-serverOutputTailChars);
    throw new Error(`${target}: ${(error as Error).message}\n--- ${target} output (last ${serverOutputTailChars} chars) ---\n${tail}`, { cause: error });
  } finally {
    await destroyServer();
  }
}
