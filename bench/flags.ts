// Command-line flags of the put benchmark (run.ts), validated up front with one
// sentence per rule, and the flag helpers every benchmark shares.
import { parseArgs } from 'node:util';

export const targetKinds = ['etcd', 'cairn'] as const;
export type TargetKind = (typeof targetKinds)[number];

export interface BenchConfig {
  targets: TargetKind[];
  workers: number;
  connectionsPerWorker: number;
  clientsPerConnection: number;
  valueBytes: number;
  warmupSeconds: number;
  /** Cap on the measured phase per target; with --puts it is only a safety bound. */
  durationSeconds: number;
  /** Measured puts per target, over all workers. */
  putsPerTarget: number;
  requestTimeoutMs: number;
  json: boolean;
}

const workersMax = 64;
const connectionsPerWorkerMax = 256;
const clientsPerConnectionMax = 1024;
/** etcd's default --max-request-bytes is 1.5 MiB; stay clear of it. */
const valueBytesMax = 1024 * 1024;
const durationSecondsMax = 600;
/** Applies when --puts is not given: the duration decides, but no loop is unbounded. */
const putsPerTargetMax = 50_000_000;
/** With --puts and no --duration-seconds, a run still ends after this long. */
const countModeDurationSeconds = 120;

export const usage = `usage: node dist/bench/run.js [flags]     (the put benchmark)
  --target etcd|cairn|both   servers to measure, one after the other (default both)
  --workers N                load worker processes (default 2)
  --connections N            gRPC connections per worker (default 8)
  --clients N                puts in flight per connection (default 16)
  --duration-seconds S       measured phase per target (default 10)
  --warmup-seconds S         unmeasured warm-up per target (default 1)
  --puts N                   stop after N measured puts per target (default: duration only)
  --value-bytes N            value size (default 1024)
  --request-timeout-ms N     deadline of one put (default 10000)
  --json                     print one JSON document instead of a table`;

/** Parses an integer flag; `fallback` when absent. Throws one sentence naming the flag and its range. */
export function integer(name: string, text: string | undefined, fallback: number, min: number, max: number): number {
  if (text === undefined) return fallback;
  const value = Number(text);
  if (!Number.isInteger(value) || value < min || value > max) {
    throw new Error(`--${name} must be an integer from ${min} to ${max}, got ${JSON.stringify(text)}`);
  }
  return value;
}

/** --target: one server kind, or both (etcd first). */
export function targetsOf(text: string): TargetKind[] {
  if (text === 'both') return [...targetKinds];
  if ((targetKinds as readonly string[]).includes(text)) return [text as TargetKind];
  throw new Error(`--target must be etcd, cairn or both, got ${JSON.stringify(text)}`);
}

/** Parses argv (without node and script); throws with one clear sentence on bad input. */
export function parseFlags(argv: string[]): BenchConfig | 'help' {
  const { values } = parseArgs({
    args: argv,
    strict: true,
    options: {
      target: { type: 'string', default: 'both' },
      workers: { type: 'string' },
      connections: { type: 'string' },
      clients: { type: 'string' },
      'duration-seconds': { type: 'string' },
      'warmup-seconds': { type: 'string' },
      puts: { type: 'string' },
      'value-bytes': { type: 'string' },
      'request-timeout-ms': { type: 'string' },
      json: { type: 'boolean', default: false },
      help: { type: 'boolean', default: false },
    },
  });
  if (values.help) return 'help';
  const putsGiven = values.puts !== undefined;
  const durationDefault = putsGiven ? countModeDurationSeconds : 10;
  return {
    targets: targetsOf(values.target),
    workers: integer('workers', values.workers, 2, 1, workersMax),
    connectionsPerWorker: integer('connections', values.connections, 8, 1, connectionsPerWorkerMax),
    clientsPerConnection: integer('clients', values.clients, 16, 1, clientsPerConnectionMax),
    valueBytes: integer('value-bytes', values['value-bytes'], 1024, 0, valueBytesMax),
    warmupSeconds: integer('warmup-seconds', values['warmup-seconds'], 1, 0, durationSecondsMax),
    durationSeconds: integer('duration-seconds', values['duration-seconds'], durationDefault, 1, durationSecondsMax),
    putsPerTarget: integer('puts', values.puts, putsPerTargetMax, 1, putsPerTargetMax),
    requestTimeoutMs: integer('request-timeout-ms', values['request-timeout-ms'], 10_000, 100, 600_000),
    json: values.json,
  };
}
