// How much of a put is the transport's? etcd's benchmark tool runs the same
// put workload against four servers on this machine, one after the other:
// etcd, cairn, and two that do nothing but answer (ceiling-responder.ts) — a
// grpc-js Server and node:http2 alone. The responders' rates are what any
// server on that transport can reach here; each server's CPU time per
// request (from /proc, over the tool's run only) shows where the time goes.
// `npm run bench:ceiling -- [flags]`
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { freePort } from '../test/harness/launcher.js';
import { repositoryRoot } from '../test/harness/sources.js';
import { ceilingTransports, type CeilingTransport } from './ceiling-responder.js';
import { onCleanup, runProgram, wasInterrupted } from './cleanup.js';
import { etcdBenchmarkTool, runToolMeasuringCpu } from './etcd-tool-measure.js';
import { parseEtcdToolFlags, toolArgs, type EtcdToolConfig } from './etcd-tool-flags.js';
import { integer } from './flags.js';
import { withServer } from './server.js';
import { captureEnvironment, describeEnvironment, formatNumber, formatRatio, ratioOf, row } from './table.js';

const usage = `usage: node dist/bench/transport-ceiling.js [flags]     (npm run bench:ceiling -- [flags])
etcd's benchmark tool's put workload against etcd, cairn, a no-op grpc-js server and a no-op node:http2 server.
  --repetitions N     rounds; each round measures every server once, the order rotating (default 2)
  --conns N           the tool's gRPC connections (default 10)
  --clients N         the tool's clients: requests in flight (default 100)
  --put-total N       puts per run (default 20000)
  --json              print one JSON document instead of a table`;

const servers = ['etcd', 'cairn', ...ceilingTransports] as const;
type CeilingServer = (typeof servers)[number];
const responderStartMsMax = 10_000;
const runTimeoutMs = 300_000;

interface CeilingRun {
  server: CeilingServer;
  round: number;
  requestsPerSecond: number;
  /** The server process's user + system CPU time during the tool's run, per request. */
  cpuMicrosecondsPerRequest: number;
}


/** Starts a responder on a free port; resolves with its endpoint and pid once it listens. */
async function withResponder<T>(transport: CeilingTransport, measure: (endpoint: string, pid: number) => Promise<T>): Promise<T> {
  const port = await freePort();
  const child = spawn(process.execPath, [join(repositoryRoot, 'dist', 'bench', 'ceiling-responder.js'), transport, String(port)], { stdio: ['ignore', 'pipe', 'inherit'] });
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const stop = onCleanup(async () => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    await exited;
  });
  try {
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`${transport} responder: not listening within ${responderStartMsMax} ms`)), responderStartMsMax);
      child.stdout.once('data', () => (clearTimeout(timer), resolve()));
      child.once('exit', (code) => (clearTimeout(timer), reject(new Error(`${transport} responder exited (${code}) before listening`))));
    });
    return await measure(`127.0.0.1:${port}`, child.pid as number);
  } finally {
    await stop();
  }
}

async function runPut(binary: string, config: EtcdToolConfig, server: CeilingServer, round: number, endpoint: string, pid: number): Promise<CeilingRun> {
  const { summary, cpuMicroseconds } = await runToolMeasuringCpu(binary, toolArgs(config, 'put', endpoint), pid, runTimeoutMs).catch((error: Error) => {
    throw new Error(`${server}: ${error.message}`, { cause: error });
  });
  return { server, round, requestsPerSecond: summary.requestsPerSecond, cpuMicrosecondsPerRequest: cpuMicroseconds / config.putTotal };
}

function measureOne(binary: string, config: EtcdToolConfig, server: CeilingServer, round: number): Promise<CeilingRun> {
  if (server === 'etcd' || server === 'cairn') return withServer(server, (handle) => runPut(binary, config, server, round, handle.endpoint, handle.pid));
  return withResponder(server, (endpoint, pid) => runPut(binary, config, server, round, endpoint, pid));
}

function mean(values: number[]): number {
  return values.reduce((sum, value) => sum + value, 0) / values.length;
}

function table(runs: CeilingRun[], config: EtcdToolConfig): string {
  const widths = [12, 7, 10, 18, 14];
  const lines = [
    `etcd's benchmark tool, put: --conns ${config.connections} --clients ${config.clients}, ${config.putTotal} puts of ${config.valueBytes}-byte values; a fresh server per run`,
    describeEnvironment(captureEnvironment()),
    '',
    row(['server', 'round', 'req/s', 'server CPU µs/req', 'req/s vs etcd'], widths),
  ];
  const etcdMean = mean(runs.filter((run) => run.server === 'etcd').map((run) => run.requestsPerSecond));
  for (const server of servers) {
    const own = runs.filter((run) => run.server === server);
    if (own.length === 0) continue;
    for (const run of own) lines.push(row([server, String(run.round), formatNumber(run.requestsPerSecond, 0), formatNumber(run.cpuMicrosecondsPerRequest, 1), ''], widths));
    const rate = mean(own.map((run) => run.requestsPerSecond));
    lines.push(row([server, 'mean', formatNumber(rate, 0), formatNumber(mean(own.map((run) => run.cpuMicrosecondsPerRequest)), 1), formatRatio(ratioOf(rate, etcdMean))], widths));
  }
  return lines.join('\n');
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    args: process.argv.slice(2),
    strict: true,
    options: {
      repetitions: { type: 'string' },
      conns: { type: 'string' },
      clients: { type: 'string' },
      'put-total': { type: 'string' },
      json: { type: 'boolean', default: false },
      help: { type: 'boolean', default: false },
    },
  });
  if (values.help) return void console.log(usage);
  const rounds = integer('repetitions', values.repetitions, 2, 1, 20);
  const toolFlags = ['--workloads', 'put', ...(['conns', 'clients', 'put-total'] as const).flatMap((flag) => (values[flag] === undefined ? [] : [`--${flag}`, values[flag] as string]))];
  const config = parseEtcdToolFlags(toolFlags);
  if (config === 'help') return;
  const { binary } = await etcdBenchmarkTool();
  const runs: CeilingRun[] = [];
  for (let round = 1; round <= rounds && !wasInterrupted(); round++) {
    // Each round starts one server later in the list, so no server is always measured first.
    const order = servers.map((_, i) => servers[(i + round - 1) % servers.length] as CeilingServer);
    for (const server of order) {
      if (wasInterrupted()) break;
      const run = await measureOne(binary, config, server, round);
      console.error(`transport-ceiling: round ${round} ${server}: ${run.requestsPerSecond.toFixed(0)} req/s, ${run.cpuMicrosecondsPerRequest.toFixed(1)} µs CPU/request`);
      runs.push(run);
    }
  }
  console.log(values.json ? JSON.stringify({ benchmark: 'transport-ceiling', config, environment: captureEnvironment(), runs }, null, 2) : table(runs, config));
}

runProgram('transport-ceiling', main);
