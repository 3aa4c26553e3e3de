// Faults against a 3-member cluster under a concurrent write load: the leader
// killed, a follower killed until it needs a snapshot, the leader stopped
// (SIGSTOP) past an election timeout, the leader cut off by the fault network,
// and every member restarted. After each fault the cluster must converge (one
// leader, every member applied to the same index, equal HashKV) and every
// acknowledged put must be readable from every member.
//
// The same bodies run against real etcd with the same flags: etcd is the
// reference, so a scenario that fails there is a wrong test, not a cairn bug.
// Figures (failover, catch-up, step-down times, acknowledged puts) are printed.
// Only the failover time has a tight bound (and the step-down a bound of a few
// seconds); the other deadlines are for liveness, generous because the machine
// is shared.
import { assert } from 'chai';
import { credentials, type ServiceError } from '@grpc/grpc-js';
import { KVClient } from '../../proto/gen/etcdserverpb/rpc.js';
import { startCluster, type Cluster, type ClusterMember } from '../harness/cluster.js';
import { etcdAvailable, type ServerKind } from '../harness/launcher.js';
import {
  acknowledgedOf, checkAcknowledgedOn, compareHashes, describeStatus, getOnce, outputTails, putEventually, putOnce,
  sleep, status, statusOrUndefined, waitAcks, waitConverged, waitFor, withKv,
} from './faults-checks.js';
import { FailoverLoad } from './faults-load.js';

const heartbeatIntervalMs = 100;
const electionTimeoutMs = 1_000;
const snapshotCount = 200;
const clusterArgs = [
  '--heartbeat-interval', String(heartbeatIntervalMs),
  '--election-timeout', String(electionTimeoutMs),
  '--snapshot-count', String(snapshotCount),
];
/**
 * A follower campaigns at a random moment in [1, 2) election timeouts after the
 * last heartbeat, so a new leader exists within 2 election timeouts of the
 * kill (barring a split vote). The allowance covers seeing it: leader() polls
 * every 100 ms, each poll is a Status round trip to both survivors, and the
 * event loops of the test and of the servers are shared with the write load
 * on 2 cores.
 */
const failoverDetectionAllowanceMs = 500;
const failoverMsMax = 2 * electionTimeoutMs + failoverDetectionAllowanceMs;

const loadOptions = {
  writers: 4,
  /** A put to a stopped or cut-off member fails after this, and the writer moves on. */
  putTimeoutMs: 2_000,
  failoverPauseMs: 50,
  putsPerWriterMax: 100_000,
};
/** Acknowledged puts before a fault is injected, and after it to count as "writes resumed". */
const warmUpAcks = 50;
const resumedAcks = 20;
/** The follower is down while this many puts are acknowledged: 3 snapshots' worth, beyond its log. */
const catchUpPuts = 3 * snapshotCount;
/** SIGSTOP of the leader lasts this long: 3 election timeouts. */
const leaderPauseMs = 3 * electionTimeoutMs;
/** The resumed old leader must name the new leader within this long. */
const stepDownMsMax = 5_000;
/** Linearizable reads via the old leader are sent every readIntervalMs for readWindowMs after SIGCONT. */
const staleReadIntervalMs = 100;
const staleReadWindowMs = 3_000;
const staleReadTimeoutMs = 5_000;
/** A put to the isolated leader is given this long to (wrongly) succeed. */
const isolatedPutTimeoutMs = 3_000;

/** Liveness deadlines: generous, the machine is shared. */
const warmUpDeadlineMs = 30_000;
const electionDeadlineMs = 15_000;
const resumeDeadlineMs = 30_000;
const catchUpPutsDeadlineMs = 60_000;
const catchUpDeadlineMs = 30_000;
const convergeDeadlineMs = 30_000;
const scenarioTimeoutMs = 120_000;

const kinds: ServerKind[] = ['cairn', 'etcd'];

for (const kind of kinds) {
  describe(`faults: 3-member ${kind} cluster under write load`, function () {
    this.timeout(scenarioTimeoutMs);
    let cluster: Cluster | undefined;
    let writes: FailoverLoad | undefined;
    /** The figures of this kind's scenarios, printed together at the end. */
    const figures: string[] = [];
    const report = (figure: string): void => {
      figures.push(figure);
    };

    before(function () {
      if (kind === 'etcd' && !etcdAvailable()) this.skip();
    });

    after(() => {
      if (figures.length > 0) console.log(`      ${kind} figures: ${figures.join('; ')}`);
    });

    afterEach(async function () {
      await writes?.stop();
      writes = undefined;
      if (this.currentTest?.state === 'failed' && cluster !== undefined) console.log(outputTails(cluster));
      await cluster?.destroy();
      cluster = undefined;
    });

    /** A new cluster with the write load running, once it has warmUpAcks acknowledged puts. */
    async function setUp(scenario: string, faultNetwork = false): Promise<{ cluster: Cluster; writes: FailoverLoad; prefix: string }> {
      const started = await startCluster(kind, { size: 3, args: clusterArgs, faultNetwork });
      cluster = started;
      const prefix = `faults/${scenario}/`;
      const running = new FailoverLoad({ endpoints: started.endpoints(), keyPrefix: prefix, ...loadOptions });
      writes = running;
      running.start();
      await waitAcks(running, warmUpAcks, 0, warmUpDeadlineMs, 'writes before the fault');
      return { cluster: started, writes: running, prefix };
    }

    /**
     * Stops the load, waits for convergence, and asserts equal HashKV and every
     * acknowledged put present on every member (linearizable reads), plus on
     * `serializableOn` through serializable reads.
     */
    async function finish(running: Cluster, loadRun: FailoverLoad, prefix: string, serializableOn: ClusterMember[] = []): Promise<void> {
      await loadRun.stop();
      const converged = await waitConverged(running, convergeDeadlineMs);
      const { acknowledged, violations } = acknowledgedOf(loadRun);
      violations.push(...await compareHashes(running, converged.revision));
      violations.push(...await checkAcknowledgedOn(running.members, prefix, acknowledged, false));
      violations.push(...await checkAcknowledgedOn(serializableOn, prefix, acknowledged, true));
      report(`${prefix.split('/')[1]}: ${loadRun.acks.length} puts acknowledged`);
      console.log(`      ${kind}: ${loadRun.describe()}`);
      console.log(`      ${kind}: converged at applied index ${converged.appliedIndex}, revision ${converged.revision}, leader ${converged.leader.name}`);
      assert.deepEqual(violations, [], `${kind}: after convergence`);
    }

    it('SIGKILL of the leader: a new leader within 2 election timeouts, writes resume, the member rejoins, nothing acknowledged is lost', async () => {
      const { cluster: running, writes: loadRun, prefix } = await setUp('leader-kill');
      const old = await running.leader();
      const survivors = running.members.filter((member) => member !== old);
      const killedAtMs = Date.now();
      await old.kill9();
      const elected = await running.leader(electionDeadlineMs, survivors);
      const electedAtMs = Date.now();
      const failoverMs = electedAtMs - killedAtMs;
      console.log(`      ${kind}: leader ${old.name} killed; ${elected.name} leads after ${failoverMs} ms (bound ${failoverMsMax} ms)`);
      report(`leader kill: failover ${failoverMs} ms`);
      assert.notStrictEqual(elected, old);
      // The bound is cairn's requirement. etcd, the reference, is only measured: on this 2-core
      // machine it has taken 2.5 s (a slow detection or a split vote costs another timeout).
      if (kind === 'cairn') assert.isAtMost(failoverMs, failoverMsMax, `${kind}: failover took ${failoverMs} ms`);

      await waitAcks(loadRun, resumedAcks, electedAtMs, resumeDeadlineMs, 'writes after the new leader was elected');
      // A put sent after the kill can only be committed by a new leader.
      const resumedAtMs = loadRun.acks.find((ack) => ack.sentAtMs > killedAtMs)?.atMs ?? NaN;
      report(`leader kill: writes resumed ${resumedAtMs - killedAtMs} ms`);
      console.log(`      ${kind}: the first put sent after the kill was acknowledged ${resumedAtMs - killedAtMs} ms after the kill`);

      const restartAtMs = Date.now();
      await old.restart();
      console.log(`      ${kind}: ${old.name} restarted and serving linearizable reads in ${Date.now() - restartAtMs} ms`);
      await waitAcks(loadRun, resumedAcks, Date.now(), resumeDeadlineMs, 'writes after the restart');
      await finish(running, loadRun, prefix);
    });

    it(`SIGKILL of a follower for ${catchUpPuts} puts (> --snapshot-count ${snapshotCount}): it catches up after a restart, with every acknowledged put`, async () => {
      const { cluster: running, writes: loadRun, prefix } = await setUp('follower-kill');
      const leader = await running.leader();
      const follower = running.members.find((member) => member !== leader)!;
      const killedAtMs = Date.now();
      await follower.kill9();
      await waitAcks(loadRun, catchUpPuts, killedAtMs, catchUpPutsDeadlineMs, `${catchUpPuts} puts while ${follower.name} is down`);
      console.log(`      ${kind}: ${catchUpPuts} puts acknowledged in ${Date.now() - killedAtMs} ms while follower ${follower.name} was down`);

      const leaderNow = await running.leader(electionDeadlineMs, running.members.filter((member) => member !== follower));
      const target = (await status(leaderNow.endpoint)).raftIndex;
      const outputBefore = follower.output().length;
      const restartAtMs = Date.now();
      await follower.restart({ waitReady: 'none' });
      const caughtUp = await waitFor(`${follower.name} applies up to the leader's commit index ${target}`, catchUpDeadlineMs, async (note) => {
        const answer = await statusOrUndefined(follower.endpoint);
        note(describeStatus(follower, answer));
        return answer !== undefined && answer.raftAppliedIndex >= target ? answer : undefined;
      });
      const catchUpMs = Date.now() - restartAtMs;
      report(`follower kill: catch-up ${catchUpMs} ms`);
      const snapshotLines = follower.output().slice(outputBefore).split('\n').filter((line) => line.includes('installed a snapshot'));
      console.log(`      ${kind}: ${follower.name} applied ${caughtUp.raftAppliedIndex} ≥ ${target} ${catchUpMs} ms after its restart; ${snapshotLines[0]?.trim() ?? 'no "installed a snapshot" line'}`);
      if (kind === 'cairn') assert.isNotEmpty(snapshotLines, `${follower.name} caught up without installing a snapshot`);

      await finish(running, loadRun, prefix, [follower]);
    });

    it(`SIGSTOP of the leader for ${leaderPauseMs} ms: the others elect a new leader, the old one steps down and never serves a stale linearizable read`, async () => {
      const { cluster: running, writes: loadRun, prefix } = await setUp('leader-pause');
      const old = await running.leader();
      const others = running.members.filter((member) => member !== old);
      const key = `faults/leader-pause-x`;
      await putEventually(old.endpoint, key, 'old', resumeDeadlineMs);
      // Connected and used before the pause, so a read sent while it is stopped waits in its socket.
      const oldClient = new KVClient(old.endpoint, credentials.createInsecure(), { 'grpc.use_local_subchannel_pool': 1 });
      try {
        assert.strictEqual((await getOnce(oldClient, key, staleReadTimeoutMs)).kvs[0]?.value.toString(), 'old');
        const { elected, reads, resumedAtMs } = await pauseLeader(running, old, others, oldClient, key);
        await checkStepDown(old, elected, resumedAtMs);
        const outcomes = await reads;
        const tally = new Map<string, number>();
        for (const outcome of outcomes) tally.set(outcome, (tally.get(outcome) ?? 0) + 1);
        console.log(`      ${kind}: linearizable reads of X via ${old.name} after SIGCONT: ${[...tally].map(([outcome, count]) => `${count}× ${outcome}`).join(', ')}`);
        const stale = outcomes.filter((outcome) => !outcome.startsWith('error') && outcome !== 'value new');
        assert.deepEqual(stale, [], `${kind}: reads via the resumed old leader ${old.name} returned stale data`);
      } finally {
        oldClient.close();
      }
      await waitAcks(loadRun, resumedAcks, Date.now(), resumeDeadlineMs, 'writes after SIGCONT');
      await finish(running, loadRun, prefix);
      for (const member of running.members) {
        const value = await withKv(member.endpoint, (client) => getOnce(client, key, staleReadTimeoutMs));
        assert.strictEqual(value.kvs[0]?.value.toString(), 'new', `${member.name} after convergence`);
      }
    });

    /**
     * Stops `old` (the leader), waits for the others to elect a new leader and
     * writes X=new through it, keeps `old` stopped for leaderPauseMs, then
     * resumes it. Linearizable reads of X via `old` are sent: one while it is
     * still stopped (it waits in the socket), one right after SIGCONT, and then
     * every staleReadIntervalMs for staleReadWindowMs.
     */
    async function pauseLeader(running: Cluster, old: ClusterMember, others: ClusterMember[], oldClient: KVClient, key: string) {
      old.pause();
      const pausedAtMs = Date.now();
      const reads: Promise<string>[] = [];
      let elected: ClusterMember;
      try {
        elected = await running.leader(electionDeadlineMs, others);
        const electionMs = Date.now() - pausedAtMs;
        report(`leader pause: election ${electionMs} ms`);
        console.log(`      ${kind}: leader ${old.name} stopped; ${elected.name} leads after ${electionMs} ms`);
        await putEventually(elected.endpoint, key, 'new', resumeDeadlineMs);
        await sleep(Math.max(0, pausedAtMs + leaderPauseMs - Date.now()));
        reads.push(readOutcome(oldClient, key));
      } finally {
        old.resume();
      }
      const resumedAtMs = Date.now();
      reads.push(readOutcome(oldClient, key));
      console.log(`      ${kind}: ${old.name} resumed after ${resumedAtMs - pausedAtMs} ms stopped`);
      const sending = (async () => {
        while (Date.now() - resumedAtMs < staleReadWindowMs) {
          await sleep(staleReadIntervalMs);
          reads.push(readOutcome(oldClient, key));
        }
        return Promise.all(reads);
      })();
      return { elected, reads: sending, resumedAtMs };
    }

    /** The resumed old leader names the new leader within stepDownMsMax. */
    async function checkStepDown(old: ClusterMember, elected: ClusterMember, resumedAtMs: number): Promise<void> {
      const electedId = (await status(elected.endpoint)).header?.memberId;
      await waitFor(`${old.name} names ${elected.name} as leader after SIGCONT`, stepDownMsMax, async (note) => {
        const answer = await statusOrUndefined(old.endpoint);
        note(describeStatus(old, answer));
        return answer !== undefined && answer.leader === electedId ? true : undefined;
      });
      const stepDownMs = Date.now() - resumedAtMs;
      report(`leader pause: step-down ${stepDownMs} ms after SIGCONT`);
      console.log(`      ${kind}: ${old.name} names ${elected.name} as leader ${stepDownMs} ms after SIGCONT`);
    }

    it('partition: the isolated leader is replaced, puts sent to it do not succeed, and after healing all converge without them', async () => {
      const { cluster: running, writes: loadRun, prefix } = await setUp('partition', true);
      const network = running.network!;
      const old = await running.leader();
      const others = running.members.filter((member) => member !== old);
      const isolatedAtMs = Date.now();
      network.isolate(old.name);
      // Two puts to the old leader: one at once, while it still believes it leads
      // (it steps down only after an election timeout without a quorum), and one
      // after the majority has elected a new leader.
      const early = putToIsolated(old, 'faults/partition-isolated-early');
      let late: IsolatedPut;
      try {
        const elected = await running.leader(electionDeadlineMs, others);
        const electedAtMs = Date.now();
        report(`partition: election ${electedAtMs - isolatedAtMs} ms`);
        console.log(`      ${kind}: leader ${old.name} isolated; ${elected.name} leads the majority after ${electedAtMs - isolatedAtMs} ms`);
        await waitAcks(loadRun, warmUpAcks, electedAtMs, resumeDeadlineMs, 'the majority keeps committing');
        console.log(`      ${kind}: majority committed ${warmUpAcks} puts ${Date.now() - electedAtMs} ms after the election`);
        late = await putToIsolated(old, 'faults/partition-isolated-late');
        await early;
      } finally {
        network.heal();
      }
      const isolatedPuts = [await early, late];
      console.log(`      ${kind}: healed after ${Date.now() - isolatedAtMs} ms; puts to the isolated ${old.name}: ${isolatedPuts.map((put) => `${put.key} ${put.outcome}`).join('; ')}`);
      for (const put of isolatedPuts) assert.match(put.outcome, /^failed/, `${kind}: a put to the isolated old leader ${old.name} succeeded`);
      await finish(running, loadRun, prefix);
      for (const member of running.members) {
        for (const put of isolatedPuts) {
          const found = await withKv(member.endpoint, (client) => getOnce(client, put.key, staleReadTimeoutMs));
          assert.strictEqual(found.count, 0n, `${member.name}: ${put.key}, put to the isolated leader and not acknowledged, is present after healing`);
        }
      }
    });

    it('restart of every member (stop all, start all): all data present', async () => {
      const { cluster: running, writes: loadRun, prefix } = await setUp('restart-all');
      const stoppedAtMs = Date.now();
      // stop() resolves with null when the grace period ran out and the member was SIGKILLed.
      const codes = (await Promise.all(running.members.map((member) => member.stop()))).map((code) => code ?? 'SIGKILL after the grace period');
      const ackedBeforeStop = loadRun.acks.length;
      console.log(`      ${kind}: all members stopped in ${Date.now() - stoppedAtMs} ms (exit codes ${codes.join(', ')}) after ${ackedBeforeStop} acknowledged puts`);
      const restartAtMs = Date.now();
      await Promise.all(running.members.map((member) => member.restart()));
      const restartedAtMs = Date.now();
      report(`restart all: stop ${restartAtMs - stoppedAtMs} ms, start ${restartedAtMs - restartAtMs} ms`);
      console.log(`      ${kind}: all members restarted and serving linearizable reads in ${restartedAtMs - restartAtMs} ms`);
      await waitAcks(loadRun, resumedAcks, restartedAtMs, resumeDeadlineMs, 'writes after the restart');
      await finish(running, loadRun, prefix);
    });
  });
}

interface IsolatedPut {
  key: string;
  /** "acknowledged at revision N" or "failed after N ms: <code> <details>". */
  outcome: string;
}

/** A put to a member cut off from the others, given isolatedPutTimeoutMs to (wrongly) succeed. */
async function putToIsolated(member: ClusterMember, key: string): Promise<IsolatedPut> {
  const sentAtMs = Date.now();
  const outcome = await withKv(member.endpoint, (client) => putOnce(client, key, 'from the minority', isolatedPutTimeoutMs)).then(
    (response) => `acknowledged at revision ${response.header?.revision}`,
    (error: ServiceError) => `failed after ${Date.now() - sentAtMs} ms: ${error.code} ${error.details}`,
  );
  return { key, outcome };
}

/** A linearizable get of `key`: "value <v>", "missing", or "error <code> <details>". */
function readOutcome(client: KVClient, key: string): Promise<string> {
  return getOnce(client, key, staleReadTimeoutMs).then(
    (response) => {
      const kv = response.kvs[0];
      return kv === undefined ? 'missing' : `value ${kv.value.toString()}`;
    },
    (error: ServiceError) => `error ${error.code} ${error.details}`,
  );
}
