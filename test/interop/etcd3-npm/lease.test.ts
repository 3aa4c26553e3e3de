// The npm `etcd3` client's Lease class against etcd and cairn: grant, puts
// on the lease, keepaliveOnce, the automatic keepalive loop keeping keys past
// the TTL, revoke and release, the `lost` event (revoked by another client,
// expired without keepalives), and the errors the package throws. Lease IDs
// are named in order of first sight (etcd3-pair.ts); a remaining TTL is a
// clock reading, so it is only checked to lie within a second of the granted
// TTL on each side.
import { expect } from 'chai';
import type { Lease } from 'etcd3';
import { etcd3Pair, nextEvent, sleep, type Normaliser } from './etcd3-pair.js';

/** The events a Lease emitted, in order: keepalive traffic counted, losses named with their error. */
function recordEvents(lease: Lease, n: Normaliser): { events: string[]; keepalives: () => number } {
  const events: string[] = [];
  let keepalives = 0;
  lease.on('keepaliveSucceeded', () => keepalives++);
  lease.on('keepaliveFailed', (error) => events.push(`keepaliveFailed ${JSON.stringify(n.error(error))}`));
  lease.on('lost', (error) => events.push(`lost ${JSON.stringify(n.error(error))}`));
  return { events, keepalives: () => keepalives };
}

describe('interop: etcd3 npm — leases', function () {
  const pairs = etcd3Pair();

  it('grant, put on the lease, keepaliveOnce, time-to-live, revoke: the keys go with the lease', async () => {
    const etcd = await pairs.same('lease lifecycle', async ({ client, n }) => {
      const lease = client.lease(30, { autoKeepAlive: false });
      const id = await lease.grant();
      const sameId = await lease.grant();
      n.lease(id);
      const put = n.of(await lease.put('le/a').value('1'));
      await lease.put('le/b').value('2');
      const keepalive = n.of(await lease.keepaliveOnce());
      const ttl = await client.leaseClient.leaseTimeToLive({ ID: id, keys: true });
      const listed = (await client.leaseClient.leaseLeases()).leases.map((entry) => n.lease(entry.ID)).filter((name) => name === '<lease 1>');
      const held = n.of((await client.getAll().prefix('le/').exec()).kvs);
      const stateBefore = lease.state;
      await lease.revoke();
      const afterRevoke = await client.getAll().prefix('le/').keys();
      return {
        sameId: sameId === id,
        put,
        keepalive,
        // etcd lists the keys in Go map order (random): sorted here.
        timeToLive: { ...(n.of({ ...ttl, TTL: undefined, keys: ttl.keys.map(String).sort() }) as object), remainingWithinASecond: Number(ttl.TTL) >= 29 && Number(ttl.TTL) <= 30 },
        listed,
        held,
        states: [stateBefore, lease.state, lease.revoked()],
        afterRevoke,
      };
    });
    expect(etcd.keepalive).to.deep.equal({ header: { revision: 'rev+2' }, ID: '<lease 1>', TTL: '30' });
    expect(etcd.timeToLive).to.deep.include({ grantedTTL: '30', remainingWithinASecond: true });
    expect(etcd.held).to.have.length(2);
    expect(etcd.afterRevoke).to.deep.equal([]);
  });

  it('errors: keepaliveOnce and put on a revoked lease, a revoke twice, an unknown lease, a TTL too large', async () => {
    const etcd = await pairs.same('lease errors', async ({ client, n }) => {
      const lease = client.lease(30, { autoKeepAlive: false });
      const { events } = recordEvents(lease, n);
      n.lease(await lease.grant());
      await lease.revoke();
      const keepaliveRevoked = await n.outcome(lease.keepaliveOnce());
      const putRevoked = await n.outcome(lease.put('le2/a').value('1'));
      const revokeAgain = await n.outcome(lease.revoke());
      const unknownRevoke = await n.outcome(client.leaseClient.leaseRevoke({ ID: '1234567890123' }));
      const unknownTimeToLive = n.of(await client.leaseClient.leaseTimeToLive({ ID: '1234567890123', keys: true }));
      const tooLarge = client.lease(9_000_000_001, { autoKeepAlive: false });
      const tooLargeLost = nextEvent<[Error]>(tooLarge, 'lost');
      const tooLargeGrant = await n.outcome(tooLarge.grant());
      const [lost] = await tooLargeLost;
      return { keepaliveRevoked, putRevoked, revokeAgain, unknownRevoke, unknownTimeToLive, tooLargeGrant, tooLargeLost: n.error(lost), events };
    });
    expect(etcd.keepaliveRevoked).to.have.nested.property('error.class', 'EtcdLeaseInvalidError');
    expect(etcd.unknownTimeToLive).to.deep.include({ TTL: '-1' });
  });

  it('autoKeepAlive keeps the keys past the TTL; without keepalives they expire and the lease is lost; release() lets them expire', async function () {
    this.timeout(30_000);
    const ttlSeconds = 2;
    const etcd = await pairs.same('keepalive and expiry', async ({ client, n }) => {
      const kept = client.lease(ttlSeconds);
      const idle = client.lease(ttlSeconds, { autoKeepAlive: false });
      const keptEvents = recordEvents(kept, n);
      const idleEvents = recordEvents(idle, n);
      n.lease(await kept.grant());
      n.lease(await idle.grant());
      await kept.put('ka/kept').value('1');
      await idle.put('ka/idle').value('1');
      // Past the TTL, and past etcd's expiry check (every 500 ms) and the revoke it then proposes.
      await sleep(ttlSeconds * 1000 + 1_500);
      const afterTtl = await client.getAll().prefix('ka/').keys();
      const idleEventsBeforeKeepalive = [...idleEvents.events];
      const idleKeepalive = await n.outcome(idle.keepaliveOnce());
      kept.release();
      const keptAlive = keptEvents.keepalives() >= 2;
      await sleep(ttlSeconds * 1000 + 1_500);
      const afterRelease = await client.getAll().prefix('ka/').keys();
      return {
        afterTtl,
        keptAlive,
        keptEvents: keptEvents.events,
        idleEventsBeforeKeepalive,
        idleKeepalive,
        idleEvents: idleEvents.events,
        afterRelease,
        states: [kept.state, idle.state],
      };
    });
    expect(etcd.afterTtl).to.deep.equal(['ka/kept']);
    expect(etcd.keptAlive).to.equal(true);
    expect(etcd.idleEvents).to.have.length(1);
    expect(etcd.afterRelease).to.deep.equal([]);
  });

  it('a lease revoked by another client: the keepalive loop emits lost; a put on an idle lease emits lost', async function () {
    this.timeout(20_000);
    const etcd = await pairs.same('revoked from outside', async ({ client, newClient, n }) => {
      const other = newClient();
      const kept = client.lease(3);
      const idle = client.lease(3, { autoKeepAlive: false });
      const keptEvents = recordEvents(kept, n);
      const idleEvents = recordEvents(idle, n);
      const keptId = await kept.grant();
      const idleId = await idle.grant();
      n.lease(keptId);
      n.lease(idleId);
      await kept.put('ro/kept').value('1');
      const keptLost = nextEvent(kept, 'lost', 5_000);
      await other.leaseClient.leaseRevoke({ ID: keptId });
      await other.leaseClient.leaseRevoke({ ID: idleId });
      await keptLost;
      const idlePut = await n.outcome(idle.put('ro/idle').value('1'));
      return {
        keptEvents: keptEvents.events,
        idlePut,
        idleEvents: idleEvents.events,
        states: [kept.state, idle.state],
        keys: await client.getAll().prefix('ro/').keys(),
      };
    });
    expect(etcd.keptEvents.at(-1)).to.match(/^lost .*EtcdLeaseInvalidError/);
    expect(etcd.idleEvents).to.have.length(1);
    expect(etcd.keys).to.deep.equal([]);
  });
});
