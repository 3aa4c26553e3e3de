// `npm run bench:secure`: what security costs, side by side with etcd. For
// each configuration — plaintext, TLS, TLS with client certificates, auth as
// root (and, on request, auth as a user confined to key ranges) — a fresh
// etcd and a fresh cairn started with the same flags, one after the other on
// this machine, each measured with `etcdctl check perf` (etcdctl's matching
// flags), an SDK put loop and SDK connects (secure-measure.ts); then one table
// of cairn/etcd ratios and of each configuration's cost relative to
// plaintext on the same server (secure-report.ts).
import { runCli, type Benchmark } from './cli.js';
import { parseSecureFlags, secureUsage, type SecureConfig } from './secure-flags.js';
import { measureSecure, secureProblems, type SecureResult } from './secure-measure.js';
import { buildSecureReport, formatSecureTable, type SecureReport } from './secure-report.js';

/** Runs measured so far, per benchmark run: runBenchmark walks config.targets in order, so the n-th call is config.runs[n]. */
const measuredSoFar = new Map<string, number>();

function nextRun(config: SecureConfig, runId: string) {
  const index = measuredSoFar.get(runId) ?? 0;
  measuredSoFar.set(runId, index + 1);
  const run = config.runs[index];
  if (run === undefined) throw new Error(`secure-perf: no run ${index + 1} in a schedule of ${config.runs.length}`);
  return run;
}

const secureBenchmark: Benchmark<SecureConfig, SecureResult, SecureReport> = {
  name: 'secure-perf',
  usage: secureUsage,
  parse: parseSecureFlags,
  describeStart: () => 'starting a fresh server',
  measure: (target, config, runId) => {
    const run = nextRun(config, runId);
    if (run.target !== target) throw new Error(`secure-perf: run ${run.security} is for ${run.target}, not ${target}`);
    console.error(`secure-perf ${target}: ${run.security}${config.checkPerfLoad === null ? '' : `: check perf --load ${config.checkPerfLoad} (about 65 s)`}, then the SDK`);
    return measureSecure(run, config, runId);
  },
  describeResult: (result) => {
    const verdict = result.checkPerf === null ? '' : `check perf ${result.checkPerf.verdictLines.join(' | ') || 'no verdict'}; `;
    return `${result.security}: ${verdict}sdk ${result.puts.putsPerSecond.toFixed(0)} puts/s, p99 ${result.puts.p99Ms.toFixed(2)} ms`;
  },
  problems: secureProblems,
  buildReport: buildSecureReport,
  formatTable: formatSecureTable,
};

runCli(secureBenchmark);
