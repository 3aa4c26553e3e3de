// Command-line flags of the etcd-tool benchmark (etcd-tool.ts): etcd's own
// benchmark tool (tools/benchmark) run with the same flags against a single
// etcd and a single cairn. Validated up front with one sentence per rule;
// toolArgs() is the tool's command line for one workload.
import { parseArgs } from 'node:util';
import { listOf, measuringOrder } from './cluster-flags.js';
import { integer, targetsOf, type TargetKind } from './flags.js';

/**
 * The tool's subcommands this benchmark runs, each on its own:
 * - put: puts of new keys (sequential keys in the key space);
 * - range: linearizable (or --range-consistency s: serializable) Ranges of one key;
 * - txn-put: Txns of one put each, on random keys in the key space;
 * - watch: watchers on a few keys, then puts to those keys; the figure is events received per second.
 */
export const toolWorkloads = ['put', 'range', 'txn-put', 'watch'] as const;
export type ToolWorkload = (typeof toolWorkloads)[number];

export interface EtcdToolConfig {
  /** The servers in the order they are measured: each kind once per repetition, the first kind alternating. */
  targets: TargetKind[];
  repetitions: number;
  workloads: ToolWorkload[];
  /** The tool's --conns: gRPC connections. */
  connections: number;
  /** The tool's --clients: requests in flight, spread over the connections. */
  clients: number;
  /** --total of put and txn-put. */
  putTotal: number;
  /** --total of range. */
  rangeTotal: number;
  keyBytes: number;
  valueBytes: number;
  /** --key-space-size of put and txn-put. */
  keySpace: number;
  rangeConsistency: 'l' | 's';
  watchStreams: number;
  watchersPerStream: number;
  /** Distinct keys the watchers watch: each has streams × watchers-per-stream / keys watchers. */
  watchedKeys: number;
  watchPutTotal: number;
  /** The tool's --put-rate; it must be positive (0 makes its rate limiter panic), so the default is far above what a server takes. */
  watchPutRate: number;
  /** One workload run is killed after this long. */
  runTimeoutSeconds: number;
  json: boolean;
}

/** The key `range` reads: written (with a --value-bytes value) before the range workload; the tool's own keys are binary. */
export const rangeKey = 'etcd-tool/range';

const repetitionsMax = 20;
const connectionsMax = 1_000;
const clientsMax = 10_000;
const totalMax = 10_000_000;
const keyBytesMax = 1024;
/** etcd's default --max-request-bytes is 1.5 MiB; stay clear of it. */
const valueBytesMax = 1024 * 1024;
const watchersMax = 1_000_000;

export const etcdToolUsage = `usage: node dist/bench/etcd-tool.js [flags]     (npm run bench:etcd-tool -- [flags])
etcd's benchmark tool (tools/benchmark, built by scripts/build-etcd-benchmark.sh) against a single etcd and a single cairn, same flags.
  --target etcd|cairn|both     servers to measure (default both)
  --repetitions N              fresh servers per kind; with both kinds the first alternates (default 2)
  --workloads NAME[,NAME]      ${toolWorkloads.join(', ')} (default all)
  --conns N                    the tool's gRPC connections (default 10)
  --clients N                  the tool's clients: requests in flight (default 100)
  --put-total N                requests of put and of txn-put (default 20000)
  --range-total N              requests of range (default 20000)
  --key-bytes N                key size of put and txn-put (default 8)
  --value-bytes N              value size of put, txn-put and of the key range reads (default 256)
  --key-space N                keys put and txn-put write among (default 100000)
  --range-consistency l|s      linearizable or serializable Ranges (default l)
  --watch-streams N            watch streams (default 10)
  --watchers-per-stream N      watchers per stream (default 100)
  --watched-keys N             distinct keys watched (default 10)
  --watch-put-total N          puts to the watched keys (default 1000)
  --watch-put-rate N           the tool's cap on those puts per second, > 0 (default 100000)
  --run-timeout-seconds S      one workload run is killed after this long (default 300)
  --json                       print one JSON document instead of a table
The tool counts requests, not time: --duration-seconds and --warmup-seconds do not apply.`;

/** Parses argv (without node and script); throws with one clear sentence on bad input. */
export function parseEtcdToolFlags(argv: string[]): EtcdToolConfig | 'help' {
  const { values } = parseArgs({
    args: argv,
    strict: true,
    options: {
      target: { type: 'string', default: 'both' },
      repetitions: { type: 'string' },
      workloads: { type: 'string' },
      conns: { type: 'string' },
      clients: { type: 'string' },
      'put-total': { type: 'string' },
      'range-total': { type: 'string' },
      'key-bytes': { type: 'string' },
      'value-bytes': { type: 'string' },
      'key-space': { type: 'string' },
      'range-consistency': { type: 'string', default: 'l' },
      'watch-streams': { type: 'string' },
      'watchers-per-stream': { type: 'string' },
      'watched-keys': { type: 'string' },
      'watch-put-total': { type: 'string' },
      'watch-put-rate': { type: 'string' },
      'run-timeout-seconds': { type: 'string' },
      json: { type: 'boolean', default: false },
      help: { type: 'boolean', default: false },
    },
  });
  if (values.help) return 'help';
  const consistency = values['range-consistency'];
  if (consistency !== 'l' && consistency !== 's') throw new Error(`--range-consistency must be l or s, got ${JSON.stringify(consistency)}`);
  const repetitions = integer('repetitions', values.repetitions, 2, 1, repetitionsMax);
  const watchStreams = integer('watch-streams', values['watch-streams'], 10, 1, watchersMax);
  const watchersPerStream = integer('watchers-per-stream', values['watchers-per-stream'], 100, 1, watchersMax);
  if (watchStreams * watchersPerStream > watchersMax) throw new Error(`--watch-streams × --watchers-per-stream must be at most ${watchersMax}`);
  return {
    targets: measuringOrder(targetsOf(values.target), repetitions),
    repetitions,
    workloads: listOf('workloads', values.workloads, toolWorkloads, toolWorkloads),
    connections: integer('conns', values.conns, 10, 1, connectionsMax),
    clients: integer('clients', values.clients, 100, 1, clientsMax),
    putTotal: integer('put-total', values['put-total'], 20_000, 1, totalMax),
    rangeTotal: integer('range-total', values['range-total'], 20_000, 1, totalMax),
    keyBytes: integer('key-bytes', values['key-bytes'], 8, 1, keyBytesMax),
    valueBytes: integer('value-bytes', values['value-bytes'], 256, 0, valueBytesMax),
    keySpace: integer('key-space', values['key-space'], 100_000, 1, totalMax),
    rangeConsistency: consistency,
    watchStreams,
    watchersPerStream,
    watchedKeys: integer('watched-keys', values['watched-keys'], 10, 1, watchersMax),
    watchPutTotal: integer('watch-put-total', values['watch-put-total'], 1_000, 1, totalMax),
    watchPutRate: integer('watch-put-rate', values['watch-put-rate'], 100_000, 1, 1_000_000_000),
    runTimeoutSeconds: integer('run-timeout-seconds', values['run-timeout-seconds'], 300, 1, 3_600),
    json: values.json,
  };
}

/** The tool's command line for one workload against `endpoint` (host:port). */
export function toolArgs(config: EtcdToolConfig, workload: ToolWorkload, endpoint: string): string[] {
  // --precise: full float precision in the report, not 4 decimals of a second.
  const global = ['--endpoints', endpoint, '--conns', String(config.connections), '--clients', String(config.clients), '--precise'];
  switch (workload) {
    case 'put':
      return [...global, 'put', '--key-size', String(config.keyBytes), '--val-size', String(config.valueBytes),
        '--key-space-size', String(config.keySpace), '--sequential-keys', '--total', String(config.putTotal)];
    case 'range':
      return [...global, 'range', rangeKey, '--consistency', config.rangeConsistency, '--total', String(config.rangeTotal)];
    case 'txn-put':
      return [...global, 'txn-put', '--key-size', String(config.keyBytes), '--val-size', String(config.valueBytes),
        '--key-space-size', String(config.keySpace), '--txn-ops', '1', '--total', String(config.putTotal)];
    case 'watch':
      // Sequential keys in a key space of exactly --watched-keys: that many distinct keys, evenly watched.
      return [...global, 'watch', '--streams', String(config.watchStreams), '--watch-per-stream', String(config.watchersPerStream),
        '--watched-key-total', String(config.watchedKeys), '--key-space-size', String(config.watchedKeys), '--sequential-keys',
        '--put-total', String(config.watchPutTotal), '--put-rate', String(config.watchPutRate)];
  }
}

