// A 5-member cluster tolerates two failures: with the leader and another
// member SIGKILLed, the other three elect a leader and commit; with a third
// down there is no quorum and a write does not succeed; restarted, every
// member converges on the same data. Against cairn and against etcd.
import { credentials, Metadata } from '@grpc/grpc-js';
import { expect } from 'chai';
import { HashKVRequest, MaintenanceClient } from '../../proto/gen/etcdserverpb/rpc.js';
import { connect, type Client } from '../../client/index.js';
import { startCluster, type Cluster, type ClusterMember } from '../harness/cluster.js';
import { etcdAvailable, type ServerKind } from '../harness/launcher.js';

const flags = ['--heartbeat-interval', '100', '--election-timeout', '1000'];
/** A write to a cluster without quorum must not succeed within this budget. */
const noQuorumWriteBudgetMs = 3_000;

/** HashKV of one member at `revision`. */
function hashKv(endpoint: string, revision: bigint): Promise<number> {
  const client = new MaintenanceClient(endpoint, credentials.createInsecure());
  return new Promise<number>((resolve, reject) => {
    client.hashKv(HashKVRequest.fromPartial({ revision }), new Metadata(), { deadline: Date.now() + 2_000 }, (error, response) => {
      client.close();
      if (error !== null) reject(error);
      else resolve(response.hash);
    });
  });
}

for (const kind of ['cairn', 'etcd'] as ServerKind[]) {
  describe(`a 5-member ${kind} cluster`, function () {
    this.timeout(120_000);
    let cluster: Cluster | undefined;
    const clients: Client[] = [];

    before(async function () {
      if (kind === 'etcd' && !etcdAvailable()) this.skip();
      cluster = await startCluster(kind, { size: 5, args: flags });
    });

    after(async () => {
      for (const client of clients.splice(0)) client.close();
      await cluster?.destroy();
    });

    const clientOf = async (members: ClusterMember[]): Promise<Client> => {
      const client = await connect({ endpoints: members.map((member) => member.endpoint) });
      clients.push(client);
      return client;
    };

    it('commits with two members down (the leader among them), not with three; restarted, all converge', async () => {
      const leader = await cluster!.leader();
      const second = cluster!.members.find((member) => member !== leader)!;
      const survivors = cluster!.members.filter((member) => member !== leader && member !== second);
      const client = await clientOf(survivors);
      await client.put('five/before', '1');
      await leader.kill9();
      await second.kill9();
      const newLeader = await cluster!.leader(15_000, survivors);
      expect(survivors).to.include(newLeader);
      for (let i = 0; i < 20; i++) await client.put(`five/during/${i}`, String(i));

      const third = survivors.find((member) => member !== newLeader)!;
      await third.kill9();
      const remaining = survivors.filter((member) => member !== third);
      const minority = await clientOf(remaining);
      const attempt = await minority.put('five/no-quorum', 'x', { deadlineMs: noQuorumWriteBudgetMs }).then(() => 'acknowledged', (error: Error) => error.name);
      expect(attempt, 'a write with 2 of 5 members up').to.not.equal('acknowledged');

      for (const member of [leader, second, third]) await member.restart({ waitReady: 'none' });
      await cluster!.leader(20_000);
      const all = await clientOf(cluster!.members);
      const keys = await all.getRange({ prefix: 'five/' }, { keysOnly: true });
      const names = keys.kvs.map((kv) => kv.key);
      expect(names).to.include.members(['five/before', ...Array.from({ length: 20 }, (_, i) => `five/during/${i}`)]);
      // Every member serves the same revision and hash once it has caught up.
      const { revision } = keys.header;
      let hashes: Set<number> = new Set();
      for (let attemptIndex = 0; attemptIndex < 50; attemptIndex++) {
        hashes = new Set();
        for (const member of cluster!.members) hashes.add(await hashKv(member.endpoint, revision).catch(() => -1));
        if (hashes.size === 1) break;
        await new Promise((resolve) => setTimeout(resolve, 200));
      }
      expect(hashes.size, 'distinct HashKV values across the 5 members').to.equal(1);
    });
  });
}
