// Renders the lease keep-alive benchmark's results: a table for people, one
// JSON document for scripts. Ratios are cairn/etcd: above 1 is better for
// keep-alives/s and grants/s, worse for latencies.
import { describeEnvironment, formatNumber, formatRatio, ratioOf, row, type Environment } from '../table.js';
import type { LeaseConfig } from './flags.js';
import type { LeaseTargetResult } from './measure.js';

export interface LeaseRatio {
  keepAlivesPerSecond: number | null;
  p50: number | null;
  p99: number | null;
  grantsPerSecond: number | null;
  /** Server CPU per operation: below 1 is better. */
  grantServerCpuUs: number | null;
  keepAliveServerCpuUs: number | null;
}

export interface LeaseReport {
  benchmark: 'lease-keepalive';
  config: LeaseConfig;
  environment: Environment;
  results: LeaseTargetResult[];
  /** cairn/etcd, when both were measured. */
  ratio: LeaseRatio | null;
}

export function buildLeaseReport(config: LeaseConfig, results: LeaseTargetResult[], environment: Environment): LeaseReport {
  const etcd = results.find((result) => result.target === 'etcd');
  const cairn = results.find((result) => result.target === 'cairn');
  const ratio = etcd !== undefined && cairn !== undefined
    ? {
      keepAlivesPerSecond: ratioOf(cairn.keepAlivesPerSecond, etcd.keepAlivesPerSecond),
      p50: ratioOf(cairn.p50Ms, etcd.p50Ms),
      p99: ratioOf(cairn.p99Ms, etcd.p99Ms),
      grantsPerSecond: ratioOf(cairn.grantsPerSecond, etcd.grantsPerSecond),
      grantServerCpuUs: ratioOf(cairn.grantServerCpuUs, etcd.grantServerCpuUs),
      keepAliveServerCpuUs: ratioOf(cairn.keepAliveServerCpuUs, etcd.keepAliveServerCpuUs),
    }
    : null;
  return { benchmark: 'lease-keepalive', config, environment, results, ratio };
}

function describeLoad(config: LeaseConfig): string {
  const streams = config.workers * config.connectionsPerWorker * config.streamsPerConnection;
  return `lease keep-alive: ${config.leases} leases (TTL ${config.leaseTtlSeconds} s) renewed round-robin over ${streams} streams ` +
    `(${config.workers} processes x ${config.connectionsPerWorker} connections x ${config.streamsPerConnection} streams), ` +
    `${config.inFlightPerStream} in flight per stream; ${config.warmupSeconds} s warm-up, then ${config.durationSeconds} s per target`;
}

export function formatLeaseTable(report: LeaseReport): string {
  const lines = [describeLoad(report.config), describeEnvironment(report.environment), ''];
  const widths = [10, 10, 8, 12, 8, 8, 8, 8, 9, 9, 7];
  lines.push(row(['target', 'renewals', 'seconds', 'keepalive/s', 'p50 ms', 'p99 ms', 'mean ms', 'max ms', 'grants/s', 'grant p99', 'errors'], widths));
  for (const result of report.results) {
    const errors = result.expired + result.unexpected + result.unanswered + result.streamErrors;
    lines.push(row([
      result.target, String(result.keepAlives), result.measuredSeconds.toFixed(2), result.keepAlivesPerSecond.toFixed(0),
      formatNumber(result.p50Ms, 2), formatNumber(result.p99Ms, 2), formatNumber(result.meanMs, 2), formatNumber(result.maxMs, 1),
      result.grantsPerSecond.toFixed(0), formatNumber(result.grantP99Ms, 2), String(errors),
    ], widths));
  }
  const { ratio } = report;
  if (ratio !== null) {
    lines.push(row([
      'cairn/etcd', '', '', formatRatio(ratio.keepAlivesPerSecond), formatRatio(ratio.p50), formatRatio(ratio.p99), '', '',
      formatRatio(ratio.grantsPerSecond), '', '',
    ], widths));
  }
  lines.push('');
  for (const result of report.results) {
    lines.push(`${result.target}: ${result.leases} leases granted in ${result.grantSeconds.toFixed(2)} s, each renewed ` +
      `${result.renewalsPerLease.toFixed(1)} times on average; expired ${result.expired}, unexpected ${result.unexpected}, ` +
      `unanswered ${result.unanswered}, stream errors ${result.streamErrors}`);
    lines.push(`${result.target}: server CPU ${formatNumber(result.grantServerCpuUs, 1)} µs per grant (the load's own ` +
      `${formatNumber(result.grantLoadCpuUs, 1)} µs), ${formatNumber(result.keepAliveServerCpuUs, 2)} µs per keep-alive`);
    if (result.errorSamples.length > 0) lines.push(`${result.target} errors: ${result.errorSamples.join('; ')}`);
  }
  if (ratio !== null) {
    lines.push(`cairn/etcd server CPU per grant ${formatRatio(ratio.grantServerCpuUs)}, per keep-alive ` +
      `${formatRatio(ratio.keepAliveServerCpuUs)} (below 1: cairn spends less)`);
  }
  return lines.join('\n');
}
