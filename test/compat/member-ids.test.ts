// Member and cluster IDs: with the same flags, etcd and cairn derive the same
// IDs (server/membership/ids.ts), so tooling that pins or compares IDs sees
// the same cluster. Read through `etcdctl member list -w json`.
import { assert, expect } from 'chai';
import { addedMemberIdFor, clusterIdFor, memberIdFor } from '../../server/membership/ids.js';
import { startCluster, type Cluster } from '../harness/cluster.js';
import { etcdctl } from '../harness/etcdctl.js';
import { etcdAvailable, freePort, startCairn, startEtcd, type ServerHandle, type ServerKind, type StartOptions } from '../harness/launcher.js';
import { parseJson } from './normalise.js';

interface ListedIds {
  clusterId: bigint;
  members: Array<{ ID: bigint; peerURLs: string[] }>;
}

async function memberList(endpoint: string): Promise<ListedIds> {
  const result = await etcdctl(endpoint, ['member', 'list', '-w', 'json']);
  assert.equal(result.code, 0, result.stderr);
  const parsed = parseJson(result.stdout) as { header: { cluster_id: string }; members: Array<{ ID: string; peerURLs: string[] }> } | undefined;
  assert.isDefined(parsed, result.stdout);
  return {
    clusterId: BigInt(parsed!.header.cluster_id),
    members: parsed!.members.map((member) => ({ ID: BigInt(member.ID), peerURLs: member.peerURLs })),
  };
}

const start = (kind: ServerKind, options: StartOptions): Promise<ServerHandle> => (kind === 'etcd' ? startEtcd(options) : startCairn(options));

describe('compat: member and cluster IDs', function () {
  this.timeout(60_000);
  const token = 'member-ids-token';
  const servers: ServerHandle[] = [];
  const clusters: Cluster[] = [];

  before(function () {
    if (!etcdAvailable()) this.skip();
  });
  afterEach(async () => {
    for (const server of servers.splice(0)) await server.destroy();
    for (const cluster of clusters.splice(0)) await cluster.destroy();
  });

  for (const kind of ['etcd', 'cairn'] as const) {
    it(`${kind}: a single member's IDs are the derivation from its flags`, async () => {
      const peerPort = await freePort();
      const server = await start(kind, { name: 'solo', peerPort, args: ['--initial-cluster-token', token] });
      servers.push(server);
      const listed = await memberList(server.endpoint);
      const expected = memberIdFor([`http://127.0.0.1:${peerPort}`], token);
      expect(listed.members.map((member) => member.ID)).to.deep.equal([expected]);
      expect(listed.clusterId).to.equal(clusterIdFor([expected]));
    });

    it(`${kind}: three members' IDs are the derivation from their flags`, async () => {
      const cluster = await startCluster(kind, { size: 3, token });
      clusters.push(cluster);
      const expected = cluster.members.map((member) => memberIdFor([member.peerUrl], token));
      const listed = await memberList(cluster.members[0]!.endpoint);
      expect(listed.members.map((member) => member.ID)).to.have.members(expected);
      expect(listed.clusterId).to.equal(clusterIdFor(expected));
    });
  }

  it('etcd and then cairn with the very same flags and ports list the same IDs', async () => {
    const options: StartOptions = { name: 'same', port: await freePort(), peerPort: await freePort(), args: ['--initial-cluster-token', token] };
    const etcd = await startEtcd(options);
    servers.push(etcd);
    const fromEtcd = await memberList(etcd.endpoint);
    await etcd.destroy();
    const cairn = await startCairn(options);
    servers.push(cairn);
    const fromCairn = await memberList(cairn.endpoint);
    expect(fromCairn.members.map((member) => member.ID)).to.deep.equal(fromEtcd.members.map((member) => member.ID));
    expect(fromCairn.clusterId).to.equal(fromEtcd.clusterId);
  });

  it("cairn: MemberAdd gives etcd's ID for the peer URLs and the time, which no member has", async () => {
    const cluster = await startCluster('cairn', { size: 3, token });
    clusters.push(cluster);
    const before = await memberList(cluster.members[0]!.endpoint);
    const { peerUrl } = await cluster.reservePeerUrl('m4');
    const fromSeconds = Math.floor(Date.now() / 1000);
    const added = await etcdctl(cluster.members[0]!.endpoint, ['member', 'add', 'm4', `--peer-urls=${peerUrl}`, '--learner', '-w', 'json']);
    const toSeconds = Math.floor(Date.now() / 1000);
    assert.equal(added.code, 0, added.stderr);
    const id = BigInt((parseJson(added.stdout) as { member: { ID: string } }).member.ID);
    expect(before.members.map((member) => member.ID)).to.not.include(id);
    const candidates = Array.from({ length: toSeconds - fromSeconds + 1 }, (_, i) => addedMemberIdFor([peerUrl], fromSeconds + i));
    expect(candidates).to.include(id);
    const after = await memberList(cluster.members[0]!.endpoint);
    expect(after.members.map((member) => member.ID)).to.include(id);
    expect(after.clusterId).to.equal(before.clusterId);
  });
});
