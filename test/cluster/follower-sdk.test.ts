// The SDK against a 3-member cluster, through followers: watches served by a
// follower, leases granted and kept alive through a follower (the leader keeps
// the deadlines), a lease surviving the loss of the leader (its TTL is
// refreshed on promotion), and expiring once, decided by the new leader, when
// nobody keeps it alive. Each test runs against cairn and against etcd.
import { expect } from 'chai';
import { firstValueFrom, take, toArray, type Subscription } from 'rxjs';
import { connect, type Client } from '../../client/index.js';
import { startCluster, type Cluster, type ClusterMember } from '../harness/cluster.js';
import { etcdAvailable, type ServerKind } from '../harness/launcher.js';
import { must } from '../harness/must.js';

const flags = ['--heartbeat-interval', '100', '--election-timeout', '1000'];
/** Long enough to ride out a leader failover (an election takes up to 2 election timeouts) plus forwarding. */
const leaseTtlSeconds = 5;
/** How long past its TTL the lease must stay alive at each stage. */
const pastTtlMs = 2_000;
const pollMs = 100;

async function eventually(what: string, deadlineMs: number, check: () => Promise<boolean>): Promise<void> {
  const deadline = Date.now() + deadlineMs;
  for (;;) {
    if (await check().catch(() => false)) return;
    if (Date.now() > deadline) throw new Error(`${what}: not true within ${deadlineMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, pollMs));
  }
}

for (const kind of ['cairn', 'etcd'] as ServerKind[]) {
  describe(`SDK through the followers of a 3-member ${kind} cluster`, function () {
    this.timeout(120_000);
    let cluster: Cluster | undefined;
    const clients: Client[] = [];
    const subscriptions: Subscription[] = [];

    before(async function () {
      if (kind === 'etcd' && !etcdAvailable()) this.skip();
      cluster = await startCluster(kind, { size: 3, args: flags });
    });

    afterEach(() => {
      for (const subscription of subscriptions.splice(0)) subscription.unsubscribe();
      for (const client of clients.splice(0)) client.close();
    });

    after(async () => {
      await cluster?.destroy();
    });

    const clientOf = async (...members: ClusterMember[]): Promise<Client> => {
      const client = await connect({ endpoints: members.map((member) => member.endpoint) });
      clients.push(client);
      return client;
    };

    const followers = async (): Promise<ClusterMember[]> => {
      const leader = await cluster!.leader();
      return cluster!.members.filter((member) => member !== leader && member.running());
    };

    it('a watch on a follower gets every write made through the leader, in order, once', async () => {
      const leader = await cluster!.leader();
      const follower = must((await followers())[0], 'a running follower');
      const watcher = await clientOf(follower);
      const writer = await clientOf(leader);
      const count = 200;
      const received = firstValueFrom(watcher.watch$({ prefix: 'fw/' }).pipe(take(count), toArray()));
      // The watch exists once its create is acknowledged: write after a round trip on the same client.
      await watcher.get('fw/none');
      await new Promise((resolve) => setTimeout(resolve, 200));
      for (let i = 0; i < count; i++) await writer.put(`fw/${String(i).padStart(4, '0')}`, `v${i}`);
      const batches = await received;
      const keys = batches.flatMap((batch) => batch.events.map((event) => event.kv.key));
      expect(keys).to.deep.equal(Array.from({ length: count }, (_, i) => `fw/${String(i).padStart(4, '0')}`));
      const revisions = batches.map((batch) => batch.revision);
      expect([...revisions].sort((a, b) => (a < b ? -1 : 1))).to.deep.equal(revisions);
    });

    it('a lease granted and kept alive through a follower outlives its TTL and the loss of the leader; left alone it expires once', async () => {
      const running = await followers();
      const follower = must(running[0], 'a running follower');
      const other = must(running[1], 'a second running follower');
      const client = await clientOf(follower);
      const { id } = await client.leases.grant(leaseTtlSeconds);
      await client.put('fl/owned', 'yes', { lease: id });
      const renewals: number[] = [];
      let keepAliveError: Error | undefined;
      subscriptions.push(client.leases.keepAlive$(id, { intervalMs: 500 }).subscribe({ next: () => renewals.push(Date.now()), error: (error: Error) => (keepAliveError = error) }));
      // Past the TTL: the lease lives only because renewals reach the leader through the follower.
      await new Promise((resolve) => setTimeout(resolve, leaseTtlSeconds * 1000 + pastTtlMs));
      expect(renewals.length, 'keep-alives answered through the follower').to.be.greaterThan(4);
      expect((await client.leases.timeToLive(id)).ttlSeconds).to.be.greaterThan(0);

      const leader = await cluster!.leader();
      await leader.kill9();
      await cluster!.leader(10_000, [follower, other]);
      // Renewals go on through the follower to the new leader; the lease never lapses.
      await new Promise((resolve) => setTimeout(resolve, leaseTtlSeconds * 1000 + pastTtlMs));
      expect(keepAliveError, 'keep-alive failure').to.equal(undefined);
      expect((await client.get('fl/owned'))?.value.toString()).to.equal('yes');
      expect((await client.leases.timeToLive(id)).ttlSeconds).to.be.greaterThan(0);

      for (const subscription of subscriptions.splice(0)) subscription.unsubscribe();
      const stoppedAt = Date.now();
      await eventually('the lease expires and its key is deleted', 6 * leaseTtlSeconds * 1000, async () => (await client.get('fl/owned')) === undefined);
      const expiredAfterMs = Date.now() - stoppedAt;
      console.log(`      ${kind}: lease expired ${expiredAfterMs} ms after its last keep-alive (TTL ${leaseTtlSeconds} s)`);
      expect(expiredAfterMs).to.be.greaterThan(leaseTtlSeconds * 1000 - 1000);
      expect((await client.leases.timeToLive(id)).ttlSeconds).to.equal(-1);
      await leader.restart();
    });
  });
}
