// Leases, keep-alive and watches through the SDK, against cairn and real etcd,
// including a watch that survives a kill -9 and restart of its only member.
import { expect } from 'chai';
import type { Subscription } from 'rxjs';
import {
  codecs,
  CompactedError,
  connect,
  EventType,
  LeaseLostError,
  LeaseLostReason,
  WatchFilter,
  type Client,
  type WatchBatch,
} from '../../client/index.js';
import { freePort, type ServerHandle } from '../harness/launcher.js';
import { must } from '../harness/must.js';
import { eventually, selectedTargets, sleep, WatchRecorder } from './support.js';

for (const target of selectedTargets()) {
  describe(`sdk leases and watches against ${target.kind}`, function () {
    let server: ServerHandle;
    let client: Client;
    const recorder = new WatchRecorder();

    before(async function () {
      if (!target.available()) return this.skip();
      server = await target.start();
      client = await connect({ endpoints: [server.endpoint], interceptors: [recorder.interceptor] });
    });
    after(async () => {
      client?.close();
      await server?.destroy();
    });

    it('grants, lists, reads the TTL with keys, and revokes leases', async () => {
      const lease = await client.leases.grant(30);
      expect(lease.ttlSeconds).to.equal(30);
      await client.put('lease/a', 'x', { lease: lease.id });
      expect(await client.leases.leases()).to.include(lease.id);
      const ttl = await client.leases.timeToLive(lease.id, { keys: true });
      expect(ttl.grantedTtlSeconds).to.equal(30);
      expect(ttl.ttlSeconds).to.be.within(28, 30);
      expect(ttl.keys).to.deep.equal(['lease/a']);
      await client.leases.revoke(lease.id);
      expect(await client.get('lease/a')).to.equal(undefined);
      expect((await client.leases.timeToLive(lease.id)).ttlSeconds).to.equal(-1);
    });

    it('keeps a key alive past its TTL while subscribed, and lets it expire after unsubscribing', async () => {
      const lease = await client.leases.grant(2);
      await client.put('lease/kept', 'x', { lease: lease.id });
      const responses: number[] = [];
      const subscription = client.leases.keepAlive$(lease.id).subscribe({ next: (response) => responses.push(response.ttlSeconds) });
      await sleep(3_200);
      expect(await client.get('lease/kept')).to.not.equal(undefined);
      expect(responses.length).to.be.greaterThan(2);
      expect(responses.every((ttl) => ttl === 2)).to.equal(true);
      subscription.unsubscribe();
      // Server-side proof that keep-alives stopped: the lease expires and its key goes.
      await eventually(async () => (await client.leases.timeToLive(lease.id)).ttlSeconds === -1, 6_000, 'lease expiry');
      expect(await client.get('lease/kept')).to.equal(undefined);
    });

    it('reports LeaseLostError(not-found) after the lease is revoked', async () => {
      const lease = await client.leases.grant(3);
      const outcome = new Promise<unknown>((resolve) => {
        client.leases.keepAlive$(lease.id).subscribe({ error: resolve, complete: () => resolve('completed') });
      });
      await sleep(200);
      await client.leases.revoke(lease.id);
      const error = await outcome;
      expect(error).to.be.instanceOf(LeaseLostError);
      expect((error as LeaseLostError).reason).to.equal(LeaseLostReason.NotFound);
      expect((error as LeaseLostError).leaseId).to.equal(lease.id);
    });

    it('reports LeaseLostError(expired) when no keep-alive succeeds before the TTL runs out', async () => {
      const doomed = await target.start();
      const local = await connect({ endpoints: [doomed.endpoint], dialTimeoutMs: 300 });
      try {
        const lease = await local.leases.grant(2);
        const started = Date.now();
        const outcome = new Promise<unknown>((resolve) => {
          local.leases.keepAlive$(lease.id).subscribe({ error: resolve, complete: () => resolve('completed') });
        });
        await sleep(300);
        await doomed.kill9();
        const error = await outcome;
        expect(error).to.be.instanceOf(LeaseLostError);
        expect((error as LeaseLostError).reason).to.equal(LeaseLostReason.Expired);
        expect(Date.now() - started).to.be.within(1_500, 4_000);
      } finally {
        local.close();
        await doomed.destroy();
      }
    });

    it('watches a prefix: typed put and delete events with prevKv, one batch per revision, filters', async () => {
      const batches: WatchBatch<string>[] = [];
      const noDeletes: WatchBatch[] = [];
      const subscription = client.watch$({ prefix: 'w/' }, { prevKv: true, codec: codecs.string }).subscribe((batch) => batches.push(batch));
      subscription.add(client.watch$({ prefix: 'w/' }, { filters: [WatchFilter.NoDelete] }).subscribe((batch) => noDeletes.push(batch)));
      await eventually(() => recorder.responses.filter((response) => response.created).length >= 2, 5_000, 'creates');
      const first = await client.put('w/a', '1');
      await client.put('w/a', '2');
      const txn = await client.txn().then([]).else([]).commit();
      void txn;
      await client.put('w/b', '3');
      const deleted = await client.delete({ prefix: 'w/' });
      await eventually(() => batches.length === 4, 5_000, 'batches');
      subscription.unsubscribe();
      expect(batches.map((batch) => batch.events.map((event) => `${event.type} ${event.kv.key}`))).to.deep.equal([
        ['put w/a'], ['put w/a'], ['put w/b'], ['delete w/a', 'delete w/b'],
      ]);
      expect(batches[0]?.revision).to.equal(first.revision);
      expect(batches[3]?.revision).to.equal(deleted.revision);
      const second = must(batches[1]?.events[0], 'the event of the second put');
      expect(second.type === EventType.Put ? second.kv.value : undefined).to.equal('2');
      expect(second.prevKv?.value).to.equal('1');
      expect(batches[3]?.events[1]?.prevKv?.value).to.equal('3');
      expect(noDeletes.flatMap((batch) => batch.events.map((event) => event.type))).to.deep.equal(['put', 'put', 'put']);
    });

    it('replays history from startRevision and shares one stream among watchers', async () => {
      const opened = recorder.streamsOpened;
      const first = await client.put('h/a', '1');
      await client.put('h/b', '2');
      const seen: string[] = [];
      const one = client.watch$({ prefix: 'h/' }, { startRevision: first.revision }).subscribe((batch) => seen.push(...batch.events.map((event) => event.kv.key)));
      const two = client.watch$('h/a', { startRevision: first.revision }).subscribe((batch) => seen.push(...batch.events.map((event) => `two:${event.kv.key}`)));
      await eventually(() => seen.length === 3, 5_000, 'replay');
      expect([...seen].sort()).to.deep.equal(['h/a', 'h/b', 'two:h/a']);
      expect(recorder.streamsOpened - opened).to.equal(1);
      expect(client.watcherCount).to.equal(2);
      one.unsubscribe();
      two.unsubscribe();
      expect(client.watcherCount).to.equal(0);
    });

    it('cancels the server-side watch on unsubscribe: the server acknowledges and sends it nothing more', async () => {
      const keep: WatchBatch[] = [];
      const dropped: WatchBatch[] = [];
      const createdBefore = recorder.responses.filter((response) => response.created).length;
      const kept = client.watch$('u/kept').subscribe((batch) => keep.push(batch));
      await eventually(() => recorder.responses.filter((response) => response.created).length > createdBefore, 5_000, 'first ack');
      const before = recorder.responses.length;
      const cancelled = client.watch$('u/dropped').subscribe((batch) => dropped.push(batch));
      await eventually(() => recorder.responses.slice(before).some((response) => response.created), 5_000, 'create ack');
      const watchId = recorder.responses.slice(before).find((response) => response.created)!.watchId;
      cancelled.unsubscribe();
      await eventually(() => recorder.responses.slice(before).some((response) => response.canceled && response.watchId === watchId), 5_000, 'cancel ack');
      await client.put('u/dropped', 'x');
      await client.put('u/kept', 'y');
      await eventually(() => keep.length === 1, 5_000, 'kept event');
      expect(dropped).to.have.length(0);
      expect(recorder.responses.slice(before).filter((response) => response.watchId === watchId && response.events.length > 0)).to.have.length(0);
      kept.unsubscribe();
    });

    it('watches inside a namespace, with keys stripped', async () => {
      const spaced = await connect({ endpoints: [server.endpoint], namespace: 'wns/' });
      try {
        const keys: string[] = [];
        const startRevision = (await spaced.getRange('any')).revision + 1n;
        const subscription = spaced.watch$({ prefix: '' }, { startRevision }).subscribe((batch) => keys.push(...batch.events.map((event) => event.kv.key)));
        await client.put('wns', 'outside');
        await spaced.put('a', '1');
        await client.put('wns/b', '2');
        await eventually(() => keys.length === 2, 5_000, 'namespaced events');
        subscription.unsubscribe();
        expect(keys).to.deep.equal(['a', 'b']);
      } finally {
        spaced.close();
      }
    });

    it('errors with CompactedError carrying the compact revision', async () => {
      const first = await client.put('cw/a', '1');
      const last = await client.put('cw/a', '2');
      await client.compact(last.revision);
      const error = await new Promise<unknown>((resolve) => {
        client.watch$('cw/a', { startRevision: first.revision }).subscribe({ error: resolve, complete: () => resolve('completed') });
      });
      expect(error).to.be.instanceOf(CompactedError);
      expect((error as CompactedError).compactRevision).to.equal(last.revision);
    });

    it('resumes across kill -9 and restart of the member: 1,000 writes, none missing, none repeated', async function () {
      this.timeout(60_000);
      const port = await freePort();
      const peerPort = await freePort();
      const first = await target.start({ port, peerPort });
      let second: ServerHandle | undefined;
      const localRecorder = new WatchRecorder();
      const local = await connect({
        endpoints: [first.endpoint],
        retry: { retries: 20, minDelayMs: 50, maxDelayMs: 500 },
        interceptors: [localRecorder.interceptor],
      });
      let subscription: Subscription | undefined;
      try {
        const revisions: bigint[] = [];
        const keys: string[] = [];
        let failure: unknown;
        const startRevision = (await local.getRange('kill/none')).revision + 1n;
        subscription = local.watch$({ prefix: 'kill/' }, { startRevision }).subscribe({
          next: (batch) => {
            revisions.push(batch.revision);
            keys.push(...batch.events.map((event) => event.kv.key));
          },
          error: (error) => (failure = error),
        });
        for (let index = 0; index < 500; index++) await local.put(`kill/${index}`, String(index));
        await eventually(() => keys.length >= 100, 10_000, 'events before the kill');
        await first.kill9(); // possibly before the watcher saw the last writes
        second = await target.start({ dataDir: first.dataDir, port, peerPort });
        for (let index = 500; index < 1000; index++) await local.put(`kill/${index}`, String(index));
        await eventually(() => keys.length >= 1000 || failure !== undefined, 20_000, '1,000 events');
        await sleep(200);
        expect(failure).to.equal(undefined);
        expect(keys).to.have.length(1000);
        expect(keys).to.deep.equal(Array.from({ length: 1000 }, (_, index) => `kill/${index}`));
        expect(localRecorder.streamsOpened).to.be.at.least(2); // the stream really broke and was re-opened
        let previous: bigint | undefined;
        for (const revision of revisions) {
          if (previous !== undefined) expect(revision > previous).to.equal(true);
          previous = revision;
        }
      } finally {
        subscription?.unsubscribe();
        local.close();
        await second?.destroy();
        await first.destroy();
      }
    });
  });
}
