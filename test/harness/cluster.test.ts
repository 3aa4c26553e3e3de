// The cluster launcher against real etcd, the reference: a 3-member cluster
// starts and agrees on a leader, survives kill -9 of its leader, grows by
// MemberAdd, elects around an isolated leader behind the fault network, and
// destroy() leaves no process and no directory behind.
import { assert } from 'chai';
import { existsSync } from 'node:fs';
import { dirname } from 'node:path';
import { startCluster, type Cluster, type ClusterMember } from './cluster.js';
import { etcdctl } from './etcdctl.js';
import { etcdAvailable, type ServerKind } from './launcher.js';
import { must } from './must.js';

/** cairn joins this list once its multi-member support lands; the code path is the same. */
const clusterKinds: ServerKind[] = ['etcd'];
/** Fast elections keep the file short; etcd wants election timeout ≥ 5 × heartbeat. */
const timingArgs = ['--heartbeat-interval', '100', '--election-timeout', '1000'];
const newLeaderDeadlineMs = 5_000;
/**
 * etcd's strict reconfiguration check refuses MemberAdd ("unhealthy cluster")
 * until the leader has been connected to every member for 5 s (its
 * HealthInterval); a member restarted a moment ago does not count yet.
 */
const memberAddDeadlineMs = 10_000;
const memberAddPauseMs = 250;

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

async function ok(endpoints: string[], args: string[]): Promise<string> {
  const result = await etcdctl(endpoints.join(','), args);
  assert.strictEqual(result.code, 0, `etcdctl ${args.join(' ')}: ${result.stderr}`);
  return result.stdout;
}

/** etcdctl prints member IDs as JSON numbers above 2^53: quote them before parsing. */
function parseJsonIds(text: string): unknown {
  return JSON.parse(text.replace(/:(\d{16,})/g, ':"$1"'));
}

async function memberAdd(endpoints: string[], name: string, peerUrl: string): Promise<string> {
  const deadline = Date.now() + memberAddDeadlineMs;
  for (;;) {
    const result = await etcdctl(endpoints.join(','), ['member', 'add', name, `--peer-urls=${peerUrl}`]);
    if (result.code === 0) return result.stdout;
    if (!result.stderr.includes('etcdserver: unhealthy cluster') || Date.now() > deadline) {
      assert.fail(`etcdctl member add ${name}: ${result.stderr}`);
    }
    await new Promise((resolve) => setTimeout(resolve, memberAddPauseMs));
  }
}

interface EndpointStatus {
  Endpoint: string;
  Status: { header: { member_id: string }; leader: string };
}

describe('startCluster: configuration', () => {
  it('refuses a size outside 1 to 7', async () => {
    const refused = await startCluster('etcd', { size: 0 }).then(() => undefined, (error: Error) => error);
    assert.match(refused?.message ?? '', /cluster size must be an integer from 1 to 7, not 0/);
  });

  it('refuses a flag that the cluster sets for each member', async () => {
    const refused = await startCluster('etcd', { size: 3, args: ['--name=x'] }).then(() => undefined, (error: Error) => error);
    assert.match(refused?.message ?? '', /--name is set by the cluster/);
  });
});

for (const kind of clusterKinds) {
  describe(`startCluster('${kind}', { size: 3 })`, function () {
    this.timeout(30_000);
    let cluster: Cluster | undefined;

    before(async function () {
      if (kind === 'etcd' && !etcdAvailable()) this.skip();
      const startedMs = Date.now();
      cluster = await startCluster(kind, { size: 3, args: timingArgs });
      console.log(`      3-member ${kind} cluster ready in ${Date.now() - startedMs} ms`);
    });

    after(async () => {
      await cluster?.destroy();
    });

    it('starts three members that agree on exactly one leader', async () => {
      const leader = await cluster!.leader();
      const statuses = parseJsonIds(await ok(cluster!.endpoints(), ['endpoint', 'status', '-w', 'json'])) as EndpointStatus[];
      assert.lengthOf(statuses, 3);
      const leaders = statuses.filter((status) => status.Status.header.member_id === status.Status.leader);
      assert.deepEqual(leaders.map((status) => status.Endpoint), [leader.endpoint]);
    });

    it('elects another leader after kill -9 of the leader; the restarted member answers', async () => {
      const old = await cluster!.leader();
      const oldPid = old.pid();
      await old.kill9();
      assert.isFalse(old.running());
      assert.strictEqual(old.pid(), -1);
      const next = await cluster!.leader(newLeaderDeadlineMs);
      assert.notStrictEqual(next.name, old.name);

      await ok([next.endpoint], ['put', 'after-kill', 'v1']);
      await old.restart();
      assert.notStrictEqual(old.pid(), oldPid);
      assert.include(await ok([old.endpoint], ['get', 'after-kill', '--print-value-only']), 'v1');
      await cluster!.leader();
    });

    it('adds a fourth member through MemberAdd and addMember', async () => {
      const refused = await cluster!.addMember('m9', 'm9=http://127.0.0.1:1', 1).then(() => undefined, (error: Error) => error);
      assert.match(refused?.message ?? '', /was not reserved for m9/);

      const { peerUrl, peerPort } = await cluster!.reservePeerUrl('m4');
      const added = await memberAdd(cluster!.endpoints(), 'm4', peerUrl);
      const initialCluster = /ETCD_INITIAL_CLUSTER="([^"]+)"/.exec(added)?.[1];
      assert.isDefined(initialCluster, added);
      const m4 = await cluster!.addMember('m4', initialCluster!, peerPort);
      assert.strictEqual(cluster!.members.at(-1), m4);

      const list = (await ok(cluster!.endpoints(), ['member', 'list'])).trim().split('\n');
      assert.lengthOf(list, 4);
      for (const line of list) assert.include(line, ', started, ', line);
      assert.sameMembers(list.map((line) => line.split(', ')[2]), ['m1', 'm2', 'm3', 'm4']);
      await cluster!.leader();
    });

    it('destroy() leaves no process and no directory, and may be called twice', async () => {
      const pids = cluster!.members.map((member) => member.pid());
      const dataDirs = cluster!.members.map((member) => member.dataDir);
      assert.isTrue(pids.every((pid) => pid > 0), `every member runs: ${pids.join(', ')}`);
      await cluster!.destroy();
      await cluster!.destroy();
      for (const pid of pids) assert.isFalse(alive(pid), `pid ${pid} is gone`);
      for (const dir of [...dataDirs, dirname(must(dataDirs[0], 'the data dir of a member'))]) assert.isFalse(existsSync(dir), `${dir} is removed`);
    });
  });

  describe(`startCluster('${kind}', { size: 3, faultNetwork: true })`, function () {
    this.timeout(30_000);
    let cluster: Cluster | undefined;

    before(async function () {
      if (kind === 'etcd' && !etcdAvailable()) this.skip();
      cluster = await startCluster(kind, { size: 3, args: timingArgs, faultNetwork: true });
    });

    after(async () => {
      await cluster?.destroy();
    });

    it('advertises the proxies: isolating the leader lets the other two elect a new one, heal reunites all three', async () => {
      const network = cluster!.network!;
      const old = await cluster!.leader();
      network.isolate(old.name);
      const majority: ClusterMember[] = cluster!.members.filter((member) => member !== old);
      const next = await cluster!.leader(newLeaderDeadlineMs, majority);
      assert.notStrictEqual(next.name, old.name);

      network.heal();
      const reunited = await cluster!.leader();
      assert.include(majority, reunited, 'the isolated member rejoins as a follower of the new term');
      await ok([old.endpoint], ['put', 'after-heal', 'v1']);
      assert.isAbove(network.stats().bytesForwarded, 0);
    });
  });
}
