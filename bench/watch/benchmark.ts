// The watch fan-out benchmark as cli.ts runs it.
import type { Benchmark } from '../cli.js';
import { parseWatchFlags, watchUsage, type WatchConfig } from './flags.js';
import { measureWatchTarget, watchProblems, type WatchTargetResult } from './measure.js';
import { buildWatchReport, formatWatchTable, type WatchReport } from './report.js';

export const watchFanoutBenchmark: Benchmark<WatchConfig, WatchTargetResult, WatchReport> = {
  name: 'watch-fanout',
  usage: watchUsage,
  parse: parseWatchFlags,
  describeStart: (_target, config) => `starting server, ${config.watchers} watchers in ${config.watchWorkers} processes and a writer`,
  measure: measureWatchTarget,
  describeResult: (result) => `${result.events} events from ${result.puts} measured puts in ${result.measuredSeconds.toFixed(2)} s, ${result.misses} missing`,
  problems: watchProblems,
  buildReport: buildWatchReport,
  formatTable: formatWatchTable,
};
