// Resident memory, side by side: (1) `etcdctl check datascale --load=m`
// (100,000 keys of 512 bytes with 512-byte values) on a fresh single node of
// each kind, and the process's resident memory after it; (2) a put / delete /
// compact cycle run for a bounded time on another fresh node of each kind,
// with resident memory sampled after every round and its slope fitted after
// the warm-up (a leak shows as a slope that does not flatten).
// `npm run bench:memory -- [flags]`
import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { credentials, type ServiceError } from '@grpc/grpc-js';
import { CompactionRequest, DeleteRangeRequest, type DeleteRangeResponse, KVClient, PutRequest } from '../proto/gen/etcdserverpb/rpc.js';
import { prefixEnd } from '../client/keys.js';
import { etcdctl } from '../test/harness/etcdctl.js';
import type { ServerHandle } from '../test/harness/launcher.js';
import { runProgram, wasInterrupted } from './cleanup.js';
import { integer, targetsOf, type TargetKind } from './flags.js';
import { afterWarmup, megabytes, parseProcStatus, slopeBytesPerMinute, type ResidentMemory, type Sample } from './memory-figures.js';
import { withServer } from './server.js';
import { captureEnvironment, describeEnvironment, formatNumber, formatRatio, ratioOf, row } from './table.js';

const usage = `usage: node dist/bench/memory.js [flags]     (npm run bench:memory -- [flags])
Resident memory of a single node of each kind: after etcdctl check datascale --load=m, and across a put/delete/compact cycle.
  --target etcd|cairn|both     which servers (default both)
  --cycle-minutes N            how long the put/delete/compact cycle runs per server (default 5; 0 skips it)
  --cycle-keys N               keys put (then deleted, then compacted) per round (default 20000)
  --settle-seconds N           after check datascale, how long the server is left idle before its memory is read again (default 60)
  --skip-datascale             run the cycle only
  --json                       print one JSON document instead of a table`;

const datascaleTimeoutMs = 600_000;
/** Puts in flight during the cycle, spread over the channels. */
const cycleInFlight = 64;
const cycleChannels = 4;
const cycleValueBytes = 1_000;
/** The first part of the cycle's time is the heap's warm-up, left out of the slope. */
const warmupFraction = 1 / 3;
/** A server is left this long before its memory is first read. */
const idleBeforeReadingMs = 1_000;

interface DatascaleResult {
  startBytes: number;
  after: ResidentMemory;
  /** etcdctl's own figure: process_resident_memory_bytes after the puts minus before. */
  reportedUsedMb: number;
  /** Resident after the server was left idle for `settleSeconds`: what a burst leaves behind. */
  settledBytes: number;
  settleSeconds: number;
}

interface CycleResult {
  rounds: number;
  puts: number;
  minutes: number;
  samples: Sample[];
  slopeBytesPerMinute: number;
  peakBytes: number;
}

interface KindResult {
  kind: TargetKind;
  datascale?: DatascaleResult;
  cycle?: CycleResult;
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

function residentMemory(pid: number): ResidentMemory {
  return parseProcStatus(readFileSync(`/proc/${pid}/status`, 'utf8'));
}

async function datascale(server: ServerHandle, settleSeconds: number): Promise<DatascaleResult> {
  await sleep(idleBeforeReadingMs);
  const startBytes = residentMemory(server.pid).residentBytes;
  const result = await etcdctl(server.endpoint, ['check', 'datascale', '--load=m'], { timeoutMs: datascaleTimeoutMs });
  const after = residentMemory(server.pid);
  const verdict = /PASS: Approximate system memory used : ([\d.]+) MB/.exec(result.stdout);
  if (result.code !== 0 || verdict === null) {
    throw new Error(`check datascale failed (exit ${result.code}): ${(result.stdout + result.stderr).slice(-1_000)}`);
  }
  await sleep(settleSeconds * 1_000);
  return { startBytes, after, reportedUsedMb: Number(verdict[1]), settledBytes: residentMemory(server.pid).residentBytes, settleSeconds };
}

function call<T>(invoke: (done: (error: ServiceError | null, response: T) => void) => void): Promise<T> {
  return new Promise((resolve, reject) => invoke((error, response) => (error === null ? resolve(response) : reject(error))));
}

/** Puts `count` keys under `prefix`, `cycleInFlight` at a time over the channels. */
async function putKeys(clients: KVClient[], prefix: string, count: number): Promise<void> {
  const value = Buffer.alloc(cycleValueBytes, 'v');
  let next = 0;
  const loop = async (loopIndex: number) => {
    const client = clients[loopIndex % clients.length] as KVClient;
    while (next < count) {
      const key = Buffer.from(`${prefix}${(next++).toString().padStart(8, '0')}`);
      await call((done) => client.put(PutRequest.fromPartial({ key, value }), done));
    }
  };
  await Promise.all(Array.from({ length: cycleInFlight }, (_, index) => loop(index)));
}

async function cycle(server: ServerHandle, minutes: number, keysPerRound: number, kind: TargetKind): Promise<CycleResult> {
  const clients = Array.from({ length: cycleChannels }, () => new KVClient(server.endpoint, credentials.createInsecure(), { 'grpc.use_local_subchannel_pool': 1 }));
  try {
    await sleep(idleBeforeReadingMs);
    const startMs = Date.now();
    const samples: Sample[] = [{ atMs: 0, bytes: residentMemory(server.pid).residentBytes }];
    let rounds = 0;
    while (Date.now() - startMs < minutes * 60_000 && !wasInterrupted()) {
      // Fresh keys every round: after the compaction nothing of the round before may remain.
      const prefix = `/memory-cycle/${rounds}/`;
      await putKeys(clients, prefix, keysPerRound);
      const client = clients[0] as KVClient;
      const deleted = await call<DeleteRangeResponse>((done) => client.deleteRange(DeleteRangeRequest.fromPartial({ key: Buffer.from(prefix), rangeEnd: prefixEnd(Buffer.from(prefix)) }), done));
      const revision = deleted.header?.revision ?? 0n;
      await call((done) => client.compact(CompactionRequest.fromPartial({ revision, physical: true }), done));
      rounds++;
      const bytes = residentMemory(server.pid).residentBytes;
      samples.push({ atMs: Date.now() - startMs, bytes });
      console.error(`memory ${kind} cycle round ${rounds}: ${formatNumber(megabytes(bytes), 1)} MB resident at ${formatNumber((Date.now() - startMs) / 1000, 0)} s`);
    }
    return {
      rounds,
      puts: rounds * keysPerRound,
      minutes: (Date.now() - startMs) / 60_000,
      samples,
      slopeBytesPerMinute: slopeBytesPerMinute(afterWarmup(samples, warmupFraction)),
      peakBytes: residentMemory(server.pid).peakBytes,
    };
  } finally {
    for (const client of clients) client.close();
  }
}

function mb(bytes: number | undefined): string {
  return bytes === undefined ? '-' : formatNumber(megabytes(bytes), 1);
}

function table(results: KindResult[], keysPerRound: number): string {
  const widths = [28, 12, 12, 12];
  const etcd = results.find((result) => result.kind === 'etcd');
  const cairn = results.find((result) => result.kind === 'cairn');
  const line = (label: string, figure: (result: KindResult) => number | undefined, decimals = 1, scale = megabytes) => {
    const [e, c] = [etcd, cairn].map((result) => (result === undefined ? undefined : figure(result)));
    const cell = (value: number | undefined) => (value === undefined ? '-' : formatNumber(scale(value), decimals));
    return row([label, cell(e), cell(c), formatRatio(ratioOf(c ?? NaN, e ?? NaN))], widths);
  };
  const lines = [`Resident memory (MB = 2^20 bytes) of a single node; each part on a fresh server`, describeEnvironment(captureEnvironment()), '', row(['', 'etcd', 'cairn', 'cairn/etcd'], widths)];
  if (results.some((result) => result.datascale !== undefined)) {
    lines.push('etcdctl check datascale --load=m (100,000 keys, 512 B keys + 512 B values):');
    lines.push(line('  resident at start', (result) => result.datascale?.startBytes));
    lines.push(line('  resident after', (result) => result.datascale?.after.residentBytes));
    const settleSeconds = results.find((result) => result.datascale !== undefined)?.datascale?.settleSeconds ?? 0;
    lines.push(line(`  resident ${settleSeconds} s later, idle`, (result) => result.datascale?.settledBytes));
    lines.push(line('  peak resident', (result) => result.datascale?.after.peakBytes));
    lines.push(line('  used, as etcdctl reports it', (result) => result.datascale?.reportedUsedMb, 1, (value) => value));
  }
  if (results.some((result) => result.cycle !== undefined)) {
    const first = (results.find((result) => result.cycle !== undefined) as KindResult).cycle as CycleResult;
    lines.push(`put/delete/compact cycle (${keysPerRound} fresh keys of ${cycleValueBytes} B a round, deleted, then compacted; ~${formatNumber(first.minutes, 1)} min):`);
    lines.push(line('  rounds', (result) => result.cycle?.rounds, 0, (value) => value));
    lines.push(line('  resident after round 1', (result) => result.cycle?.samples[1]?.bytes));
    lines.push(line('  resident at the end', (result) => result.cycle?.samples.at(-1)?.bytes));
    lines.push(line('  peak resident', (result) => result.cycle?.peakBytes));
    lines.push(row(['  slope after warm-up MB/min', ...[etcd, cairn].map((result) => (result?.cycle === undefined ? '-' : formatNumber(megabytes(result.cycle.slopeBytesPerMinute), 2))), ''], widths));
  }
  return lines.join('\n');
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    args: process.argv.slice(2),
    strict: true,
    options: {
      target: { type: 'string', default: 'both' },
      'cycle-minutes': { type: 'string' },
      'cycle-keys': { type: 'string' },
      'settle-seconds': { type: 'string' },
      'skip-datascale': { type: 'boolean', default: false },
      json: { type: 'boolean', default: false },
      help: { type: 'boolean', default: false },
    },
  });
  if (values.help) return void console.log(usage);
  const kinds = targetsOf(values.target);
  const cycleMinutes = integer('cycle-minutes', values['cycle-minutes'], 5, 0, 120);
  const keysPerRound = integer('cycle-keys', values['cycle-keys'], 20_000, 100, 1_000_000);
  const settleSeconds = integer('settle-seconds', values['settle-seconds'], 60, 0, 3_600);
  const results: KindResult[] = kinds.map((kind) => ({ kind }));
  for (const result of results) {
    if (values['skip-datascale'] || wasInterrupted()) break;
    result.datascale = await withServer(result.kind, (server) => datascale(server, settleSeconds));
    console.error(`memory ${result.kind} datascale: ${mb(result.datascale.after.residentBytes)} MB resident after`);
  }
  for (const result of results) {
    if (cycleMinutes === 0 || wasInterrupted()) break;
    result.cycle = await withServer(result.kind, (server) => cycle(server, cycleMinutes, keysPerRound, result.kind));
  }
  console.log(values.json ? JSON.stringify({ benchmark: 'memory', environment: captureEnvironment(), keysPerRound, results }, (_, value: unknown) => (typeof value === 'bigint' ? value.toString() : value), 2) : table(results, keysPerRound));
}

runProgram('memory', main);
