// Jepsen-style linearizability check of a real 3-member cluster under faults.
//
// Concurrent clients, each bound to one member (leader or follower) with one
// operation outstanding, read (linearizable Range), write (Put of a unique
// value) and compare-and-set (Txn) a few keys, while a nemesis kills, pauses
// and isolates the leader and kills a follower, one fault after another. Every
// operation's call and return are recorded (history-recorder.ts), a write or
// CAS without a definite answer is ambiguous, and the history is checked with
// the Wing & Gong / Lowe checker (test/sim/linearizability.ts), key by key.
//
// The same runs against real etcd as the control: if it fails there, the test
// is wrong, not cairn. A second test proves the harness can fail: serializable
// reads from an isolated follower return stale values, and the checker must
// reject that history.
//
// Operations and fault order come from a seed (printed; LINEARIZABILITY_SEED=n
// replays them); the interleaving is up to the machine. A violation prints the
// shortest failing part of the history and saves the whole one as JSON.
import { assert } from 'chai';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { startCluster, type Cluster, type ClusterMember } from '../harness/cluster.js';
import { etcdAvailable, type ServerKind } from '../harness/launcher.js';
import { must } from '../harness/must.js';
import { checkRegisterHistory, type CheckResult, type Operation } from '../sim/linearizability.js';
import { HistoryRecorder } from './history-recorder.js';
import { runNemesis, type FaultKind, type InjectedFault } from './history-nemesis.js';
import { describeViolation, formatSummary, saveHistory, shortestViolation } from './history-report.js';
import { runWorkload, StopSignal, type OperationMix, type WorkloadClientConfig, type WorkloadResult } from './history-workload.js';

const seed = Number(process.env.LINEARIZABILITY_SEED ?? Math.floor(Math.random() * 2 ** 31));
const clusterArgs = ['--heartbeat-interval', '100', '--election-timeout', '1000'];
const clusterSize = 3;

const clientsCount = 8;
const keysCount = 4;
const workloadMix: OperationMix = { read: 4, write: 3, cas: 3 };
const requestDeadlineMs = 2_500;
const connectWaitMs = 250;
const failureBackoffMs = 100;

/** The workload runs warmupMs before the first fault and quietMs after the last one is undone. */
const warmupMs = 2_000;
const quietMs = 3_000;
const faultCycle: readonly FaultKind[] = ['kill-leader', 'pause-leader', 'isolate-leader', 'kill-follower'];
/**
 * A longer run (`npm run linearizability -- --duration-seconds N`, which sets
 * LINEARIZABILITY_DURATION_SECONDS) repeats the cycle of faults to fill about
 * N seconds; CI runs one cycle.
 */
const durationSeconds = Number(process.env.LINEARIZABILITY_DURATION_SECONDS ?? 0);
/** About how long one cycle of faults takes (gaps, downtime, restarts). */
const cycleSecondsEstimate = 18;
const cycles = Math.max(1, Math.ceil(durationSeconds / cycleSecondsEstimate));
const faultOrder: readonly FaultKind[] = Array.from({ length: cycles }, () => faultCycle).flat();
const faultGapMs = 2_000;
const killDownMs = 1_000;
const pauseMs = 2_000;
const isolateMs = 3_000;
const leaderDeadlineMs = 15_000;

/** Checker states per key before it gives up (inconclusive): bounds the check's time and memory. */
const statesMax = 1_000_000;
/** A run with fewer completed operations than this proved little: the workload barely ran. */
const okOperationsMin = 300;
/** Operations of a violation printed in the report. */
const violationOpsShown = 30;

/** Self-test: writers and readers on the majority, a serializable reader on a follower that is isolated midway. */
const staleBeforeIsolationMs = 1_000;
const staleIsolatedMs = 2_000;
const majorityMix: OperationMix = { read: 1, write: 2, cas: 1 };

for (const kind of ['cairn', 'etcd'] as const satisfies readonly ServerKind[]) {
  describe(`linearizability: a ${clusterSize}-member ${kind} cluster under faults`, function () {
    this.timeout(120_000 + cycles * cycleSecondsEstimate * 2_000);
    let cluster: Cluster | undefined;
    /** Everything started in the background; stopped and awaited before the cluster is destroyed. */
    const stops: StopSignal[] = [];
    const background: Array<Promise<unknown>> = [];

    before(async function () {
      if (kind === 'etcd' && !etcdAvailable()) this.skip();
      cluster = await startCluster(kind, { size: clusterSize, args: clusterArgs, faultNetwork: true });
    });

    after(async () => {
      for (const stop of stops) stop.stop();
      await Promise.allSettled(background);
      await cluster?.destroy();
    });

    /** Starts a workload in the background; the after hook stops it if the test does not. */
    function startWorkload(recorder: HistoryRecorder, clients: WorkloadClientConfig[], keys: string[], runSeed: number) {
      const stop = new StopSignal();
      stops.push(stop);
      const done = runWorkload({ clients, keys, seed: runSeed, recorder, stop, requestDeadlineMs, connectWaitMs, failureBackoffMs });
      background.push(done);
      done.catch(() => undefined); // Awaited by the caller; this only keeps an early failure from being unhandled meanwhile.
      return { stop, done };
    }

    function check(ops: readonly Operation[]): { result: CheckResult; checkMs: number } {
      const started = performance.now();
      const result = checkRegisterHistory(ops, { statesMax });
      return { result, checkMs: performance.now() - started };
    }

    it(`concurrent reads, writes and CAS stay linearizable through ${faultCycle.join(', ')}${cycles > 1 ? ` (${cycles} times)` : ''}`, async () => {
      const live = cluster!;
      const recorder = new HistoryRecorder();
      const keys = Array.from({ length: keysCount }, (_, index) => `lin/${seed}/k${index}`);
      const clients = Array.from({ length: clientsCount }, (_, index) => ({ endpoint: must(live.members[index % clusterSize], `member ${index % clusterSize}`).endpoint, mix: workloadMix }));

      const workload = startWorkload(recorder, clients, keys, seed);
      const nemesisStop = new StopSignal();
      stops.push(nemesisStop);
      let faults: InjectedFault[] = [];
      try {
        await nemesisStop.sleep(warmupMs);
        const nemesis = runNemesis({
          cluster: live, faults: faultOrder, gapMs: faultGapMs, killDownMs, pauseMs, isolateMs, leaderDeadlineMs,
          clockMs: () => recorder.elapsedMs(), stop: nemesisStop,
        });
        background.push(nemesis);
        faults = await nemesis;
        await workload.stop.sleep(quietMs);
      } finally {
        workload.stop.stop();
      }
      await workload.done;
      const workloadMs = recorder.elapsedMs();
      assert.equal(recorder.pendingCount(), 0, 'every invoked operation ended one way or another');

      const { result, checkMs } = check(recorder.operations);
      for (const line of formatSummary({ label: kind, seed, stats: recorder.stats, faults, result, workloadMs, checkMs })) console.log(`      ${line}`);

      if (result.status === 'violation') failWithViolation(kind, recorder.operations, result, live);
      if (result.status === 'inconclusive') {
        console.warn(`      WARNING: ${kind} (seed ${seed}): the checker gave up on key ${result.key} after ${result.statesExplored} states: neither linearizable nor refuted`);
      }
      assert.deepEqual(faults.map((fault) => fault.kind), faultOrder, 'every fault was injected');
      const okOperations = Object.values(recorder.stats.kinds).reduce((sum, counts) => sum + counts.ok, 0);
      assert.isAtLeast(okOperations, okOperationsMin, `seed ${seed}: the workload barely ran`);
      assert.isAbove(recorder.stats.casSucceeded, 0, `seed ${seed}: no CAS succeeded, so CAS was not really tested`);
      assert.isAbove(recorder.stats.kinds.cas.ok - recorder.stats.casSucceeded, 0, `seed ${seed}: no CAS failed, so a failing compare was not tested`);
    });

    it('the checker rejects a history with serializable reads from an isolated follower (stale reads)', async () => {
      const live = cluster!;
      const network = live.network!;
      const leader = await live.leader(leaderDeadlineMs);
      const [follower, other] = live.members.filter((member) => member !== leader) as [ClusterMember, ClusterMember];
      const recorder = new HistoryRecorder();
      const key = `lin/${seed}/stale`;
      let isolated!: () => void;
      const isolation = new Promise<void>((resolve) => (isolated = resolve));
      const clients: WorkloadClientConfig[] = [
        // Reads only once its member is cut off, so that every stale read comes from the isolation.
        { endpoint: follower.endpoint, mix: { read: 1, write: 0, cas: 0 }, serializableReads: true, startAfter: isolation },
        { endpoint: leader.endpoint, mix: majorityMix },
        { endpoint: other.endpoint, mix: majorityMix },
        { endpoint: leader.endpoint, mix: majorityMix },
      ];

      const workload = startWorkload(recorder, clients, [key], seed + 1);
      let result: WorkloadResult;
      let isolatedAt = 0;
      try {
        await workload.stop.sleep(staleBeforeIsolationMs);
        network.isolate(follower.name);
        isolatedAt = recorder.now();
        isolated();
        await workload.stop.sleep(staleIsolatedMs);
      } finally {
        workload.stop.stop();
        result = await workload.done.finally(() => network.heal());
      }

      const staleReader = new Set(result.processes[0]);
      const { result: verdict, checkMs } = check(recorder.operations);
      const summary = { label: `${kind} self-test (follower ${follower.name} isolated)`, seed, stats: recorder.stats, faults: [], result: verdict, workloadMs: recorder.elapsedMs(), checkMs };
      for (const line of formatSummary(summary)) console.log(`      ${line}`);
      assert.equal(verdict.status, 'violation', `seed ${seed}: stale serializable reads from the isolated follower went unnoticed`);
      const violation = shortestViolation(recorder.operations, key, statesMax);
      assert(violation !== undefined, 'the violation has a shortest failing prefix');
      for (const line of describeViolation(violation, 6)) console.log(`      ${line}`);
      assert.isAbove(violation.cutoff, isolatedAt, 'the history fails only after the follower was isolated');

      // Control: without the follower's serializable reads the same history is linearizable,
      // so it was the stale reads the checker rejected.
      const majorityOnly = recorder.operations.filter((op) => !staleReader.has(op.client));
      assert.equal(check(majorityOnly).result.status, 'ok', 'the majority\'s own operations are linearizable');
    });
  });
}

function failWithViolation(kind: ServerKind, ops: readonly Operation[], result: Extract<CheckResult, { status: 'violation' }>, cluster: Cluster): never {
  const path = join(tmpdir(), `linearizability-${kind}-${seed}.json`);
  saveHistory(path, ops);
  const violation = shortestViolation(ops, result.key, statesMax);
  const shortest = violation === undefined ? ['(no shorter failing prefix found)'] : describeViolation(violation, violationOpsShown);
  const outputs = cluster.members.map((member) => `--- ${member.name} output (tail) ---\n${member.output().slice(-2_000)}`);
  assert.fail([
    `${kind} (seed ${seed}): the history is not linearizable`,
    result.explanation,
    ...shortest,
    `whole history saved to ${path}`,
    ...outputs,
  ].join('\n'));
}
