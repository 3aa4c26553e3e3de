// Command-line flags of the lease keep-alive benchmark, validated up front with one sentence per rule.
import { parseArgs } from 'node:util';
import { integer, targetsOf, type TargetKind } from '../flags.js';

export interface LeaseConfig {
  targets: TargetKind[];
  /** Leases granted before the keep-alive phase, in all. */
  leases: number;
  leaseTtlSeconds: number;
  /** Keep-alive processes; the leases are spread evenly over them. */
  workers: number;
  /** gRPC connections per process. */
  connectionsPerWorker: number;
  /** Keep-alive streams per connection; each renews its own share of the leases. */
  streamsPerConnection: number;
  /** Keep-alives in flight per stream at most. */
  inFlightPerStream: number;
  /** Grants in flight per process while granting. */
  grantInFlight: number;
  warmupSeconds: number;
  durationSeconds: number;
  /** Deadline of one grant, and how long a keep-alive may stay unanswered at the end. */
  requestTimeoutMs: number;
  json: boolean;
}

const leasesMax = 1_000_000;
/** etcd's maximum lease TTL (MaxLeaseTTL, 9,000,000,000 s) is far beyond any run; this is a sanity bound. */
const leaseTtlSecondsMax = 86_400;
const workersMax = 16;
const connectionsPerWorkerMax = 64;
const streamsPerConnectionMax = 64;
const inFlightPerStreamMax = 4_096;
const grantInFlightMax = 1_024;
const durationSecondsMax = 600;

export const leaseUsage = `usage: node dist/bench/lease-keepalive.js [flags]
  --target etcd|cairn|both     servers to measure, one after the other (default both)
  --leases N                   leases granted, then kept alive (default 10000)
  --ttl-seconds S              TTL of every lease (default 60)
  --workers N                  keep-alive processes (default 1)
  --connections N              gRPC connections per process (default 2)
  --streams N                  keep-alive streams per connection (default 2)
  --in-flight N                keep-alives in flight per stream (default 64)
  --grant-in-flight N          grants in flight per process while granting (default 64)
  --duration-seconds S         measured phase per target (default 10)
  --warmup-seconds S           unmeasured warm-up per target (default 1)
  --request-timeout-ms N       deadline of a grant; wait for the last keep-alives (default 10000)
  --json                       print one JSON document instead of a table`;

/** Parses argv (without node and script); throws with one clear sentence on bad input. */
export function parseLeaseFlags(argv: string[]): LeaseConfig | 'help' {
  const { values } = parseArgs({
    args: argv,
    strict: true,
    options: {
      target: { type: 'string', default: 'both' },
      leases: { type: 'string' },
      'ttl-seconds': { type: 'string' },
      workers: { type: 'string' },
      connections: { type: 'string' },
      streams: { type: 'string' },
      'in-flight': { type: 'string' },
      'grant-in-flight': { type: 'string' },
      'duration-seconds': { type: 'string' },
      'warmup-seconds': { type: 'string' },
      'request-timeout-ms': { type: 'string' },
      json: { type: 'boolean', default: false },
      help: { type: 'boolean', default: false },
    },
  });
  if (values.help) return 'help';
  const config: LeaseConfig = {
    targets: targetsOf(values.target),
    leases: integer('leases', values.leases, 10_000, 1, leasesMax),
    leaseTtlSeconds: integer('ttl-seconds', values['ttl-seconds'], 60, 5, leaseTtlSecondsMax),
    workers: integer('workers', values.workers, 1, 1, workersMax),
    connectionsPerWorker: integer('connections', values.connections, 2, 1, connectionsPerWorkerMax),
    streamsPerConnection: integer('streams', values.streams, 2, 1, streamsPerConnectionMax),
    inFlightPerStream: integer('in-flight', values['in-flight'], 64, 1, inFlightPerStreamMax),
    grantInFlight: integer('grant-in-flight', values['grant-in-flight'], 64, 1, grantInFlightMax),
    warmupSeconds: integer('warmup-seconds', values['warmup-seconds'], 1, 0, durationSecondsMax),
    durationSeconds: integer('duration-seconds', values['duration-seconds'], 10, 1, durationSecondsMax),
    requestTimeoutMs: integer('request-timeout-ms', values['request-timeout-ms'], 10_000, 100, 600_000),
    json: values.json,
  };
  const streams = config.workers * config.connectionsPerWorker * config.streamsPerConnection;
  // A stream never has one lease in flight twice, so it needs at least as many leases as keep-alives in flight.
  const leasesNeeded = streams * config.inFlightPerStream;
  if (config.leases < leasesNeeded) {
    throw new Error(`--leases must be at least streams x --in-flight (${streams} x ${config.inFlightPerStream} = ${leasesNeeded}), got ${config.leases}`);
  }
  return config;
}
