// `npm run bench:stall`: does long work on a leader hold up its heartbeats?
// On a 3-member cluster of each kind (same flags, same machine, one after the
// other) holding N keys, under a steady put load to the leader, the leader is
// asked for a Range of every key, HashKV, a physical Compact and a
// Defragment, one at a time. Meanwhile every follower is asked for its Status
// every 10 ms: its raft index moves only when the leader's appends or
// heartbeats reach it, so the longest time it stands still during a phase is
// the longest gap in the leader's traffic; a change of term or leader is an
// election. Printed side by side; an election on cairn makes the exit code 1.
import { parseArgs } from 'node:util';
import { credentials, Metadata } from '@grpc/grpc-js';
import {
  CompactionRequest,
  DefragmentRequest,
  HashKVRequest,
  KVClient,
  MaintenanceClient,
  PutRequest,
  RangeRequest,
  StatusRequest,
  TxnRequest,
  type StatusResponse,
} from '../proto/gen/etcdserverpb/rpc.js';
import type { Cluster, ClusterMember } from '../test/harness/cluster.js';
import { cleanupAll, installSignalHandlers } from './cleanup.js';
import { withCluster } from './cluster-server.js';

const usage = `usage: node dist/bench/loop-stall.js [--keys N] [--target etcd|cairn|both] [--json]
  --keys N        keys written before the phases (default 100000), 100-byte values, each written twice
  --target T      servers to measure (default both)`;

const probeIntervalMs = 10;
const putLoops = 16;
const quietMs = 2_000;
const tailMs = 1_000;
const txnPutsMax = 128;
const callDeadlineMs = 60_000;

interface Sample {
  atMs: number;
  member: string;
  raftIndex: bigint;
  raftTerm: bigint;
  leader: bigint;
}

interface PhaseResult {
  phase: string;
  operationMs: number;
  /** Longest time a follower's raft index stood still during the phase. */
  gapMsMax: number;
  elections: number;
}

type Call<Request, Response> = (request: Request, metadata: Metadata, options: { deadline: number }, done: (error: Error | null, response?: Response) => void) => unknown;

function call<Request, Response>(method: Call<Request, Response>, request: Request, deadlineMs = callDeadlineMs): Promise<Response> {
  return new Promise((resolve, reject) => {
    method(request, new Metadata(), { deadline: Date.now() + deadlineMs }, (error, response) => (error === null ? resolve(response as Response) : reject(error)));
  });
}

function keyOf(index: number): Buffer {
  return Buffer.from(`stall/${String(index).padStart(8, '0')}`);
}

async function fill(kv: KVClient, keys: number): Promise<void> {
  const value = Buffer.alloc(100, 'v');
  for (let round = 0; round < 2; round++) {
    const batches: TxnRequest[] = [];
    for (let first = 0; first < keys; first += txnPutsMax) {
      const success = [];
      for (let index = first; index < Math.min(keys, first + txnPutsMax); index++) success.push({ requestPut: { key: keyOf(index), value } });
      batches.push(TxnRequest.fromPartial({ success }));
    }
    for (let next = 0; next < batches.length; next += 8) await Promise.all(batches.slice(next, next + 8).map((batch) => call(kv.txn.bind(kv), batch)));
  }
}

/** Puts to the leader until stopped. */
function putLoad(kv: KVClient): { stop: () => Promise<number> } {
  let running = true;
  let puts = 0;
  const loops = Array.from({ length: putLoops }, async (_, loop) => {
    while (running) {
      await call(kv.put.bind(kv), PutRequest.fromPartial({ key: Buffer.from(`load/${loop}`), value: Buffer.from(String(puts)) }), 5_000).then(
        () => puts++,
        () => undefined,
      );
    }
  });
  return {
    stop: async () => {
      running = false;
      await Promise.all(loops);
      return puts;
    },
  };
}

/** Status of every follower every probeIntervalMs until stopped. */
function probe(followers: ClusterMember[]): { samples: Sample[]; stop: () => Promise<void> } {
  const samples: Sample[] = [];
  let running = true;
  const loops = followers.map(async (member) => {
    const client = new MaintenanceClient(member.endpoint, credentials.createInsecure());
    try {
      while (running) {
        const started = performance.now();
        const status = await call<StatusRequest, StatusResponse>(client.status.bind(client), {}, 1_000).catch(() => undefined);
        if (status !== undefined) samples.push({ atMs: performance.now(), member: member.name, raftIndex: status.raftIndex, raftTerm: status.raftTerm, leader: status.leader });
        await new Promise((resolve) => setTimeout(resolve, Math.max(0, probeIntervalMs - (performance.now() - started))));
      }
    } finally {
      client.close();
    }
  });
  return {
    samples,
    stop: async () => {
      running = false;
      await Promise.all(loops);
    },
  };
}

function summarise(phase: string, samples: Sample[], fromMs: number, toMs: number, operationMs: number): PhaseResult {
  let gapMsMax = 0;
  let elections = 0;
  const byMember = new Map<string, Sample[]>();
  for (const sample of samples) {
    if (sample.atMs < fromMs || sample.atMs > toMs) continue;
    const list = byMember.get(sample.member) ?? [];
    list.push(sample);
    byMember.set(sample.member, list);
  }
  for (const list of byMember.values()) {
    let movedAt = list[0]?.atMs ?? fromMs;
    for (let i = 1; i < list.length; i++) {
      const [previous, current] = [list[i - 1] as Sample, list[i] as Sample];
      if (current.raftTerm !== previous.raftTerm || current.leader !== previous.leader) elections++;
      if (current.raftIndex !== previous.raftIndex) {
        gapMsMax = Math.max(gapMsMax, current.atMs - movedAt);
        movedAt = current.atMs;
      }
    }
    gapMsMax = Math.max(gapMsMax, (list[list.length - 1]?.atMs ?? movedAt) - movedAt);
  }
  return { phase, operationMs: Math.round(operationMs), gapMsMax: Math.round(gapMsMax), elections };
}

async function measure(cluster: Cluster, keys: number): Promise<PhaseResult[]> {
  const leader = await cluster.leader();
  const followers = cluster.members.filter((member) => member !== leader);
  const kv = new KVClient(leader.endpoint, credentials.createInsecure(), { 'grpc.max_receive_message_length': -1 });
  const maintenance = new MaintenanceClient(leader.endpoint, credentials.createInsecure());
  const results: PhaseResult[] = [];
  try {
    await fill(kv, keys);
    const load = putLoad(kv);
    const probing = probe(followers);
    const phase = async (name: string, operation: () => Promise<unknown>): Promise<void> => {
      const fromMs = performance.now();
      await operation();
      const operationMs = performance.now() - fromMs;
      await new Promise((resolve) => setTimeout(resolve, tailMs));
      results.push(summarise(name, probing.samples, fromMs, performance.now(), operationMs));
    };
    try {
      await phase('puts only', () => new Promise((resolve) => setTimeout(resolve, quietMs)));
      await phase(`Range of ${keys} keys`, () => call(kv.range.bind(kv), RangeRequest.fromPartial({ key: Buffer.from('stall/'), rangeEnd: Buffer.from('stall0') })));
      await phase('HashKV', () => call(maintenance.hashKv.bind(maintenance), HashKVRequest.fromPartial({})));
      const status = await call<StatusRequest, StatusResponse>(maintenance.status.bind(maintenance), {});
      const revision = status.header?.revision ?? 0n;
      await phase('Compact (physical)', () => call(kv.compact.bind(kv), CompactionRequest.fromPartial({ revision, physical: true })));
      await phase('Defragment', () => call(maintenance.defragment.bind(maintenance), DefragmentRequest.fromPartial({})));
    } finally {
      await probing.stop();
      await load.stop();
    }
  } finally {
    kv.close();
    maintenance.close();
  }
  return results;
}

function table(reports: Record<string, PhaseResult[]>): string {
  const kinds = Object.keys(reports);
  const phases = reports[kinds[0] as string]?.map((result) => result.phase) ?? [];
  const header = ['phase', ...kinds.flatMap((kind) => [`${kind} op ms`, `${kind} gap ms`, `${kind} elections`])];
  const rows = phases.map((phase, i) => [phase, ...kinds.flatMap((kind) => {
    const result = reports[kind]?.[i];
    return [String(result?.operationMs ?? ''), String(result?.gapMsMax ?? ''), String(result?.elections ?? '')];
  })]);
  const widths = header.map((_, column) => Math.max(...[header, ...rows].map((row) => (row[column] ?? '').length)));
  return [header, ...rows].map((row) => row.map((cell, column) => cell.padEnd(widths[column] ?? 0)).join('  ')).join('\n');
}

async function main(): Promise<void> {
  const { values } = parseArgs({ options: { keys: { type: 'string', default: '100000' }, target: { type: 'string', default: 'both' }, json: { type: 'boolean', default: false }, help: { type: 'boolean', default: false } } });
  if (values.help) {
    console.log(usage);
    return;
  }
  const keys = Number(values.keys);
  if (!Number.isInteger(keys) || keys < 1) throw new Error(`--keys must be a positive integer: ${values.keys}`);
  const kinds = values.target === 'both' ? (['etcd', 'cairn'] as const) : ([values.target] as Array<'etcd' | 'cairn'>);
  installSignalHandlers();
  const reports: Record<string, PhaseResult[]> = {};
  try {
    for (const kind of kinds) reports[kind] = await withCluster(kind, { size: 3, args: [] }, (cluster) => measure(cluster, keys));
  } finally {
    await cleanupAll();
  }
  console.log(values.json ? JSON.stringify(reports, null, 2) : `3-member clusters, ${keys} keys x 2 revisions, ${putLoops} put loops to the leader; follower raft index probed every ${probeIntervalMs} ms\n${table(reports)}`);
  if ((reports.cairn ?? []).some((result) => result.elections > 0)) process.exitCode = 1;
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
