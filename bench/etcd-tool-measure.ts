// Measures one repetition of one kind with etcd's benchmark tool: builds (or
// finds) the tool, starts a fresh single-node server through the launcher,
// runs every workload on it in turn with the same command line as on the
// other kind, reads the tool's summaries, and always stops the server and
// the tool.
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { connect } from '../client/index.js';
import { repositoryRoot } from '../test/harness/sources.js';
import { onCleanup, wasInterrupted } from './cleanup.js';
import { rangeKey, toolArgs, type EtcdToolConfig, type ToolWorkload } from './etcd-tool-flags.js';
import { errorCount, parseToolOutput, type ToolSummary } from './etcd-tool-output.js';
import type { TargetKind } from './flags.js';
import { processCpuMicroseconds } from './process-cpu.js';
import { withServer } from './server.js';
import { loadAverage1m } from './table.js';

const buildScript = join(repositoryRoot, 'scripts', 'build-etcd-benchmark.sh');
/** A cold build (source package, empty Go build cache) took ~1 min on a 2-core machine. */
const buildTimeoutMs = 600_000;
const outputTailChars = 2_000;

export interface ToolRun {
  workload: ToolWorkload;
  /** 1-minute load average when the run started (others may be using the machine). */
  loadAverage1mAtStart: number;
  /** The summary the workload's figures come from: the only one, or watch's "events received". */
  summary: ToolSummary | null;
  /** Watch only: the summary of creating the watchers. */
  creation: ToolSummary | null;
  errors: number;
  /** Why the run gave no figures (exit code, unreadable output, timeout); null when it ran. */
  failure: string | null;
}

export interface EtcdToolTargetResult {
  target: TargetKind;
  repetition: number;
  runs: ToolRun[];
}

export interface ToolBuild {
  binary: string;
  /** What the build script said on stderr (the build time when it built). */
  log: string;
}

let building: Promise<ToolBuild> | undefined;

/** The tool's path, built by scripts/build-etcd-benchmark.sh on first use (cached across runs). */
export function etcdBenchmarkTool(): Promise<ToolBuild> {
  building ??= runProcess(buildScript, [], buildTimeoutMs).then((result) => {
    const binary = result.stdout.trim().split('\n').pop() ?? '';
    if (result.code !== 0 || binary === '') {
      throw new Error(`${buildScript} failed (exit ${result.code}):\n${result.stderr.slice(-outputTailChars)}`);
    }
    const log = result.stderr.trim().split('\n').filter((line) => line.startsWith('build-etcd-benchmark:')).join('\n');
    if (log !== '') console.error(log);
    return { binary, log };
  });
  return building;
}

interface ProcessResult {
  code: number | null;
  stdout: string;
  stderr: string;
  timedOut: boolean;
}

/** Runs a process to its end, killed after `timeoutMs` or when the bench is interrupted. */
export function runProcess(command: string, args: string[], timeoutMs: number): Promise<ProcessResult> {
  const child = spawn(command, args, { stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  let timedOut = false;
  child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
  child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  const closed = new Promise<number | null>((resolve, reject) => {
    child.on('error', reject);
    child.on('close', (code) => resolve(code));
  });
  const kill = onCleanup(async () => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    await closed.catch(() => undefined);
  });
  const timer = setTimeout(() => {
    timedOut = true;
    void kill();
  }, timeoutMs);
  return closed.then((code) => ({ code, stdout, stderr, timedOut })).finally(() => {
    clearTimeout(timer);
    void kill();
  });
}

/**
 * Runs the tool with `args` against a server whose process is `pid`; its last
 * summary (watch prints the watchers' creation first) and the CPU time the
 * server used during the run, in µs. Throws when the tool fails or prints no summary.
 */
export async function runToolMeasuringCpu(binary: string, args: string[], pid: number, timeoutMs: number): Promise<{ summary: ToolSummary; cpuMicroseconds: number }> {
  const before = processCpuMicroseconds(pid);
  const result = await runProcess(binary, args, timeoutMs);
  const cpuMicroseconds = processCpuMicroseconds(pid) - before;
  if (result.code !== 0) throw new Error(`the tool exited ${result.code}: ${result.stderr.slice(-outputTailChars)}`);
  const summary = parseToolOutput(result.stdout).at(-1);
  if (summary === undefined) throw new Error('no summary in the tool\'s output');
  return { summary, cpuMicroseconds };
}

async function writeRangeKey(endpoint: string, valueBytes: number): Promise<void> {
  const client = await connect({ endpoints: [endpoint] });
  try {
    await client.put(rangeKey, randomBytes(valueBytes));
  } finally {
    client.close();
  }
}

async function runWorkload(binary: string, config: EtcdToolConfig, workload: ToolWorkload, endpoint: string): Promise<ToolRun> {
  const loadAverage1mAtStart = loadAverage1m();
  if (workload === 'range') await writeRangeKey(endpoint, config.valueBytes);
  const result = await runProcess(binary, toolArgs(config, workload, endpoint), config.runTimeoutSeconds * 1000);
  const failed = (failure: string): ToolRun => ({ workload, loadAverage1mAtStart, summary: null, creation: null, errors: 0, failure });
  if (result.timedOut) return failed(`killed after ${config.runTimeoutSeconds} s (a watch run waits for every event)`);
  if (result.code !== 0) return failed(`exit ${result.code}: ${result.stderr.slice(-outputTailChars)}`);
  let summaries: ToolSummary[];
  try {
    summaries = parseToolOutput(result.stdout);
  } catch (error) {
    return failed((error as Error).message);
  }
  const expected = workload === 'watch' ? 2 : 1;
  if (summaries.length !== expected) return failed(`expected ${expected} summaries in the tool's output, found ${summaries.length}`);
  const summary = summaries[summaries.length - 1] ?? null;
  const creation = workload === 'watch' ? summaries[0] ?? null : null;
  const errors = summaries.reduce((total, each) => total + errorCount(each), 0);
  return { workload, loadAverage1mAtStart, summary, creation, errors, failure: null };
}

/** Runs every workload of `config` on a fresh server of `target`. */
export async function measureEtcdTool(target: TargetKind, repetition: number, config: EtcdToolConfig): Promise<EtcdToolTargetResult> {
  const { binary } = await etcdBenchmarkTool();
  return withServer(target, async (server) => {
    const runs: ToolRun[] = [];
    for (const workload of config.workloads) {
      if (wasInterrupted()) break;
      runs.push(await runWorkload(binary, config, workload, server.endpoint));
    }
    return { target, repetition, runs };
  });
}

/** What makes a measured repetition a failure all the same. */
export function etcdToolProblems(result: EtcdToolTargetResult): string[] {
  return result.runs.flatMap((run) => [
    ...(run.failure === null ? [] : [`repetition ${result.repetition} ${run.workload}: ${run.failure}`]),
    ...(run.errors === 0 ? [] : [`repetition ${result.repetition} ${run.workload}: ${run.errors} failed requests`]),
  ]);
}
