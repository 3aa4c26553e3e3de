// Command-line flags of the build comparison (compare-builds.ts), validated
// up front with one sentence per rule, and the tool's command lines it runs.
import { parseArgs } from 'node:util';
import { listOf } from './cluster-flags.js';
import { toolArgs, type EtcdToolConfig } from './etcd-tool-flags.js';
import { integer } from './flags.js';

/**
 * - put: etcd's tool's put (new keys, --value-bytes values): puts/s and CPU per put;
 * - watch: its watch workload: events/s, CPU per event, and the delivery's
 *   share — the same puts run again without watchers on a fresh server, their
 *   CPU taken off the watch run's — per event delivered.
 */
export const compareWorkloads = ['put', 'watch'] as const;
export type CompareWorkload = (typeof compareWorkloads)[number];

export interface CompareConfig {
  /** The git revision the checkout's build is compared with (built in a temporary worktree). */
  base: string;
  workloads: CompareWorkload[];
  /** Each round measures both builds once, the one that goes first alternating. */
  rounds: number;
  /** The tool's settings, as bench:etcd-tool takes them. */
  tool: EtcdToolConfig;
  json: boolean;
}

const roundsMax = 40;

export const compareUsage = `usage: node dist/bench/compare-builds.js [flags]     (npm run bench:compare -- [flags])
Is this checkout faster than another revision? Both builds of cairn, alternately, under etcd's benchmark tool: rate and server CPU per operation.
  --base REV            git revision to compare with, built in a temporary worktree (default HEAD: compares uncommitted work)
  --workloads NAME[,N]  ${compareWorkloads.join(', ')} (default both)
  --rounds N            rounds; each measures both builds on fresh servers, the first alternating (default 6)
  --conns N             the tool's gRPC connections (default 10)
  --clients N           the tool's clients: requests in flight (default 1000)
  --put-total N         puts of the put workload (default 50000)
  --value-bytes N       value size of those puts (default 256)
  --watch-put-total N   puts to the watched keys; each reaches streams × watchers / keys watchers (default 20000)
  --json                print one JSON document instead of tables
The watch workload runs 10 streams × 100 watchers over 10 keys from 100 clients, as bench:etcd-tool does.`;

/** Parses argv (without node and script); throws with one clear sentence on bad input. */
export function parseCompareFlags(argv: string[]): CompareConfig | 'help' {
  const { values } = parseArgs({
    args: argv,
    strict: true,
    options: {
      base: { type: 'string', default: 'HEAD' },
      workloads: { type: 'string' },
      rounds: { type: 'string' },
      conns: { type: 'string' },
      clients: { type: 'string' },
      'put-total': { type: 'string' },
      'value-bytes': { type: 'string' },
      'watch-put-total': { type: 'string' },
      json: { type: 'boolean', default: false },
      help: { type: 'boolean', default: false },
    },
  });
  if (values.help) return 'help';
  if (!/^[\w./~^@{}-]+$/.test(values.base)) throw new Error(`--base must be a git revision, got ${JSON.stringify(values.base)}`);
  return {
    base: values.base,
    workloads: listOf('workloads', values.workloads, compareWorkloads, compareWorkloads),
    rounds: integer('rounds', values.rounds, 6, 1, roundsMax),
    tool: {
      targets: ['cairn'],
      repetitions: 1,
      workloads: ['put', 'watch'],
      connections: integer('conns', values.conns, 10, 1, 1_000),
      clients: integer('clients', values.clients, 1_000, 1, 10_000),
      putTotal: integer('put-total', values['put-total'], 50_000, 1, 10_000_000),
      rangeTotal: 0,
      keyBytes: 8,
      valueBytes: integer('value-bytes', values['value-bytes'], 256, 0, 1024 * 1024),
      keySpace: 1_000_000,
      rangeConsistency: 'l',
      watchStreams: 10,
      watchersPerStream: 100,
      watchedKeys: 10,
      watchPutTotal: integer('watch-put-total', values['watch-put-total'], 20_000, 1, 10_000_000),
      watchPutRate: 100_000,
      runTimeoutSeconds: 600,
      json: values.json,
    },
    json: values.json,
  };
}

/** The watch workload's clients: as bench:etcd-tool's default, whatever --clients says for puts. */
const watchClients = 100;

/** Events a watch run delivers: every put reaches the watchers of its key. */
export function watchEvents(tool: EtcdToolConfig): number {
  return tool.watchPutTotal * ((tool.watchStreams * tool.watchersPerStream) / tool.watchedKeys);
}

/** The tool's command line for a measured run of `workload` against `endpoint`. */
export function compareRunArgs(tool: EtcdToolConfig, workload: CompareWorkload, endpoint: string): string[] {
  return workload === 'put' ? toolArgs(tool, 'put', endpoint) : toolArgs({ ...tool, clients: watchClients }, 'watch', endpoint);
}

/**
 * The watch run's puts without its watchers: the same keys (the tool's watch
 * keys are 32 bytes, sequential in a space of the watched keys), the same
 * 4-byte value ("data"), clients and count.
 */
export function watchPutsAloneArgs(tool: EtcdToolConfig, endpoint: string): string[] {
  return toolArgs({ ...tool, clients: watchClients, keyBytes: 32, valueBytes: 4, keySpace: tool.watchedKeys, putTotal: tool.watchPutTotal }, 'put', endpoint);
}
