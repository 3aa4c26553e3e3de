// The cluster throughput benchmark: 3-member clusters of cairn and of real
// etcd, started with the same flags on this machine in the same run, under the
// same loads — puts to the leader (etcd's `benchmark --target-leader put`),
// puts spread over all members, and linearizable and serializable single-key
// Ranges spread over all members — then a side-by-side table with cairn/etcd
// ratios (or --json). With --check-perf it also runs `etcdctl check perf`
// against each kind. `npm run bench` runs it (without check perf) through
// all.ts; see bench/README.md.
//
// Files: cluster-flags.ts (flags, measuring order), cluster-measure.ts (one
// cluster: workloads, check perf), cluster-load.ts (worker process),
// cluster-protocol.ts, cluster-server.ts (cluster lifetime),
// cluster-check-perf.ts, cluster-report.ts, cluster-benchmark.ts.
import { runCli } from './cli.js';
import { clusterBenchmark } from './cluster-benchmark.js';

runCli(clusterBenchmark);
