// Measures one target: starts the server through the test launcher, runs the
// same put load from every worker at once, merges what they measured, and
// always stops the workers and the server before returning.
import { fileURLToPath } from 'node:url';
import type { ServerHandle } from '../test/harness/launcher.js';
import type { BenchConfig, TargetKind } from './flags.js';
import type { LoadConfig, LoadResult, StopReason } from './protocol.js';
import { withServer, within } from './server.js';
import { LatencyHistogram } from './stats.js';
import { forkWorker, type Worker } from './workers.js';

/** Workers get this long past their planned run to report before the target is declared failed. */
const reportGraceMs = 30_000;
const readyTimeoutMs = 20_000;
const loadScript = fileURLToPath(new URL('./load.js', import.meta.url));

type LoadWorker = Worker<void, LoadResult>;

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
    for (let index = 0; index < config.workers; index++) {
      workers.push(forkWorker(loadScript, loadConfig(config, server, index, runId), `load worker ${index}`));
    }
    await within(Promise.all(workers.map((worker) => worker.ready)), readyTimeoutMs, 'workers connecting');
    for (const worker of workers) worker.go();
    const plannedMs = (config.warmupSeconds + config.durationSeconds) * 1000 + config.requestTimeoutMs;
    return await within(Promise.all(workers.map((worker) => worker.result)), plannedMs + reportGraceMs, 'workers reporting');
  } finally {
    await Promise.all(workers.map((worker) => worker.kill()));
  }
}

export async function measureTarget(target: TargetKind, config: BenchConfig, runId: string): Promise<TargetResult> {
  return withServer(target, async (server) => {
    const summary = summarize(target, await runWorkers(config, server, `${runId}-${target}`));
    // A result with loops that gave up measures a broken server, not a fast or slow one.
    if (summary.stoppedBy.includes('errors')) throw new Error(`puts kept failing: ${summary.errorSamples.join('; ')}`);
    return summary;
  });
}
