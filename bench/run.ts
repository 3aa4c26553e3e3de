// The put benchmark: the same put load against cairn and a real etcd, one
// after the other on this machine, then a side-by-side table (or --json).
//
// Both servers are single nodes started by the test launcher on 127.0.0.1 in
// fresh temporary directories, so they fsync their logs the same way and
// nothing else runs against them. `npm run bench` runs this and the other
// benchmarks through all.ts.
import { runCli } from './cli.js';
import { putBenchmark } from './put.js';

runCli(putBenchmark);
