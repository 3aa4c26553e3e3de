// Where a put's garbage comes from: an embedded cairn (this process) under
// etcd's benchmark tool (puts of 256-byte values from 100 clients), with V8's
// sampling heap profiler keeping every sample — objects the minor and major
// collectors already freed included — so the figures are bytes allocated, not
// bytes live. Printed: bytes allocated per put in all, by file and by
// function, and by the innermost of cairn's own functions on the stack (what
// Node and the libraries allocate on cairn's behalf counted to the caller:
// which of cairn's steps a put's garbage comes from). Garbage is what the collector then spends its time on (a put's
// largest single cost on the main thread: docs/performance.md). Sampling
// slows the server; the bytes per put do not depend on its speed.
// `npm run bench:allocations -- [--puts N] [--top N]`
import { execFile } from 'node:child_process';
import { Session } from 'node:inspector/promises';
import { parseArgs, promisify } from 'node:util';
import { startEmbeddedServer } from '../server/embed.js';
import { onCleanup, runProgram } from './cleanup.js';
import { etcdBenchmarkTool } from './etcd-tool-measure.js';
import { integer } from './flags.js';

const usage = `usage: node dist/bench/put-allocations.js [flags]     (npm run bench:allocations -- [flags])
Bytes a put allocates in an embedded cairn under etcd's benchmark tool, by file, by function, and by cairn's innermost function on the stack.
  --puts N    measured puts (default 100000; 10000 more warm up first)
  --top N     lines per table (default 25)`;

/** One sample stands for this many bytes on average (V8's default is 32 KiB; smaller is finer). */
const samplingIntervalBytes = 4096;
const warmupPuts = 10_000;

interface ProfileNode {
  callFrame: { functionName: string; url: string; lineNumber: number };
  selfSize: number;
  children: ProfileNode[];
}

/** A script's URL as a short name: a path under the repository, a package, or node's internal module. */
function fileOf(url: string): string {
  if (url === '') return '(native)';
  const packageAt = url.lastIndexOf('node_modules/');
  if (packageAt >= 0) return url.slice(packageAt + 'node_modules/'.length).split('/').slice(0, url.includes('node_modules/@') ? 2 : 1).join('/');
  const distAt = url.indexOf('/dist/');
  return distAt >= 0 ? url.slice(distAt + '/dist/'.length) : url;
}

/** Whether a frame is cairn's own code (the server and its generated protobuf code), not Node's or a package's. */
function isCairns(url: string): boolean {
  return !url.includes('node_modules/') && (url.includes('/dist/server/') || url.includes('/dist/proto/'));
}

function table(totals: Map<string, number>, puts: number, top: number): string {
  return [...totals].sort((a, b) => b[1] - a[1]).slice(0, top).map(([name, bytes]) => `${(bytes / puts).toFixed(0).padStart(8)} B/put  ${name}`).join('\n');
}

async function main(): Promise<void> {
  const { values } = parseArgs({ options: { puts: { type: 'string' }, top: { type: 'string' }, help: { type: 'boolean', default: false } } });
  if (values.help) return void console.log(usage);
  const puts = integer('--puts', values.puts, 100_000, 1_000, 10_000_000);
  const top = integer('--top', values.top, 25, 1, 1_000);
  const { binary: tool } = await etcdBenchmarkTool();
  const server = await startEmbeddedServer();
  onCleanup(() => server.stop());
  const load = (total: number) => promisify(execFile)(tool, [
    '--endpoints', server.endpoint, '--conns', '10', '--clients', '100',
    'put', '--sequential-keys', '--key-space-size', String(total), '--val-size', '256', '--total', String(total),
  ], { encoding: 'utf8', maxBuffer: 1 << 26 });
  await load(warmupPuts);
  const session = new Session();
  session.connect();
  await session.post('HeapProfiler.enable');
  await session.post('HeapProfiler.startSampling', { samplingInterval: samplingIntervalBytes, includeObjectsCollectedByMajorGC: true, includeObjectsCollectedByMinorGC: true });
  await load(puts);
  const { profile } = (await session.post('HeapProfiler.stopSampling')) as unknown as { profile: { head: ProfileNode } };
  session.disconnect();
  const byFile = new Map<string, number>();
  const byFunction = new Map<string, number>();
  const byCairnCaller = new Map<string, number>();
  let total = 0;
  // Each node with the innermost of cairn's functions at or above it.
  const pending: Array<{ node: ProfileNode; caller: string }> = [{ node: profile.head, caller: '(no cairn function on the stack)' }];
  for (let next = pending.pop(); next !== undefined; next = pending.pop()) {
    const { node } = next;
    const file = fileOf(node.callFrame.url);
    const name = `${node.callFrame.functionName || '(anonymous)'}  ${file}:${node.callFrame.lineNumber + 1}`;
    const caller = isCairns(node.callFrame.url) ? name : next.caller;
    total += node.selfSize;
    byFile.set(file, (byFile.get(file) ?? 0) + node.selfSize);
    byFunction.set(name, (byFunction.get(name) ?? 0) + node.selfSize);
    byCairnCaller.set(caller, (byCairnCaller.get(caller) ?? 0) + node.selfSize);
    for (const child of node.children) pending.push({ node: child, caller });
  }
  console.log(`${puts} puts of 256-byte values, 100 clients over 10 connections: ${(total / puts).toFixed(0)} bytes allocated per put (sampled every ${samplingIntervalBytes} bytes)`);
  console.log(`--- by file\n${table(byFile, puts, top)}`);
  console.log(`--- by function\n${table(byFunction, puts, top)}`);
  console.log(`--- by the innermost of cairn's functions on the stack\n${table(byCairnCaller, puts, top)}`);
}

runProgram('put-allocations', main);
