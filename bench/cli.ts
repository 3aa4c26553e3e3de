// What every benchmark's command line does the same way: parse flags (one
// sentence per bad flag), measure each target in turn on a fresh server,
// print a table or one JSON document, clean up on every path (also on Ctrl-C),
// and exit non-zero when a target failed or showed a problem.
//
// Progress goes to stderr, results to stdout.
import { randomBytes } from 'node:crypto';
import { cleanupAll, installSignalHandlers, wasInterrupted } from './cleanup.js';
import type { TargetKind } from './flags.js';
import { captureEnvironment, type Environment } from './table.js';

export interface CommonConfig {
  targets: TargetKind[];
  json: boolean;
}

export interface Benchmark<Config extends CommonConfig, Result, Report> {
  /** As `npm run bench` names it: put, watch-fanout, lease-keepalive. */
  readonly name: string;
  readonly usage: string;
  /** Parses argv (without node and script); throws one clear sentence on bad input. */
  parse(argv: string[]): Config | 'help';
  /** One progress line before a target starts. */
  describeStart(target: TargetKind, config: Config): string;
  /** Measures one target on a fresh server, stopping everything it started before returning. */
  measure(target: TargetKind, config: Config, runId: string): Promise<Result>;
  /** One progress line after a target finished. */
  describeResult(result: Result): string;
  /** What makes a measured result a failure all the same (e.g. a watcher missed events); empty when fine. */
  problems(result: Result): string[];
  buildReport(config: Config, results: Result[], environment: Environment): Report;
  formatTable(report: Report): string;
}

export interface Outcome<Report> {
  /** Null when no target produced figures. */
  report: Report | null;
  /** A target that failed does not hide the others' figures. */
  failures: string[];
}

export async function runBenchmark<Config extends CommonConfig, Result, Report>(
  benchmark: Benchmark<Config, Result, Report>,
  config: Config,
): Promise<Outcome<Report>> {
  const environment = captureEnvironment();
  // Distinct per run, so that every key is new even against a reused server.
  const runId = randomBytes(4).toString('hex');
  const results: Result[] = [];
  const failures: string[] = [];
  for (const target of config.targets) {
    if (wasInterrupted()) break;
    console.error(`${benchmark.name} ${target}: ${benchmark.describeStart(target, config)}`);
    try {
      const result = await benchmark.measure(target, config, runId);
      console.error(`${benchmark.name} ${target}: ${benchmark.describeResult(result)}`);
      results.push(result);
      failures.push(...benchmark.problems(result).map((problem) => `${benchmark.name} ${target}: ${problem}`));
    } catch (error) {
      failures.push(`${benchmark.name} ${(error as Error).message}`);
    }
  }
  return { report: results.length > 0 ? benchmark.buildReport(config, results, environment) : null, failures };
}

/** Parses argv; prints usage and returns an exit code when there is nothing to run. */
export function parseOrExit<Config extends CommonConfig>(
  benchmark: Benchmark<Config, unknown, unknown>,
  argv: string[],
): Config | number {
  try {
    const config = benchmark.parse(argv);
    if (config !== 'help') return config;
    console.log(benchmark.usage);
    return 0;
  } catch (error) {
    console.error(`${(error as Error).message}\n${benchmark.usage}`);
    return 2;
  }
}

/** The whole command line of one benchmark's entry point; exits the process when done. */
export function runCli<Config extends CommonConfig, Result, Report>(benchmark: Benchmark<Config, Result, Report>): void {
  const main = async (): Promise<number> => {
    const config = parseOrExit(benchmark as Benchmark<Config, unknown, unknown>, process.argv.slice(2));
    if (typeof config === 'number') return config;
    installSignalHandlers();
    try {
      const { report, failures } = await runBenchmark(benchmark, config);
      if (wasInterrupted()) return 130;
      if (report !== null) console.log(config.json ? JSON.stringify(report, null, 2) : benchmark.formatTable(report));
      for (const failure of failures) console.error(`bench failed: ${failure}`);
      return failures.length > 0 ? 1 : 0;
    } finally {
      await cleanupAll();
    }
  };
  main().then((code) => {
    // While a signal handler is cleaning up, it decides the exit code.
    if (!wasInterrupted()) process.exit(code);
  });
}
