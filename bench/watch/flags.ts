// Command-line flags of the watch fan-out benchmark, validated up front with one sentence per rule.
import { parseArgs } from 'node:util';
import { integer, targetsOf, type TargetKind } from '../flags.js';
import { valueHeaderBytes } from './value.js';

export interface WatchConfig {
  targets: TargetKind[];
  /** Watchers in all, every one on the same prefix. */
  watchers: number;
  /** Watcher processes; the watchers are spread evenly over them. */
  watchWorkers: number;
  /** gRPC connections per watcher process. */
  connectionsPerWorker: number;
  /** Watch streams per connection; the watchers are spread evenly over all streams. */
  streamsPerConnection: number;
  /** Puts per second the writer aims at; 0 means as fast as `writerInFlight` allows. */
  putsPerSecond: number;
  /** Puts the writer keeps in flight at most. */
  writerInFlight: number;
  valueBytes: number;
  warmupSeconds: number;
  durationSeconds: number;
  /** After the writer stops, how long the watchers get to receive the rest. */
  drainSeconds: number;
  /** Puts per target at most (warm-up included): bounds the watchers' per-put ledger. */
  putsMax: number;
  requestTimeoutMs: number;
  json: boolean;
}

const watchersMax = 1_000_000;
const watchWorkersMax = 16;
const connectionsPerWorkerMax = 64;
const streamsPerConnectionMax = 64;
const putsPerSecondMax = 100_000;
const writerInFlightMax = 1_024;
/** Each put is fanned out to every watcher; large values times many watchers is a memory test, not this one. */
const valueBytesMax = 64 * 1024;
const durationSecondsMax = 600;
const drainSecondsMax = 600;
/** The ledger keeps a few bytes per put in every watcher process. */
const putsMaxMax = 10_000_000;

export const watchUsage = `usage: node dist/bench/watch-fanout.js [flags]
  --target etcd|cairn|both     servers to measure, one after the other (default both)
  --watchers N                 watchers on one prefix, in all (default 1000)
  --watch-workers N            watcher processes (default 1)
  --connections N              gRPC connections per watcher process (default 2)
  --streams N                  watch streams per connection (default 4)
  --rate N                     puts/s the writer aims at; 0 = as fast as it can (default 50)
  --writer-in-flight N         puts the writer keeps in flight at most (default 4)
  --value-bytes N              value size, at least ${valueHeaderBytes} (default 128)
  --duration-seconds S         measured phase per target (default 10)
  --warmup-seconds S           unmeasured warm-up per target (default 1)
  --drain-seconds S            time the watchers get after the last put (default 10)
  --puts-max N                 puts per target at most, warm-up included (default 1000000)
  --request-timeout-ms N       deadline of one put (default 10000)
  --json                       print one JSON document instead of a table`;

/** Parses argv (without node and script); throws with one clear sentence on bad input. */
export function parseWatchFlags(argv: string[]): WatchConfig | 'help' {
  const { values } = parseArgs({
    args: argv,
    strict: true,
    options: {
      target: { type: 'string', default: 'both' },
      watchers: { type: 'string' },
      'watch-workers': { type: 'string' },
      connections: { type: 'string' },
      streams: { type: 'string' },
      rate: { type: 'string' },
      'writer-in-flight': { type: 'string' },
      'value-bytes': { type: 'string' },
      'duration-seconds': { type: 'string' },
      'warmup-seconds': { type: 'string' },
      'drain-seconds': { type: 'string' },
      'puts-max': { type: 'string' },
      'request-timeout-ms': { type: 'string' },
      json: { type: 'boolean', default: false },
      help: { type: 'boolean', default: false },
    },
  });
  if (values.help) return 'help';
  const config: WatchConfig = {
    targets: targetsOf(values.target),
    watchers: integer('watchers', values.watchers, 1_000, 1, watchersMax),
    watchWorkers: integer('watch-workers', values['watch-workers'], 1, 1, watchWorkersMax),
    connectionsPerWorker: integer('connections', values.connections, 2, 1, connectionsPerWorkerMax),
    streamsPerConnection: integer('streams', values.streams, 4, 1, streamsPerConnectionMax),
    putsPerSecond: integer('rate', values.rate, 50, 0, putsPerSecondMax),
    writerInFlight: integer('writer-in-flight', values['writer-in-flight'], 4, 1, writerInFlightMax),
    valueBytes: integer('value-bytes', values['value-bytes'], 128, valueHeaderBytes, valueBytesMax),
    warmupSeconds: integer('warmup-seconds', values['warmup-seconds'], 1, 0, durationSecondsMax),
    durationSeconds: integer('duration-seconds', values['duration-seconds'], 10, 1, durationSecondsMax),
    drainSeconds: integer('drain-seconds', values['drain-seconds'], 10, 1, drainSecondsMax),
    putsMax: integer('puts-max', values['puts-max'], 1_000_000, 1, putsMaxMax),
    requestTimeoutMs: integer('request-timeout-ms', values['request-timeout-ms'], 10_000, 100, 600_000),
    json: values.json,
  };
  const streams = config.watchWorkers * config.connectionsPerWorker * config.streamsPerConnection;
  if (config.watchers < streams) {
    throw new Error(`--watchers must be at least the number of watch streams (${streams}), got ${config.watchers}`);
  }
  const plannedPuts = config.putsPerSecond * (config.warmupSeconds + config.durationSeconds);
  if (plannedPuts > config.putsMax) {
    throw new Error(`--rate times the run's seconds (${plannedPuts} puts) must not exceed --puts-max (${config.putsMax})`);
  }
  return config;
}
