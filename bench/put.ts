// The put benchmark as cli.ts runs it: the same put load against each target
// (measure.ts, load.ts), reported by report.ts.
import type { Benchmark } from './cli.js';
import { parseFlags, usage, type BenchConfig } from './flags.js';
import { measureTarget, type TargetResult } from './measure.js';
import { buildReport, formatTable, type Report } from './report.js';

export const putBenchmark: Benchmark<BenchConfig, TargetResult, Report> = {
  name: 'put',
  usage,
  parse: parseFlags,
  describeStart: (_target, config) => `starting server and ${config.workers} load workers`,
  measure: measureTarget,
  describeResult: (result) => `${result.puts} puts in ${result.measuredSeconds.toFixed(2)} s`,
  // Loops that gave up already fail the target in measure.ts; isolated put errors are reported, not fatal.
  problems: () => [],
  buildReport,
  formatTable,
};
