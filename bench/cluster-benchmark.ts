// The cluster throughput benchmark as cli.ts runs it. config.targets is the
// measuring order (etcd, cairn, cairn, etcd, ...), so runBenchmark measures
// each kind once per repetition; this object numbers the repetitions.
import type { Benchmark } from './cli.js';
import { clusterUsage, parseClusterFlags, type ClusterConfig } from './cluster-flags.js';
import { clusterProblems, measureCluster, type ClusterTargetResult } from './cluster-measure.js';
import { buildClusterReport, formatClusterTable, type ClusterReport } from './cluster-report.js';

/** Clusters measured so far, per run and kind: the next one of a kind is its next repetition. */
const measuredSoFar = new Map<string, number>();

export const clusterBenchmark: Benchmark<ClusterConfig, ClusterTargetResult, ClusterReport> = {
  name: 'cluster-throughput',
  usage: clusterUsage,
  parse: parseClusterFlags,
  describeStart: (_target, config) => {
    const checkPerf = config.checkPerfLoads.length > 0 ? `; check perf ${config.checkPerfLoads.join(', ')} after its first repetition` : '';
    return `starting a ${config.clusterSize}-member cluster; workloads ${config.workloads.join(', ')}${checkPerf}`;
  },
  measure: (target, config, runId) => {
    const key = `${runId}/${target}`;
    const repetition = (measuredSoFar.get(key) ?? 0) + 1;
    measuredSoFar.set(key, repetition);
    return measureCluster(target, repetition, config, runId);
  },
  describeResult: (result) => `repetition ${result.repetition}: ${result.workloads.length} workloads, ${result.checkPerf.length} check perf runs`,
  problems: clusterProblems,
  buildReport: buildClusterReport,
  formatTable: formatClusterTable,
};
