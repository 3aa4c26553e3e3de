// Watch fan-out: N watchers on one prefix, spread over a few watch streams in
// their own processes, and one writer putting under the prefix; events/s
// delivered to all watchers, delivery latency, and a check that every watcher
// received every put. Against cairn and a real etcd, one after the other, on
// servers started by the test launcher. See bench/README.md.
import { runCli } from './cli.js';
import { watchFanoutBenchmark } from './watch/benchmark.js';

runCli(watchFanoutBenchmark);
