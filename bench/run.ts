// `npm run bench`: the same put load against cairn and a real etcd, one after
// the other on this machine, then a side-by-side table (or --json).
//
// Both servers are single nodes started by the test launcher on 127.0.0.1 in
// fresh temporary directories, so they fsync their logs the same way and
// nothing else runs against them. Progress goes to stderr, results to stdout.
import { randomBytes } from 'node:crypto';
import { cleanupAll, installSignalHandlers, wasInterrupted } from './cleanup.js';
import { parseFlags, usage, type BenchConfig } from './flags.js';
import { measureTarget, type TargetResult } from './measure.js';
import { buildReport, formatTable } from './report.js';

interface Outcome {
  results: TargetResult[];
  /** A target that failed does not hide the others' figures. */
  failures: string[];
}

async function runAll(config: BenchConfig): Promise<Outcome> {
  // Distinct per run, so that every put writes a new key even against a reused server.
  const runId = randomBytes(4).toString('hex');
  const outcome: Outcome = { results: [], failures: [] };
  for (const target of config.targets) {
    if (wasInterrupted()) break;
    console.error(`${target}: starting server and ${config.workers} load workers`);
    try {
      const result = await measureTarget(target, config, runId);
      console.error(`${target}: ${result.puts} puts in ${result.measuredSeconds.toFixed(2)} s`);
      outcome.results.push(result);
    } catch (error) {
      outcome.failures.push((error as Error).message);
    }
  }
  return outcome;
}

async function main(): Promise<number> {
  let config: BenchConfig | 'help';
  try {
    config = parseFlags(process.argv.slice(2));
  } catch (error) {
    console.error(`${(error as Error).message}\n${usage}`);
    return 2;
  }
  if (config === 'help') {
    console.log(usage);
    return 0;
  }
  installSignalHandlers();
  try {
    const { results, failures } = await runAll(config);
    if (wasInterrupted()) return 130;
    if (results.length > 0) {
      const report = buildReport(config, results);
      console.log(config.json ? JSON.stringify(report, null, 2) : formatTable(report));
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
