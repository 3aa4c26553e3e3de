// The etcd-tool benchmark as cli.ts runs it. config.targets is the measuring
// order (etcd, cairn, cairn, etcd, ...), so runBenchmark measures each kind
// once per repetition; this object numbers the repetitions.
import type { Benchmark } from './cli.js';
import { etcdToolUsage, parseEtcdToolFlags, type EtcdToolConfig } from './etcd-tool-flags.js';
import { etcdToolProblems, measureEtcdTool, type EtcdToolTargetResult } from './etcd-tool-measure.js';
import { buildEtcdToolReport, formatEtcdToolTable, type EtcdToolReport } from './etcd-tool-report.js';

/** Servers measured so far, per run and kind: the next one of a kind is its next repetition. */
const measuredSoFar = new Map<string, number>();

export const etcdToolBenchmark: Benchmark<EtcdToolConfig, EtcdToolTargetResult, EtcdToolReport> = {
  name: 'etcd-tool',
  usage: etcdToolUsage,
  parse: parseEtcdToolFlags,
  describeStart: (_target, config) => `starting a single node; etcd's benchmark tool runs ${config.workloads.join(', ')}`,
  measure: (target, config, runId) => {
    const key = `${runId}/${target}`;
    const repetition = (measuredSoFar.get(key) ?? 0) + 1;
    measuredSoFar.set(key, repetition);
    return measureEtcdTool(target, repetition, config);
  },
  describeResult: (result) => `repetition ${result.repetition}: ` +
    result.runs.map((run) => `${run.workload} ${run.failure === null ? `${run.summary?.requestsPerSecond.toFixed(0)} req/s` : 'failed'}`).join(', '),
  problems: etcdToolProblems,
  buildReport: buildEtcdToolReport,
  formatTable: formatEtcdToolTable,
};
