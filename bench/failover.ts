// Leader failover: on a 3-member cluster of each kind, with etcd's default
// timeouts (heartbeat 100 ms, election 1,000 ms), SIGKILL the leader and time
// (a) until the two survivors agree on a new leader and (b) until a put sent
// to a survivor after the kill is acknowledged; then restart the member, let
// it catch up, and do it again. `npm run bench:failover -- [flags]`
import { parseArgs } from 'node:util';
import { credentials, Metadata } from '@grpc/grpc-js';
import { KVClient, PutRequest } from '../proto/gen/etcdserverpb/rpc.js';
import { startCluster, type Cluster, type ClusterMember } from '../test/harness/cluster.js';
import { onCleanup, runProgram, wasInterrupted } from './cleanup.js';
import { integer, targetsOf, type TargetKind } from './flags.js';
import { captureEnvironment, describeEnvironment, formatNumber, formatRatio, ratioOf, row } from './table.js';

const usage = `usage: node dist/bench/failover.js [flags]     (npm run bench:failover -- [flags])
SIGKILL of the leader of a 3-member cluster, etcd's default timeouts; the time to a new leader and to the first put acknowledged.
  --target etcd|cairn|both     kinds of cluster (default both)
  --runs N                     kills per kind, on one cluster, the killed member restarted between them (default 20)
  --json                       print one JSON document instead of a table`;

/** The figure the issue of record asks for: failover under this, every time. */
const failoverMsGoal = 2_000;
const electionDeadlineMs = 15_000;
/** While the cluster has no leader, a put goes out this often, each with this deadline. */
const putIntervalMs = 20;
const putAttemptMs = 250;
/** After a restart: how long the cluster runs whole before the next kill, so the member has caught up. */
const settleMs = 1_000;

interface FailoverRun {
  run: number;
  /** Until both survivors report the same new leader (their Status, polled every 100 ms). */
  electedMs: number;
  /** Until a put sent to a survivor after the kill is acknowledged. */
  writableMs: number;
}

interface KindResult {
  kind: TargetKind;
  runs: FailoverRun[];
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/**
 * Sends a put every putIntervalMs to the survivors in turn, each with a short
 * deadline, until one is acknowledged; resolves with when. Overlapping
 * attempts keep the figure from depending on where one attempt's deadline
 * happens to fall against the election.
 */
async function firstAcknowledgedPut(survivors: ClusterMember[], killedAtMs: number, run: number): Promise<number> {
  const clients = survivors.map((member) => new KVClient(member.endpoint, credentials.createInsecure()));
  try {
    return await new Promise<number>((resolve, reject) => {
      let attempt = 0;
      const timer = setInterval(() => {
        if (Date.now() - killedAtMs > electionDeadlineMs) {
          clearInterval(timer);
          reject(new Error(`no put acknowledged within ${electionDeadlineMs} ms of the kill`));
          return;
        }
        const client = clients[attempt % clients.length] as KVClient;
        const request = PutRequest.fromPartial({ key: Buffer.from(`failover/${run}`), value: Buffer.from(String(attempt++)) });
        client.put(request, new Metadata(), { deadline: Date.now() + putAttemptMs }, (error) => {
          if (error !== null) return;
          clearInterval(timer);
          resolve(Date.now());
        });
      }, putIntervalMs);
    });
  } finally {
    for (const client of clients) client.close();
  }
}

async function measureKind(kind: TargetKind, runs: number): Promise<KindResult> {
  const cluster: Cluster = await startCluster(kind, { size: 3 });
  const destroy = onCleanup(() => cluster.destroy());
  try {
    const result: KindResult = { kind, runs: [] };
    for (let run = 1; run <= runs && !wasInterrupted(); run++) {
      const leader = await cluster.leader();
      const survivors = cluster.members.filter((member) => member !== leader);
      const killedAtMs = Date.now();
      await leader.kill9();
      const [elected, writableAtMs] = await Promise.all([
        cluster.leader(electionDeadlineMs, survivors).then(() => Date.now()),
        firstAcknowledgedPut(survivors, killedAtMs, run),
      ]);
      const measured = { run, electedMs: elected - killedAtMs, writableMs: writableAtMs - killedAtMs };
      console.error(`failover ${kind} run ${run}: leader ${leader.name} killed; new leader after ${measured.electedMs} ms, writable after ${measured.writableMs} ms`);
      result.runs.push(measured);
      await leader.restart();
      await cluster.leader();
      await sleep(settleMs);
    }
    return result;
  } finally {
    await destroy();
  }
}

function percentile(sorted: number[], fraction: number): number {
  return sorted[Math.min(sorted.length - 1, Math.ceil(fraction * sorted.length) - 1)] ?? NaN;
}

function summary(result: KindResult): { median: number; p90: number; max: number; underGoal: number; writableMedian: number } {
  const elected = result.runs.map((run) => run.electedMs).sort((a, b) => a - b);
  const writable = result.runs.map((run) => run.writableMs).sort((a, b) => a - b);
  return {
    median: percentile(elected, 0.5),
    p90: percentile(elected, 0.9),
    max: elected[elected.length - 1] ?? NaN,
    underGoal: elected.filter((ms) => ms < failoverMsGoal).length,
    writableMedian: percentile(writable, 0.5),
  };
}

function table(results: KindResult[]): string {
  const widths = [8, 6, 12, 10, 10, 16, 18];
  const lines = [
    `SIGKILL of the leader of a 3-member cluster (heartbeat 100 ms, election 1,000 ms); the member restarted between runs`,
    describeEnvironment(captureEnvironment()),
    '',
    row(['kind', 'runs', 'median ms', 'p90 ms', 'max ms', `under ${failoverMsGoal} ms`, 'writable median ms'], widths),
  ];
  for (const result of results) {
    const s = summary(result);
    lines.push(row([result.kind, String(result.runs.length), formatNumber(s.median, 0), formatNumber(s.p90, 0), formatNumber(s.max, 0), `${s.underGoal}/${result.runs.length}`, formatNumber(s.writableMedian, 0)], widths));
  }
  const etcd = results.find((result) => result.kind === 'etcd');
  const cairn = results.find((result) => result.kind === 'cairn');
  if (etcd !== undefined && cairn !== undefined) {
    lines.push(`cairn/etcd median: new leader ${formatRatio(ratioOf(summary(cairn).median, summary(etcd).median))}, writable ${formatRatio(ratioOf(summary(cairn).writableMedian, summary(etcd).writableMedian))} (below 1 is faster)`);
  }
  return lines.join('\n');
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    args: process.argv.slice(2),
    strict: true,
    options: {
      target: { type: 'string', default: 'both' },
      runs: { type: 'string' },
      json: { type: 'boolean', default: false },
      help: { type: 'boolean', default: false },
    },
  });
  if (values.help) return void console.log(usage);
  const kinds = targetsOf(values.target);
  const runs = integer('runs', values.runs, 20, 1, 200);
  const results: KindResult[] = [];
  for (const kind of kinds) {
    if (wasInterrupted()) break;
    results.push(await measureKind(kind, runs));
  }
  console.log(values.json ? JSON.stringify({ benchmark: 'failover', environment: captureEnvironment(), results: results.map((result) => ({ ...result, summary: summary(result) })) }, null, 2) : table(results));
}

runProgram('failover', main);
