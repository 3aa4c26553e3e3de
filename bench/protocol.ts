// What the put benchmark's parent (put.ts, measure.ts) and its load workers
// (load.ts) exchange; the message sequence is ipc.ts's: the worker opens its
// connections and sends `ready`, runs warm-up then the measured phase after
// `go`, and sends `result`.
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
