// Lease keep-alive scale: L leases granted, then renewed round-robin by a few
// keep-alive streams with bounded in-flight for a fixed time; keep-alives/s
// and latency percentiles. Against cairn and a real etcd, one after the other,
// on servers started by the test launcher. See bench/README.md.
import { runCli } from './cli.js';
import { leaseKeepAliveBenchmark } from './lease/benchmark.js';

runCli(leaseKeepAliveBenchmark);
