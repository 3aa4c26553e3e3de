// Is a change faster? This checkout's build (dist/) and another revision's,
// built in a temporary git worktree, each measured on fresh single-node
// servers under etcd's benchmark tool, alternately, for several rounds: the
// machine's speed drifts by more than most changes gain, so only builds
// measured side by side, many times, in alternation, can be told apart. The
// figure to read is the server's CPU per operation (from /proc, over the
// tool's run only), steadier than the rate; the rate is shown beside it.
// `npm run bench:compare -- [flags]`
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { repositoryRoot } from '../test/harness/sources.js';
import { cairnMain } from '../test/harness/launcher.js';
import { onCleanup, runProgram, wasInterrupted } from './cleanup.js';
import { compareRunArgs, compareUsage, parseCompareFlags, watchEvents, watchPutsAloneArgs, type CompareConfig, type CompareWorkload } from './compare-builds-flags.js';
import { etcdBenchmarkTool, runToolMeasuringCpu } from './etcd-tool-measure.js';
import { withServer } from './server.js';
import { captureEnvironment, describeEnvironment, formatNumber, formatRatio, ratioOf, row } from './table.js';

const builds = ['base', 'current'] as const;
type Build = (typeof builds)[number];

interface Run {
  build: Build;
  round: number;
  workload: CompareWorkload;
  /** Requests/s (put) or events/s (watch), as the tool reports them. */
  rate: number;
  /** The server's CPU over the tool's run, per put or per event. */
  cpuMicrosecondsPerOperation: number;
  /** Watch only: (the watch run's CPU − that of the same puts without watchers) per event. */
  deliveryMicrosecondsPerEvent: number | null;
}

/** Builds `revision` into a temporary worktree (cleaned up at exit); its server entry point. */
function buildRevision(revision: string): string {
  const dir = mkdtempSync(join(tmpdir(), 'cairn-compare-'));
  const worktree = join(dir, 'base');
  const git = (...args: string[]): string => execFileSync('git', ['-C', repositoryRoot, ...args], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
  onCleanup(async () => {
    try {
      git('worktree', 'remove', '--force', worktree);
    } catch {
      // not created, or already gone: pruned below
    }
    rmSync(dir, { recursive: true, force: true });
    git('worktree', 'prune');
  });
  git('worktree', 'add', '--detach', worktree, revision);
  symlinkSync(join(repositoryRoot, 'node_modules'), join(worktree, 'node_modules'));
  console.error(`compare-builds: building ${revision} (${git('rev-parse', '--short', revision).trim()}) in ${worktree}`);
  execFileSync(process.execPath, [join(repositoryRoot, 'node_modules', 'typescript', 'bin', 'tsc'), '-p', worktree], { stdio: 'inherit' });
  return join(worktree, 'dist', 'server', 'main.js');
}

/** Runs the tool once against a fresh server of `main`; the rate it reports and the server's CPU over the run, in µs. */
async function measureOnce(tool: string, main: string, args: (endpoint: string) => string[], timeoutMs: number): Promise<{ rate: number; cpuMicroseconds: number }> {
  return withServer('cairn', async (server) => {
    const { summary, cpuMicroseconds } = await runToolMeasuringCpu(tool, args(server.endpoint), server.pid, timeoutMs);
    return { rate: summary.requestsPerSecond, cpuMicroseconds };
  }, { cairnMain: main });
}

async function measureRun(config: CompareConfig, tool: string, main: string, build: Build, round: number, workload: CompareWorkload): Promise<Run> {
  const timeoutMs = config.tool.runTimeoutSeconds * 1000;
  const measured = await measureOnce(tool, main, (endpoint) => compareRunArgs(config.tool, workload, endpoint), timeoutMs);
  if (workload === 'put') {
    return { build, round, workload, rate: measured.rate, cpuMicrosecondsPerOperation: measured.cpuMicroseconds / config.tool.putTotal, deliveryMicrosecondsPerEvent: null };
  }
  const events = watchEvents(config.tool);
  const putsAlone = await measureOnce(tool, main, (endpoint) => watchPutsAloneArgs(config.tool, endpoint), timeoutMs);
  return {
    build, round, workload, rate: measured.rate,
    cpuMicrosecondsPerOperation: measured.cpuMicroseconds / events,
    deliveryMicrosecondsPerEvent: (measured.cpuMicroseconds - putsAlone.cpuMicroseconds) / events,
  };
}

const mean = (values: number[]): number => values.reduce((sum, value) => sum + value, 0) / values.length;

function report(config: CompareConfig, runs: Run[], baseLabel: string): string {
  const lines = [`compare-builds: this checkout ("current") against ${baseLabel} ("base"), ${config.rounds} rounds, the build measured first alternating; server CPU from /proc over the tool's run`];
  for (const workload of config.workloads) {
    const of = (build: Build) => runs.filter((run) => run.workload === workload && run.build === build);
    const unit = workload === 'put' ? 'put' : 'event';
    const widths = [8, 9, 14, 14, 18];
    lines.push('', `${workload}: ${workload === 'put' ? `${config.tool.putTotal} puts of ${config.tool.valueBytes} bytes, ${config.tool.clients} clients over ${config.tool.connections} connections` : `${watchEvents(config.tool)} events (${config.tool.watchPutTotal} puts, 10 streams × 100 watchers over 10 keys, 100 clients)`}`);
    lines.push(row(['build', 'round', `${unit}s/s`, `CPU µs/${unit}`, workload === 'watch' ? 'delivery µs/event' : ''], widths));
    for (const run of runs.filter((each) => each.workload === workload)) {
      lines.push(row([run.build, String(run.round), formatNumber(run.rate, 0), formatNumber(run.cpuMicrosecondsPerOperation, 2), run.deliveryMicrosecondsPerEvent === null ? '' : formatNumber(run.deliveryMicrosecondsPerEvent, 3)], widths));
    }
    const summary = (build: Build): string[] => {
      const own = of(build);
      const delivery = own.map((run) => run.deliveryMicrosecondsPerEvent).filter((value): value is number => value !== null);
      return [build, 'mean', formatNumber(mean(own.map((run) => run.rate)), 0), formatNumber(mean(own.map((run) => run.cpuMicrosecondsPerOperation)), 2), delivery.length === 0 ? '' : formatNumber(mean(delivery), 3)];
    };
    lines.push(row(summary('base'), widths), row(summary('current'), widths));
    const base = of('base');
    const current = of('current');
    const paired = Math.min(base.length, current.length);
    const ahead = Array.from({ length: paired }, (_, i) => (current[i] as Run).cpuMicrosecondsPerOperation < (base[i] as Run).cpuMicrosecondsPerOperation).filter(Boolean).length;
    lines.push(`current/base: ${unit}s/s ${formatRatio(ratioOf(mean(current.map((run) => run.rate)), mean(base.map((run) => run.rate))))}, CPU per ${unit} ${formatRatio(ratioOf(mean(current.map((run) => run.cpuMicrosecondsPerOperation)), mean(base.map((run) => run.cpuMicrosecondsPerOperation))))}; current used less CPU in ${ahead} of ${paired} rounds`);
  }
  return lines.join('\n');
}

async function main(): Promise<void> {
  const config = parseCompareFlags(process.argv.slice(2));
  if (config === 'help') return void console.log(compareUsage);
  const environment = captureEnvironment();
  const { binary: tool } = await etcdBenchmarkTool();
  const mains: Record<Build, string> = { base: buildRevision(config.base), current: cairnMain };
  const runs: Run[] = [];
  for (let round = 1; round <= config.rounds && !wasInterrupted(); round++) {
    const order: Build[] = round % 2 === 1 ? ['base', 'current'] : ['current', 'base'];
    for (const workload of config.workloads) {
      for (const build of order) {
        const run = await measureRun(config, tool, mains[build], build, round, workload);
        console.error(`compare-builds: round ${round} ${workload} ${build}: ${formatNumber(run.rate, 0)}/s, ${formatNumber(run.cpuMicrosecondsPerOperation, 2)} µs CPU per operation`);
        runs.push(run);
      }
    }
  }
  if (config.json) console.log(JSON.stringify({ environment, config, runs }, null, 2));
  else console.log(`${describeEnvironment(environment)}\n${report(config, runs, `revision ${config.base}`)}`);
}

runProgram('compare-builds', main);
