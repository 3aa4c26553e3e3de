// Renders the watch fan-out benchmark's results: a table for people, one JSON
// document for scripts. Ratios are cairn/etcd: above 1 is better for events/s
// and worse for latencies.
import type { WatchConfig } from './flags.js';
import type { WatchTargetResult } from './measure.js';
import { describeEnvironment, formatNumber, formatRatio, ratioOf, row, type Environment } from '../table.js';

export interface WatchRatio {
  eventsPerSecond: number | null;
  deliveryP50: number | null;
  deliveryP99: number | null;
  sentToReceivedP50: number | null;
  sentToReceivedP99: number | null;
  putsPerSecond: number | null;
}

export interface WatchReport {
  benchmark: 'watch-fanout';
  config: WatchConfig;
  environment: Environment;
  results: WatchTargetResult[];
  /** cairn/etcd, when both were measured. */
  ratio: WatchRatio | null;
}

export function buildWatchReport(config: WatchConfig, results: WatchTargetResult[], environment: Environment): WatchReport {
  const etcd = results.find((result) => result.target === 'etcd');
  const cairn = results.find((result) => result.target === 'cairn');
  const ratio = etcd !== undefined && cairn !== undefined
    ? {
      eventsPerSecond: ratioOf(cairn.eventsPerSecond, etcd.eventsPerSecond),
      deliveryP50: ratioOf(cairn.deliveryP50Ms, etcd.deliveryP50Ms),
      deliveryP99: ratioOf(cairn.deliveryP99Ms, etcd.deliveryP99Ms),
      sentToReceivedP50: ratioOf(cairn.sentToReceivedP50Ms, etcd.sentToReceivedP50Ms),
      sentToReceivedP99: ratioOf(cairn.sentToReceivedP99Ms, etcd.sentToReceivedP99Ms),
      putsPerSecond: ratioOf(cairn.putsPerSecond, etcd.putsPerSecond),
    }
    : null;
  return { benchmark: 'watch-fanout', config, environment, results, ratio };
}

function describeLoad(config: WatchConfig): string {
  const streams = config.watchWorkers * config.connectionsPerWorker * config.streamsPerConnection;
  const rate = config.putsPerSecond > 0 ? `${config.putsPerSecond} puts/s` : 'as fast as it can';
  return `watch fan-out: ${config.watchers} watchers on one prefix over ${streams} streams (${config.watchWorkers} processes x ` +
    `${config.connectionsPerWorker} connections x ${config.streamsPerConnection} streams); one writer, ${rate}, ` +
    `${config.writerInFlight} in flight, ${config.valueBytes}-byte values; ${config.warmupSeconds} s warm-up, then ` +
    `${config.durationSeconds} s per target`;
}

function describeDrain(result: WatchTargetResult): string {
  if (result.drained) return `every watcher had every put ${result.drainSeconds.toFixed(2)} s after the writer's end`;
  return `drain timed out ${result.drainSeconds.toFixed(2)} s after the writer's end, the last event ${result.quietSecondsAtEnd.toFixed(2)} s before`;
}

export function formatWatchTable(report: WatchReport): string {
  const lines = [describeLoad(report.config), describeEnvironment(report.environment), ''];
  const widths = [10, 7, 8, 11, 7, 8, 8, 8, 8, 8, 7];
  lines.push(row(['target', 'puts/s', 'put p99', 'events/s', 'ev/resp', 'dlv p50', 'dlv p99', 'dlv max', 'e2e p50', 'e2e p99', 'missing'], widths));
  for (const result of report.results) {
    lines.push(row([
      result.target, result.putsPerSecond.toFixed(0), formatNumber(result.putP99Ms, 2), result.eventsPerSecond.toFixed(0),
      result.eventsPerResponse.toFixed(2), formatNumber(result.deliveryP50Ms, 2), formatNumber(result.deliveryP99Ms, 2),
      formatNumber(result.deliveryMaxMs, 1), formatNumber(result.sentToReceivedP50Ms, 2), formatNumber(result.sentToReceivedP99Ms, 2),
      String(result.misses),
    ], widths));
  }
  const { ratio } = report;
  if (ratio !== null) {
    lines.push(row([
      'cairn/etcd', formatRatio(ratio.putsPerSecond), '', formatRatio(ratio.eventsPerSecond), '', formatRatio(ratio.deliveryP50),
      formatRatio(ratio.deliveryP99), '', formatRatio(ratio.sentToReceivedP50), formatRatio(ratio.sentToReceivedP99), '',
    ], widths));
  }
  lines.push('', 'dlv = put acknowledged at the writer → event at a watcher, ms (negative: the event beat the ack; ' +
    'no ratio then); e2e = put sent → event received, ms');
  for (const result of report.results) {
    lines.push(`${result.target}: ${result.events} events to ${result.watchers} watchers in ${result.measuredSeconds.toFixed(2)} s; ` +
      `${result.acknowledged} puts acknowledged (warm-up included), ${result.puts} measured; watchers created in ` +
      `${result.createSeconds.toFixed(2)} s; ${describeDrain(result)}; ` +
      `${(result.beforeAckFraction * 100).toFixed(1)}% of events beat the put's ack; late puts ${result.lateStarts}; ` +
      `put errors ${result.writerErrors}; unacknowledged puts' events ${result.unackedEvents}; out of order ${result.outOfOrder}; ` +
      `cancelled ${result.canceled}`);
    if (result.errorSamples.length > 0) lines.push(`${result.target} errors: ${result.errorSamples.join('; ')}`);
  }
  return lines.join('\n');
}
