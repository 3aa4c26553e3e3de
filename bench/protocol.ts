// Messages between the bench parent (run.ts) and its load workers (load.ts),
// sent over the fork IPC channel with 'advanced' serialization.
//
// Sequence: parent forks with a LoadConfig in argv → worker opens its
// connections and sends `ready` → parent sends `go` to all workers at once →
// worker runs warm-up then the measured phase and sends `result`, then exits.
import type { HistogramSnapshot } from './stats.js';

export interface LoadConfig {
  endpoint: string;
  workerIndex: number;
  /** Distinct TCP connections (gRPC channels) this worker opens. */
  connections: number;
  /** Concurrent put loops per connection, each with one request in flight. */
  clientsPerConnection: number;
  valueBytes: number;
  /** Puts made before measuring starts, so connections and server caches are warm. */
  warmupMs: number;
  /** Length of the measured phase; it ends earlier if putsMax is reached. */
  durationMs: number;
  /** Measured puts this worker makes at most. */
  putsMax: number;
  /** Deadline of a single put. */
  requestTimeoutMs: number;
  /** Key prefix, unique per run and target, so that every key is written once. */
  keyPrefix: string;
}

export type StopReason = 'duration' | 'count' | 'errors';

export interface LoadResult {
  workerIndex: number;
  /** Puts acknowledged during the measured phase. */
  puts: number;
  /** Puts acknowledged during warm-up (not in the histogram). */
  warmupPuts: number;
  errors: number;
  /** The first few distinct error messages, for the report. */
  errorSamples: string[];
  /** From the start of the measured phase to the last measured reply. */
  measuredMs: number;
  stoppedBy: StopReason;
  histogram: HistogramSnapshot;
}

export type ParentMessage = { type: 'go' };

export type WorkerMessage =
  | { type: 'ready' }
  | { type: 'result'; result: LoadResult }
  | { type: 'failed'; message: string };

/** How the parent passes the config: one JSON argument, so the worker needs no IPC round trip to start. */
export function encodeConfig(config: LoadConfig): string {
  return JSON.stringify(config);
}

export function decodeConfig(argument: string | undefined): LoadConfig {
  if (argument === undefined) throw new Error('load worker: missing config argument');
  return JSON.parse(argument) as LoadConfig;
}
