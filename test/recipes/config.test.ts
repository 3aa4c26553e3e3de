// observeConfig and service discovery against cairn and etcd: every change in
// order, multi-key txn updates never torn, invalid input keeps the last good
// value, recovery after a server restart (with compaction while disconnected).
import { expect } from 'chai';
import type { Subscription } from 'rxjs';
import { connect, op, type Client } from '../../client/index.js';
import { instances$, observeConfig, register, type ConfigEntries, type ConfigUpdate, type Instance } from '../../recipes/index.js';
import { freePort, type ServerHandle } from '../harness/launcher.js';
import { must } from '../harness/must.js';
import { eventually, Fixture, selectedTargets } from './support.js';

interface Pair {
  a: number;
  b: number;
}

/** Valid only when both keys are integers summing to 100: a torn txn would break the sum. */
function decodePair(entries: ConfigEntries): Pair {
  const a = Number(entries.get('a')?.toString());
  const b = Number(entries.get('b')?.toString());
  if (!Number.isInteger(a) || !Number.isInteger(b)) throw new Error(`a and b must be integers, got ${entries.get('a')} and ${entries.get('b')}`);
  if (a + b !== 100) throw new Error(`a + b must be 100, got ${a + b}`);
  return { a, b };
}

function writePair(client: Client, prefix: string, a: number) {
  return client.txn().then([op.put(`${prefix}a`, String(a)), op.put(`${prefix}b`, String(100 - a))]).commit();
}

for (const target of selectedTargets()) {
  describe(`recipes: config observation and discovery against ${target.kind}`, function () {
    const fixture = new Fixture(target);
    const subscriptions: Subscription[] = [];

    before(async function () {
      if (!target.available()) return this.skip();
      await fixture.start();
    });
    afterEach(() => subscriptions.splice(0).forEach((subscription) => subscription.unsubscribe()));
    after(async () => fixture.stop());

    it('sees every change in order and never a torn multi-key txn', async () => {
      const client = await fixture.client();
      await writePair(client, 'cfg1/', 50);
      const updates: ConfigUpdate<Pair>[] = [];
      subscriptions.push(observeConfig(client, 'cfg1/', decodePair).subscribe((update) => updates.push(update)));
      await eventually(() => updates.length === 1);
      const writes = 25;
      for (let index = 1; index <= writes; index++) await writePair(client, 'cfg1/', 50 + index);
      await eventually(() => updates.length === writes + 1, 10_000, 'every update');
      expect(updates.every((update) => update.status === 'valid')).to.equal(true);
      expect(updates.map((update) => (update.status === 'valid' ? update.value.a : -1))).to.deep.equal(Array.from({ length: writes + 1 }, (_, index) => 50 + index));
      let previous: bigint | undefined;
      for (const { revision } of updates) {
        if (previous !== undefined) expect(revision > previous).to.equal(true);
        previous = revision;
      }
    });

    it('invalid input keeps the last good value and reports the error', async () => {
      const client = await fixture.client();
      await writePair(client, 'cfg2/', 10);
      const updates: ConfigUpdate<Pair>[] = [];
      subscriptions.push(observeConfig(client, 'cfg2/', decodePair).subscribe((update) => updates.push(update)));
      await eventually(() => updates.length === 1);
      await client.put('cfg2/a', 'not a number');
      await eventually(() => updates.length === 2);
      const invalid = must(updates[1], 'the update after the invalid put');
      expect(invalid.status).to.equal('invalid');
      if (invalid.status === 'invalid') {
        expect(invalid.lastGood).to.deep.equal({ a: 10, b: 90 });
        expect(invalid.error.message).to.include('integers');
      }
      await writePair(client, 'cfg2/', 30);
      await eventually(() => updates.length === 3);
      expect(updates[2]).to.include({ status: 'valid' });
    });

    it('recovers after the server restarts, re-listing if history was compacted meanwhile', async function () {
      this.timeout(60_000);
      const port = await freePort();
      const peerPort = await freePort();
      const first = await target.start({ port, peerPort });
      let second: ServerHandle | undefined;
      // A slow reconnect, so that writes and a compaction can happen while the observer is away.
      const observer = await connect({ endpoints: [first.endpoint], retry: { retries: 30, minDelayMs: 3_000, maxDelayMs: 3_000 } });
      let admin: Client | undefined;
      try {
        await writePair(observer, 'cfg3/', 1);
        const updates: ConfigUpdate<Pair>[] = [];
        let failure: unknown;
        const subscription = observeConfig(observer, 'cfg3/', decodePair).subscribe({ next: (update) => updates.push(update), error: (error) => (failure = error) });
        subscriptions.push(subscription);
        await eventually(() => updates.length === 1);
        await first.kill9();
        second = await target.start({ dataDir: first.dataDir, port, peerPort });
        admin = await connect({ endpoints: [second.endpoint] });
        for (let index = 2; index <= 5; index++) await writePair(admin, 'cfg3/', index);
        const latest = await admin.getRange('cfg3/a');
        await admin.compact(latest.revision);
        await eventually(() => updates.at(-1)?.status === 'valid' && (updates.at(-1) as { value: Pair }).value.a === 5, 20_000, 'the view to catch up');
        expect(failure).to.equal(undefined);
        expect(updates.every((update) => update.status === 'valid')).to.equal(true);
        const values = updates.map((update) => (update.status === 'valid' ? update.value.a : -1));
        expect(values).to.deep.equal([...values].sort((x, y) => x - y)); // never back in time
        await writePair(admin, 'cfg3/', 6);
        await eventually(() => (updates.at(-1) as { value: Pair }).value.a === 6, 10_000, 'the watch to be live again');
      } finally {
        observer.close();
        admin?.close();
        await second?.destroy();
        await first.destroy();
      }
    });

    it('service discovery: the live set follows registrations, deregistrations and dead instances', async () => {
      const observerClient = await fixture.client();
      const seen: Instance[][] = [];
      subscriptions.push(instances$(observerClient, 'svc/api').subscribe((list) => seen.push(list)));
      const alive = await fixture.session();
      const dying = await fixture.session({ ttlSeconds: 2 });
      const deregister = await register(alive, 'svc/api', 'i-1', '10.0.0.1:80');
      await register(dying, 'svc/api', 'i-2', '10.0.0.2:80');
      await eventually(() => seen.at(-1)?.length === 2, 5_000, 'two instances');
      expect(seen.at(-1)).to.deep.equal([{ id: 'i-1', value: '10.0.0.1:80' }, { id: 'i-2', value: '10.0.0.2:80' }]);
      // The instance "dies": its keep-alive stops and its lease goes (revoked here to keep
      // the suite short; expiry by TTL is covered by the session and mutex suites).
      dying.orphan();
      await observerClient.leases.revoke(dying.lease);
      await eventually(() => seen.at(-1)?.length === 1, 10_000, 'the dead instance to go');
      await deregister();
      await eventually(() => seen.at(-1)?.length === 0, 5_000, 'no instances');
    });
  });
}
