// What the watch benchmark's parent (measure.ts), its watcher processes
// (watchers.ts) and its writer process (writer.ts) exchange. The sequence is
// ipc.ts's, plus the acks the writer streams: writer → parent → every watcher
// process, then `writer-done` once the writer has reported.
import type { HistogramSnapshot } from '../stats.js';
import type { LedgerSummary } from './ledger.js';

export interface WatcherWorkerConfig {
  endpoint: string;
  workerIndex: number;
  /** Watchers in this process, spread evenly over its streams. */
  watchers: number;
  connections: number;
  streamsPerConnection: number;
  /** Every watcher watches [keyPrefix, prefix end). */
  keyPrefix: string;
  putsMax: number;
  /** How long creating the watchers may take. */
  createTimeoutMs: number;
  /** After `writer-done`, how long to wait for the remaining events. */
  drainMs: number;
  /** From `ready` to `writer-done` at most; bounds the process's lifetime. */
  runMs: number;
}

export interface WatcherReady {
  watchers: number;
  streams: number;
  createMs: number;
}

export interface AckBatch {
  kind: 'acks';
  sequences: number[];
  /** When the writer saw each put acknowledged, on clock.ts's clock; same order as sequences. */
  ackTimesUs: number[];
}

export interface WriterDone {
  kind: 'writer-done';
  /** Puts the writer saw acknowledged, warm-up included. */
  acknowledged: number;
}

export type ToWatchers = AckBatch | WriterDone;

export interface WatcherResult {
  workerIndex: number;
  ledger: LedgerSummary;
  /** Watch responses received, with or without events. */
  responses: number;
  /** Events whose revision was not above the watcher's previous one (a duplicate or reordering). */
  outOfOrder: number;
  /** Watchers the server cancelled during the run. */
  canceled: number;
  /** Events for watch IDs this process does not know. */
  unknownWatcherEvents: number;
  /** Watchers that received fewer events than puts acknowledged. */
  watchersShort: number;
  /** Distinct cancel reasons and stream errors, the first few. */
  errorSamples: string[];
  streamErrors: number;
  /** From `writer-done` until every acknowledged put had reached every watcher, or the drain timeout. */
  drainMs: number;
  drained: boolean;
  /** How long no event had arrived when the drain ended: long means lost events, short means late ones. */
  quietMsAtEnd: number;
}

export interface WriterConfig {
  endpoint: string;
  keyPrefix: string;
  /** 0 means as fast as `inFlight` allows. */
  putsPerSecond: number;
  inFlight: number;
  valueBytes: number;
  warmupMs: number;
  durationMs: number;
  putsMax: number;
  requestTimeoutMs: number;
  /** How often acks are sent to the parent in a batch. */
  ackFlushIntervalMs: number;
}

export type WriterStopReason = 'duration' | 'count' | 'errors';

export interface WriterResult {
  /** Puts acknowledged, warm-up included. */
  acknowledged: number;
  measuredPuts: number;
  errors: number;
  errorSamples: string[];
  /** From the start of the measured phase to the last measured ack. */
  measuredMs: number;
  /** Puts sent more than a few milliseconds after their scheduled time (the writer fell behind --rate). */
  lateStarts: number;
  stoppedBy: WriterStopReason;
  /** Put latency as the writer saw it, measured puts only. */
  histogram: HistogramSnapshot;
}
