// What the cluster benchmark's parent (cluster-measure.ts) and its load workers
// (cluster-load.ts) exchange; the message sequence is ipc.ts's: a worker opens
// its connections, writes its share of the key space if asked to, and sends
// `ready`; after `go` it runs the warm-up and the measured phase, and sends
// `result`.
import type { HistogramSnapshot } from './stats.js';

/** Filling gets 30 s plus 10 ms per key (100 keys/s would be a broken server, not a slow one). */
export function fillTimeoutMs(keys: number): number {
  return 30_000 + keys * 10;
}

export type Operation = 'put' | 'range-linearizable' | 'range-serializable';

export interface ClusterLoadConfig {
  workerIndex: number;
  /** The endpoint (host:port) of each connection this worker opens, one gRPC channel per entry. */
  endpoints: string[];
  /** Loops per connection, each with one request in flight. */
  inFlightPerConnection: number;
  operation: Operation;
  /** Key n is keyPrefix + n, zero-padded to 8 digits, for n in [0, keySpace). */
  keyPrefix: string;
  keySpace: number;
  valueBytes: number;
  /** Keys [fillFrom, fillTo) this worker writes once each before `ready`; none when equal. */
  fillFrom: number;
  fillTo: number;
  warmupMs: number;
  durationMs: number;
  requestTimeoutMs: number;
}

export interface FillReport {
  /** Keys written while filling. */
  filled: number;
  fillMs: number;
}

export interface ClusterLoadResult {
  workerIndex: number;
  /** Requests answered during the measured phase. */
  operations: number;
  warmupOperations: number;
  errors: number;
  /** Failed requests (warm-up included) by the endpoint they were sent to. */
  errorsByEndpoint: Record<string, number>;
  /** The longest a failed request took to fail (a server-side timeout shows as its timeout). */
  errorLatencyMsMax: number;
  /** The first few distinct error messages, for the report. */
  errorSamples: string[];
  /**
   * Measured Ranges that found no key. Once the fill is acknowledged a
   * linearizable Range must find its key; a serializable one on a follower
   * that has not applied the fill yet may not.
   */
  emptyRanges: number;
  /** From the start of the measured phase to the last measured answer. */
  measuredMs: number;
  /** Loops that stopped because their requests kept failing. */
  loopsGivenUp: number;
  histogram: HistogramSnapshot;
}
