// Command-line flags of the cluster throughput benchmark (cluster-throughput.ts),
// validated up front with one sentence per rule.
import { parseArgs } from 'node:util';
import { checkPerfLoads, type CheckPerfLoad } from './cluster-check-perf.js';
import { integer, targetsOf, type TargetKind } from './flags.js';

/**
 * What one workload sends, and to which members:
 * - put-leader: puts, every connection to the leader (etcd's `benchmark --target-leader put`);
 * - put-all: puts, connections spread over all members (followers forward to the leader);
 * - range-linearizable: single-key Ranges (a ReadIndex round each), connections spread over all members;
 * - range-serializable: single-key serializable Ranges (each member's own state), spread over all members.
 */
export const workloadNames = ['put-leader', 'put-all', 'range-linearizable', 'range-serializable'] as const;
export type WorkloadName = (typeof workloadNames)[number];

export interface ClusterConfig {
  /**
   * The clusters in the order they are measured: each kind once per
   * repetition, and with both kinds the one that goes first alternates
   * (etcd, cairn, cairn, etcd, ...), so neither always runs on a machine the
   * other has just warmed or loaded.
   */
  targets: TargetKind[];
  repetitions: number;
  clusterSize: number;
  /** Flags every member of both kinds gets. */
  clusterArgs: string[];
  workloads: WorkloadName[];
  workers: number;
  connectionsPerWorker: number;
  inFlightPerConnection: number;
  valueBytes: number;
  /** Keys are chosen at random among this many; all are written once before the first workload. */
  keySpace: number;
  warmupSeconds: number;
  /** Measured phase of each workload. */
  durationSeconds: number;
  requestTimeoutMs: number;
  /** `etcdctl check perf` loads run against each kind, each on a fresh cluster; empty = none. */
  checkPerfLoads: CheckPerfLoad[];
  json: boolean;
}

/** The cluster flags the task fixes for both kinds; the snapshot count stays each server's default. */
export const clusterArgsDefault = ['--heartbeat-interval', '100', '--election-timeout', '1000'];

const repetitionsMax = 20;
const workersMax = 16;
const connectionsPerWorkerMax = 64;
const inFlightPerConnectionMax = 256;
/** etcd's default --max-request-bytes is 1.5 MiB; stay clear of it. */
const valueBytesMax = 1024 * 1024;
/** Filling the key space is part of every cluster's run; a bound keeps it from dominating. */
const keySpaceMax = 1_000_000;
const durationSecondsMax = 600;

export const clusterUsage = `usage: node dist/bench/cluster-throughput.js [flags]     (npm run bench:cluster -- [flags])
  --target etcd|cairn|both     kinds of 3-member cluster to measure (default both)
  --repetitions N              fresh clusters per kind; with both kinds the first alternates (default 2)
  --workloads NAME[,NAME]      ${workloadNames.join(', ')} (default all)
  --workers N                  load worker processes (default 2)
  --connections N              gRPC connections per worker (default 8)
  --in-flight N                requests in flight per connection (default 16)
  --value-bytes N              value size of every put (default 256)
  --key-space N                keys chosen at random among N, all written before the first workload (default 10000)
  --duration-seconds S         measured phase of each workload (default 6)
  --warmup-seconds S           unmeasured warm-up before each workload (default 2)
  --request-timeout-ms N       deadline of one request (default 10000)
  --check-perf LOAD[,LOAD]     also run etcdctl check perf with these loads (${checkPerfLoads.join(', ')}; ~60 s each per kind)
  --json                       print one JSON document instead of tables
Every member of both kinds gets ${clusterArgsDefault.join(' ')}.`;

/** A comma-separated list of names from `names` (each once); `fallback` when the flag is absent. Throws one sentence naming the flag. */
export function listOf<Name extends string>(flag: string, text: string | undefined, names: readonly Name[], fallback: readonly Name[]): Name[] {
  if (text === undefined) return [...fallback];
  const chosen = text.split(',');
  for (const name of chosen) {
    if (!(names as readonly string[]).includes(name)) throw new Error(`--${flag} takes ${names.join(', ')}, got ${JSON.stringify(name)}`);
  }
  return [...new Set(chosen)] as Name[];
}

/** Each kind once per repetition; with two kinds, odd repetitions go etcd first and even ones cairn first. */
export function measuringOrder(kinds: TargetKind[], repetitions: number): TargetKind[] {
  const order: TargetKind[] = [];
  for (let repetition = 1; repetition <= repetitions; repetition++) {
    order.push(...(repetition % 2 === 1 ? kinds : [...kinds].reverse()));
  }
  return order;
}

/** Parses argv (without node and script); throws with one clear sentence on bad input. */
export function parseClusterFlags(argv: string[]): ClusterConfig | 'help' {
  const { values } = parseArgs({
    args: argv,
    strict: true,
    options: {
      target: { type: 'string', default: 'both' },
      repetitions: { type: 'string' },
      workloads: { type: 'string' },
      workers: { type: 'string' },
      connections: { type: 'string' },
      'in-flight': { type: 'string' },
      'value-bytes': { type: 'string' },
      'key-space': { type: 'string' },
      'duration-seconds': { type: 'string' },
      'warmup-seconds': { type: 'string' },
      'request-timeout-ms': { type: 'string' },
      'check-perf': { type: 'string' },
      json: { type: 'boolean', default: false },
      help: { type: 'boolean', default: false },
    },
  });
  if (values.help) return 'help';
  const repetitions = integer('repetitions', values.repetitions, 2, 1, repetitionsMax);
  return {
    targets: measuringOrder(targetsOf(values.target), repetitions),
    repetitions,
    clusterSize: 3,
    clusterArgs: clusterArgsDefault,
    workloads: listOf('workloads', values.workloads, workloadNames, workloadNames),
    workers: integer('workers', values.workers, 2, 1, workersMax),
    connectionsPerWorker: integer('connections', values.connections, 8, 1, connectionsPerWorkerMax),
    inFlightPerConnection: integer('in-flight', values['in-flight'], 16, 1, inFlightPerConnectionMax),
    valueBytes: integer('value-bytes', values['value-bytes'], 256, 0, valueBytesMax),
    keySpace: integer('key-space', values['key-space'], 10_000, 1, keySpaceMax),
    warmupSeconds: integer('warmup-seconds', values['warmup-seconds'], 2, 0, durationSecondsMax),
    durationSeconds: integer('duration-seconds', values['duration-seconds'], 6, 1, durationSecondsMax),
    requestTimeoutMs: integer('request-timeout-ms', values['request-timeout-ms'], 10_000, 100, 600_000),
    checkPerfLoads: listOf('check-perf', values['check-perf'], checkPerfLoads, []),
    json: values.json,
  };
}
