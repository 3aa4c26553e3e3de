// Measures watch fan-out on one target: starts the server through the test
// launcher, creates the watchers in their own processes, then forks the writer
// and relays its acks to them; when the writer is done, waits for the watchers
// to drain and merges what they counted. Always stops every process it
// started, and the server, before returning.
import { fileURLToPath } from 'node:url';
import type { ServerHandle } from '../../test/harness/launcher.js';
import type { TargetKind } from '../flags.js';
import { withServer, within } from '../server.js';
import { evenShares } from '../shares.js';
import { LatencyHistogram, signedQuantileUs } from '../stats.js';
import { forkWorker, type Worker } from '../workers.js';
import type { WatchConfig } from './flags.js';
import type { AckBatch, ToWatchers, WatcherReady, WatcherResult, WatcherWorkerConfig, WriterConfig, WriterResult } from './protocol.js';

const watchersScript = fileURLToPath(new URL('./watchers.js', import.meta.url));
const writerScript = fileURLToPath(new URL('./writer.js', import.meta.url));
const createTimeoutMs = 60_000;
const connectTimeoutMs = 20_000;
/** Workers get this long past their planned run to report before the target is declared failed. */
const reportGraceMs = 30_000;
const ackFlushIntervalMs = 10;
/** Deliveries still outstanding after this long without any event count as lost rather than late. */
const quietSecondsForLoss = 1;

type WatcherWorker = Worker<WatcherReady, WatcherResult, never, ToWatchers>;
type WriterWorker = Worker<void, WriterResult, AckBatch>;

export interface WatchTargetResult {
  target: TargetKind;
  watchers: number;
  streams: number;
  /** Time to create every watcher (the slowest watcher process). */
  createSeconds: number;
  /** Measured puts acknowledged, and their rate over the writer's measured window. */
  puts: number;
  putsPerSecond: number;
  putP50Ms: number;
  putP99Ms: number;
  /** Puts the writer sent late: it could not keep --rate. */
  lateStarts: number;
  writerErrors: number;
  /** Events of measured puts received, summed over every watcher. */
  events: number;
  /** From the first measured put's send to the last measured event's receipt. */
  measuredSeconds: number;
  eventsPerSecond: number;
  /** How many events a watch response carried on average (all responses, warm-up included). */
  eventsPerResponse: number;
  /**
   * Delivery latency: from the writer seeing the put acknowledged to a watcher
   * receiving its event. Negative when the event beat the ack to the writer.
   */
  deliveryP50Ms: number;
  deliveryP99Ms: number;
  deliveryMaxMs: number;
  /** Fraction of measured events that arrived before the writer saw the put acknowledged. */
  beforeAckFraction: number;
  /** From the put's send to the event's receipt (includes the put's own latency). */
  sentToReceivedP50Ms: number;
  sentToReceivedP99Ms: number;
  /** Puts acknowledged, warm-up included: each must reach every watcher. */
  acknowledged: number;
  /** (acknowledged put, watcher) pairs not delivered when the drain ended: lost, or late if `drained` is false and events were still arriving. */
  misses: number;
  putsWithMisses: number;
  watchersShort: number;
  unackedEvents: number;
  overDelivered: number;
  outOfOrder: number;
  canceled: number;
  unknownWatcherEvents: number;
  malformed: number;
  streamErrors: number;
  /** Writer and stream errors, the first few distinct ones. */
  errorSamples: string[];
  /** From the writer's end until every watcher had everything (the slowest watcher process). */
  drainSeconds: number;
  drained: boolean;
  /** How long no event had arrived when the drain ended (the most recent watcher process). */
  quietSecondsAtEnd: number;
}

function watcherConfig(config: WatchConfig, server: ServerHandle, workerIndex: number, watchers: number, keyPrefix: string): WatcherWorkerConfig {
  return {
    endpoint: server.endpoint,
    workerIndex,
    watchers,
    connections: config.connectionsPerWorker,
    streamsPerConnection: config.streamsPerConnection,
    keyPrefix,
    putsMax: config.putsMax,
    createTimeoutMs,
    drainMs: config.drainSeconds * 1000,
    runMs: connectTimeoutMs + (config.warmupSeconds + config.durationSeconds) * 1000 + config.requestTimeoutMs + reportGraceMs,
  };
}

function writerConfig(config: WatchConfig, server: ServerHandle, keyPrefix: string): WriterConfig {
  return {
    endpoint: server.endpoint,
    keyPrefix,
    putsPerSecond: config.putsPerSecond,
    inFlight: config.writerInFlight,
    valueBytes: config.valueBytes,
    warmupMs: config.warmupSeconds * 1000,
    durationMs: config.durationSeconds * 1000,
    putsMax: config.putsMax,
    requestTimeoutMs: config.requestTimeoutMs,
    ackFlushIntervalMs,
  };
}

interface Measured {
  readies: WatcherReady[];
  writer: WriterResult;
  watchers: WatcherResult[];
}

async function runWorkers(config: WatchConfig, server: ServerHandle, keyPrefix: string): Promise<Measured> {
  const watcherWorkers: WatcherWorker[] = [];
  const workers: Array<{ kill(): Promise<void> }> = [];
  try {
    evenShares(config.watchers, config.watchWorkers).forEach((watchers, index) => {
      const worker: WatcherWorker = forkWorker(watchersScript, watcherConfig(config, server, index, watchers, keyPrefix), `watcher process ${index}`);
      watcherWorkers.push(worker);
      workers.push(worker);
    });
    const readies = await within(Promise.all(watcherWorkers.map((worker) => worker.ready)), connectTimeoutMs + createTimeoutMs, 'creating watchers');
    const writer: WriterWorker = forkWorker(writerScript, writerConfig(config, server, keyPrefix), 'watch writer');
    workers.push(writer);
    // Relayed in arrival order, so every ack reaches the watchers before `writer-done` does.
    writer.onData((batch) => {
      for (const worker of watcherWorkers) worker.send(batch);
    });
    await within(writer.ready, connectTimeoutMs, 'writer connecting');
    writer.go();
    const plannedMs = (config.warmupSeconds + config.durationSeconds) * 1000 + config.requestTimeoutMs;
    const writerResult = await within(writer.result, plannedMs + reportGraceMs, 'writer reporting');
    // A writer that gave up measures a broken server, not a fast or slow one.
    if (writerResult.stoppedBy === 'errors') throw new Error(`puts kept failing: ${writerResult.errorSamples.join('; ')}`);
    for (const worker of watcherWorkers) worker.send({ kind: 'writer-done', acknowledged: writerResult.acknowledged });
    const watchers = await within(Promise.all(watcherWorkers.map((worker) => worker.result)), config.drainSeconds * 1000 + reportGraceMs, 'watchers reporting');
    return { readies, writer: writerResult, watchers };
  } finally {
    await Promise.all(workers.map((worker) => worker.kill()));
  }
}

function sum(results: WatcherResult[], field: (result: WatcherResult) => number): number {
  return results.reduce((total, result) => total + field(result), 0);
}

function summarize(target: TargetKind, config: WatchConfig, measured: Measured): WatchTargetResult {
  const { readies, writer, watchers } = measured;
  const putLatency = new LatencyHistogram();
  putLatency.merge(writer.histogram);
  const [afterAck, beforeAck, sentToReceived] = [new LatencyHistogram(), new LatencyHistogram(), new LatencyHistogram()];
  for (const result of watchers) {
    afterAck.merge(result.ledger.ackToReceived);
    beforeAck.merge(result.ledger.receivedBeforeAck);
    sentToReceived.merge(result.ledger.sentToReceived);
  }
  const events = sum(watchers, (result) => result.ledger.measuredEvents);
  // The watcher processes share one clock (clock.ts), so their windows combine.
  const firstSendUs = Math.min(...watchers.map((result) => result.ledger.firstMeasuredSendUs).filter(Number.isFinite));
  const lastReceiptUs = Math.max(...watchers.map((result) => result.ledger.lastMeasuredReceiptUs).filter(Number.isFinite));
  const measuredSeconds = events > 0 ? (lastReceiptUs - firstSendUs) / 1e6 : 0;
  const responses = sum(watchers, (result) => result.responses);
  const allEvents = sum(watchers, (result) => result.ledger.events);
  const acknowledgedSeen = watchers.map((result) => result.ledger.acknowledged);
  const errorSamples = [...new Set([...writer.errorSamples, ...watchers.flatMap((result) => result.errorSamples)])];
  if (acknowledgedSeen.some((count) => count !== writer.acknowledged)) {
    errorSamples.push(`the watcher processes saw ${acknowledgedSeen.join(', ')} acks relayed, the writer made ${writer.acknowledged}`);
  }
  return {
    target,
    watchers: config.watchers,
    streams: readies.reduce((total, ready) => total + ready.streams, 0),
    createSeconds: Math.max(...readies.map((ready) => ready.createMs)) / 1000,
    puts: writer.measuredPuts,
    putsPerSecond: writer.measuredMs > 0 ? writer.measuredPuts / (writer.measuredMs / 1000) : 0,
    putP50Ms: putLatency.quantileUs(0.5) / 1000,
    putP99Ms: putLatency.quantileUs(0.99) / 1000,
    lateStarts: writer.lateStarts,
    writerErrors: writer.errors,
    events,
    measuredSeconds,
    eventsPerSecond: measuredSeconds > 0 ? events / measuredSeconds : 0,
    eventsPerResponse: responses > 0 ? allEvents / responses : 0,
    deliveryP50Ms: signedQuantileUs(beforeAck, afterAck, 0.5) / 1000,
    deliveryP99Ms: signedQuantileUs(beforeAck, afterAck, 0.99) / 1000,
    deliveryMaxMs: signedQuantileUs(beforeAck, afterAck, 1) / 1000,
    beforeAckFraction: events > 0 ? beforeAck.count / events : 0,
    sentToReceivedP50Ms: sentToReceived.quantileUs(0.5) / 1000,
    sentToReceivedP99Ms: sentToReceived.quantileUs(0.99) / 1000,
    acknowledged: writer.acknowledged,
    misses: sum(watchers, (result) => result.ledger.misses),
    putsWithMisses: Math.max(...watchers.map((result) => result.ledger.putsWithMisses)),
    watchersShort: sum(watchers, (result) => result.watchersShort),
    unackedEvents: sum(watchers, (result) => result.ledger.unackedEvents),
    overDelivered: sum(watchers, (result) => result.ledger.overDelivered),
    outOfOrder: sum(watchers, (result) => result.outOfOrder),
    canceled: sum(watchers, (result) => result.canceled),
    unknownWatcherEvents: sum(watchers, (result) => result.unknownWatcherEvents),
    malformed: sum(watchers, (result) => result.ledger.malformed),
    streamErrors: sum(watchers, (result) => result.streamErrors),
    errorSamples,
    drainSeconds: Math.max(...watchers.map((result) => result.drainMs)) / 1000,
    drained: watchers.every((result) => result.drained),
    quietSecondsAtEnd: Math.min(...watchers.map((result) => (Number.isFinite(result.quietMsAtEnd) ? result.quietMsAtEnd : Infinity))) / 1000,
  };
}

/** What must be zero (or true) for the figures to mean anything; each broken rule is one sentence. */
export function watchProblems(result: WatchTargetResult): string[] {
  const problems: string[] = [];
  if (!result.drained && result.quietSecondsAtEnd >= quietSecondsForLoss) {
    problems.push(`${result.misses} deliveries missed: ${result.watchersShort} watchers lack acknowledged puts, and no event had arrived ` +
      `for ${result.quietSecondsAtEnd.toFixed(1)} s when the drain ended after ${result.drainSeconds.toFixed(1)} s`);
  } else if (!result.drained) {
    problems.push(`${result.misses} deliveries were still outstanding when the drain ended after ${result.drainSeconds.toFixed(1)} s, ` +
      'with events still arriving: the watchers fell behind the writer (lower --rate or raise --drain-seconds to tell late from lost)');
  }
  if (result.outOfOrder > 0) problems.push(`${result.outOfOrder} events arrived with a revision not above the watcher's previous one`);
  if (result.overDelivered > 0) problems.push(`${result.overDelivered} events were delivered more than once`);
  if (result.canceled > 0) problems.push(`the server cancelled ${result.canceled} watchers`);
  if (result.unknownWatcherEvents > 0) problems.push(`${result.unknownWatcherEvents} events came for unknown watch IDs`);
  if (result.malformed > 0) problems.push(`${result.malformed} events carried a value the writer did not write`);
  if (result.streamErrors > 0) problems.push(`${result.streamErrors} watch streams failed: ${result.errorSamples.join('; ')}`);
  return problems;
}

export async function measureWatchTarget(target: TargetKind, config: WatchConfig, runId: string): Promise<WatchTargetResult> {
  return withServer(target, async (server) => {
    const keyPrefix = `bench-watch/${runId}-${target}/`;
    return summarize(target, config, await runWorkers(config, server, keyPrefix));
  });
}
