// `npm run bench`: every benchmark — put, watch fan-out, lease keep-alive,
// 3-member cluster throughput, etcd's own benchmark tool — one after the
// other, each against etcd and cairn, with its default load (the cluster one
// without etcdctl check perf). Tune one benchmark through its own entry point
// (run.js, watch-fanout.js, lease-keepalive.js, cluster-throughput.js,
// etcd-tool.js); this one passes on only the flags they share.
import { parseArgs } from 'node:util';
import { cleanupAll, installSignalHandlers, wasInterrupted } from './cleanup.js';
import { runBenchmark, type Benchmark, type CommonConfig } from './cli.js';
import { clusterBenchmark } from './cluster-benchmark.js';
import { etcdToolBenchmark } from './etcd-tool-benchmark.js';
import { leaseKeepAliveBenchmark } from './lease/benchmark.js';
import { putBenchmark } from './put.js';
import { watchFanoutBenchmark } from './watch/benchmark.js';

const usage = `usage: node dist/bench/all.js [flags]     (npm run bench -- [flags])
  --target etcd|cairn|both     servers to measure (default both)
  --only NAME[,NAME]           benchmarks to run: put, watch-fanout, lease-keepalive, cluster-throughput, etcd-tool (default all)
  --duration-seconds S         measured phase per target, for every benchmark but etcd-tool (default: each one's own)
  --warmup-seconds S           unmeasured warm-up per target, for every benchmark but etcd-tool (default: each one's own)
  --json                       print one JSON document instead of tables
Each benchmark has more flags: node dist/bench/run.js --help (put), dist/bench/watch-fanout.js --help,
dist/bench/lease-keepalive.js --help, dist/bench/cluster-throughput.js --help (e.g. --check-perf m),
dist/bench/etcd-tool.js --help (etcd's benchmark tool counts requests, not seconds: tune its --*-total flags there).`;

interface Finished {
  name: string;
  report: unknown;
  table: string | null;
  failures: string[];
}

/** A benchmark with its config parsed, so every flag is checked before anything runs. */
type Prepared = () => Promise<Finished>;

function prepare<Config extends CommonConfig, Result, Report>(benchmark: Benchmark<Config, Result, Report>, argv: string[]): Prepared {
  const config = benchmark.parse(argv);
  if (config === 'help') throw new Error('--help is not passed on');
  return async () => {
    const { report, failures } = await runBenchmark(benchmark, config);
    return { name: benchmark.name, report, table: report === null ? null : benchmark.formatTable(report), failures };
  };
}

const benchmarks = [putBenchmark, watchFanoutBenchmark, leaseKeepAliveBenchmark, clusterBenchmark, etcdToolBenchmark] as const;
const benchmarkNames: readonly string[] = benchmarks.map((benchmark) => benchmark.name);

function parse(argv: string[]): { prepared: Prepared[]; json: boolean } | 'help' {
  const { values } = parseArgs({
    args: argv,
    strict: true,
    options: {
      target: { type: 'string' },
      only: { type: 'string' },
      'duration-seconds': { type: 'string' },
      'warmup-seconds': { type: 'string' },
      json: { type: 'boolean', default: false },
      help: { type: 'boolean', default: false },
    },
  });
  if (values.help) return 'help';
  const only = values.only === undefined ? benchmarkNames : values.only.split(',');
  for (const name of only) {
    if (!benchmarkNames.includes(name)) throw new Error(`--only takes ${benchmarkNames.join(', ')}, got ${JSON.stringify(name)}`);
  }
  const target = values.target === undefined ? [] : ['--target', values.target];
  const shared: string[] = [...target];
  if (values['duration-seconds'] !== undefined) shared.push('--duration-seconds', values['duration-seconds']);
  if (values['warmup-seconds'] !== undefined) shared.push('--warmup-seconds', values['warmup-seconds']);
  const prepared: Prepared[] = [];
  if (only.includes(putBenchmark.name)) prepared.push(prepare(putBenchmark, shared));
  if (only.includes(watchFanoutBenchmark.name)) prepared.push(prepare(watchFanoutBenchmark, shared));
  if (only.includes(leaseKeepAliveBenchmark.name)) prepared.push(prepare(leaseKeepAliveBenchmark, shared));
  if (only.includes(clusterBenchmark.name)) prepared.push(prepare(clusterBenchmark, shared));
  // etcd's tool runs a number of requests, not for a time: it takes --target alone.
  if (only.includes(etcdToolBenchmark.name)) prepared.push(prepare(etcdToolBenchmark, target));
  return { prepared, json: values.json };
}

async function main(): Promise<number> {
  let parsed: ReturnType<typeof parse>;
  try {
    parsed = parse(process.argv.slice(2));
  } catch (error) {
    console.error(`${(error as Error).message}\n${usage}`);
    return 2;
  }
  if (parsed === 'help') {
    console.log(usage);
    return 0;
  }
  installSignalHandlers();
  try {
    const finished: Finished[] = [];
    for (const run of parsed.prepared) {
      if (wasInterrupted()) return 130;
      const result = await run();
      finished.push(result);
      // Tables go out as each benchmark ends, so an interrupted run keeps what it measured.
      if (!parsed.json && result.table !== null) console.log(`${result.table}\n`);
    }
    if (wasInterrupted()) return 130;
    const failures = finished.flatMap((result) => result.failures);
    if (parsed.json) {
      const reports = Object.fromEntries(finished.map((result) => [result.name, result.report]));
      console.log(JSON.stringify({ benchmarks: reports, failures }, null, 2));
    }
    for (const failure of failures) console.error(`bench failed: ${failure}`);
    return failures.length > 0 ? 1 : 0;
  } finally {
    await cleanupAll();
  }
}

main().then((code) => {
  // While a signal handler is cleaning up, it decides the exit code.
  if (!wasInterrupted()) process.exit(code);
});
