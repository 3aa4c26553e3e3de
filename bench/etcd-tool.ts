// etcd's own benchmark tool (tools/benchmark; scripts/build-etcd-benchmark.sh
// builds it from Debian's etcd source package) run with the same command line
// against a single-node etcd and a single-node cairn on this machine, the first
// kind alternating between repetitions; a side-by-side table with cairn/etcd
// ratios (or --json). `npm run bench` runs it through all.ts.
import { runCli } from './cli.js';
import { etcdToolBenchmark } from './etcd-tool-benchmark.js';

runCli(etcdToolBenchmark);
