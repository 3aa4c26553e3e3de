// The lease keep-alive benchmark as cli.ts runs it.
import type { Benchmark } from '../cli.js';
import { leaseUsage, parseLeaseFlags, type LeaseConfig } from './flags.js';
import { leaseProblems, measureLeaseTarget, type LeaseTargetResult } from './measure.js';
import { buildLeaseReport, formatLeaseTable, type LeaseReport } from './report.js';

export const leaseKeepAliveBenchmark: Benchmark<LeaseConfig, LeaseTargetResult, LeaseReport> = {
  name: 'lease-keepalive',
  usage: leaseUsage,
  parse: parseLeaseFlags,
  describeStart: (_target, config) => `starting server and ${config.workers} keep-alive processes; granting ${config.leases} leases`,
  // Lease IDs are chosen by the server, so the run ID is not needed.
  measure: (target, config) => measureLeaseTarget(target, config),
  describeResult: (result) => `${result.keepAlives} keep-alives in ${result.measuredSeconds.toFixed(2)} s`,
  problems: leaseProblems,
  buildReport: buildLeaseReport,
  formatTable: formatLeaseTable,
};
