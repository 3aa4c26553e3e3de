// Alarms in a 3-member cluster, the same scenario on etcd (the reference) and
// on cairn: a put that does not fit the quota of the member it reached raises
// that member's NOSPACE alarm through the log; every member then lists it and
// refuses writes that add data, even small ones that fit its own backend;
// once a delete, a compaction and a defragmentation made room, a disarm
// through another member lifts it everywhere.
import { assert } from 'chai';
import { startCluster, type Cluster, type ClusterMember } from '../harness/cluster.js';
import { etcdctl } from '../harness/etcdctl.js';
import { etcdAvailable, type ServerKind } from '../harness/launcher.js';
import { bigValue, bigValueBytes, quotaArgs, waitBackendSize } from '../compat/quota.js';
import { must } from '../harness/must.js';
import { errorOf, ok, ownStatus, parseJson } from './membership-etcdctl.js';

const kinds: ServerKind[] = ['etcd', 'cairn'];
const timingArgs = ['--heartbeat-interval', '100', '--election-timeout', '1000'];
const clusterStartMsMax = 60_000;
const scenarioMsMax = 60_000;
const noSpace = 'etcdserver: mvcc: database space exceeded';

/** `alarm list` through one member. */
function alarmList(member: ClusterMember): Promise<string> {
  return ok([member.endpoint], ['alarm', 'list']);
}

/** What a small put through `member` answers: OK, or etcdctl's error. */
async function smallPut(member: ClusterMember, key: string): Promise<string> {
  const result = await etcdctl(member.endpoint, ['put', key, 'v']);
  return result.code === 0 ? result.stdout.trim() : errorOf(result);
}

for (const kind of kinds) {
  describe(`alarms (${kind}): NOSPACE raised through one member of three`, function () {
    this.timeout(scenarioMsMax);
    let cluster: Cluster | undefined;

    before(async function () {
      this.timeout(clusterStartMsMax);
      if (!etcdAvailable()) this.skip();
      cluster = await startCluster(kind, { size: 3, args: [...timingArgs, ...quotaArgs] });
    });

    after(async () => {
      await cluster?.destroy();
    });

    it('every member lists the alarm of the member that refused the put, and refuses writes until room is made and it is disarmed', async () => {
      const m1 = must(cluster!.members[0], 'member 1');
      const m2 = must(cluster!.members[1], 'member 2');
      const m3 = must(cluster!.members[2], 'member 3');
      const members = [m1, m2, m3];
      const result = await etcdctl(m2.endpoint, ['put', 'alarm/1'], { stdin: bigValue });
      assert.strictEqual(result.code, 0, result.stderr);
      await waitBackendSize(m2.endpoint, bigValueBytes);
      const refused = await etcdctl(m2.endpoint, ['put', 'alarm/2'], { stdin: bigValue });
      assert.strictEqual(errorOf(refused), noSpace);
      const m2Id = (await ownStatus(m2.endpoint)).header.member_id;
      const expected = `memberID:${m2Id} alarm:NOSPACE \n`;
      // Alarm GET goes through the log: each member answers with every alarm committed before it.
      for (const member of members) assert.strictEqual(await alarmList(member), expected, `alarm list through ${member.name}`);
      for (const member of members) assert.strictEqual(await smallPut(member, `alarm/small-${member.name}`), noSpace, `small put through ${member.name}`);
      assert.strictEqual(await alarmList(m1), expected, 'the small puts fit each backend: no member raised its own alarm');
      // Room first: etcd's bbolt doubles its size when a key joins the leaf that holds the large value.
      const deleted = await ok([m3.endpoint], ['del', 'alarm/1', '-w', 'json']);
      await ok([m1.endpoint], ['compaction', parseJson<{ header: { revision: string } }>(deleted).header.revision]);
      await ok(members.map((member) => member.endpoint), ['defrag']);
      assert.strictEqual(await smallPut(m1, 'alarm/small-m1'), noSpace, 'the alarm outlives the room made');
      assert.strictEqual(await ok([m3.endpoint], ['alarm', 'disarm']), expected);
      for (const member of members) assert.strictEqual(await alarmList(member), '', `alarm list through ${member.name} after the disarm`);
      for (const member of members) assert.strictEqual(await smallPut(member, `alarm/small-${member.name}`), 'OK', `small put through ${member.name} after the disarm`);
    });
  });
}
