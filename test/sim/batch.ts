/**
 * A batch of simulator seeds spread over worker threads. Every seed is a pure, independent run of
 * the Raft core (contract 4), so the batch is split by seed across `workers` threads — one per core —
 * and the results are the same as running the seeds one after another, in less wall time.
 * A worker answers with the reports of its failed seeds (strings: a RunResult holds nothing a
 * report leaves out that the test asserts on) and how many histories were inconclusive.
 */
import { availableParallelism } from 'node:os';
import { isMainThread, parentPort, Worker, workerData } from 'node:worker_threads';
import { report } from './report.js';
import { runSeed, type RunOptions } from './run.js';

export type BatchProfile = NonNullable<RunOptions['profile']>;

export interface BatchResult {
  /** report() of every seed that failed, in seed order. */
  readonly failures: string[];
  /** Histories the linearizability search could not decide within its budget. */
  readonly inconclusive: number;
  readonly seedsRun: number;
}

interface Slice {
  readonly seeds: number[];
  readonly profile: BatchProfile;
  readonly bugs: RunOptions['bugs'];
}

/** Workers at most: the batch is CPU-bound, more threads than cores only add switching. */
const workersMax = 8;

/** Runs the given seeds on this thread. */
export function runSeeds(seeds: readonly number[], profile: BatchProfile, bugs?: RunOptions['bugs']): BatchResult {
  const failures: string[] = [];
  let inconclusive = 0;
  for (const seed of seeds) {
    const r = runSeed({ seed, profile, bugs });
    if (!r.ok) failures.push(report(r));
    if (r.operations.linearizability === 'inconclusive') inconclusive++;
  }
  return { failures, inconclusive, seedsRun: seeds.length };
}

function runSliceInWorker(slice: Slice): Promise<BatchResult> {
  return new Promise((resolve, reject) => {
    const worker = new Worker(new URL(import.meta.url), { workerData: slice });
    let result: BatchResult | undefined;
    worker.once('message', (message: BatchResult) => { result = message; });
    worker.once('error', reject);
    worker.once('exit', (code) => {
      if (result !== undefined) resolve(result);
      else reject(new Error(`simulator worker exited with code ${code} before answering`));
    });
  });
}

/**
 * Seeds from..from+count-1 of `profile`, dealt round-robin to one worker per core (so slow and
 * fast seeds spread evenly). Failures come back sorted by seed, as a sequential run gives them.
 * `bugs` breaks the core deliberately, for the test that the batch reports what fails.
 */
export async function runBatch(from: number, count: number, profile: BatchProfile, bugs?: RunOptions['bugs']): Promise<BatchResult> {
  const workers = Math.max(1, Math.min(workersMax, availableParallelism(), count));
  const slices: number[][] = Array.from({ length: workers }, () => []);
  for (let i = 0; i < count; i++) slices[i % workers]!.push(from + i);
  const results = await Promise.all(slices.map((seeds) => runSliceInWorker({ seeds, profile, bugs })));
  const failures = results.flatMap((r) => r.failures).sort((a, b) => seedOf(a) - seedOf(b));
  return {
    failures,
    inconclusive: results.reduce((sum, r) => sum + r.inconclusive, 0),
    seedsRun: results.reduce((sum, r) => sum + r.seedsRun, 0),
  };
}

/** The seed a report() starts with ("FAIL seed N ..."). */
function seedOf(reportText: string): number {
  return Number(/^FAIL seed (\d+)/.exec(reportText)?.[1] ?? Number.NaN);
}

if (!isMainThread && parentPort !== null) {
  const slice = workerData as Slice;
  parentPort.postMessage(runSeeds(slice.seeds, slice.profile, slice.bugs));
}
