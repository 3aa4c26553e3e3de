// The SDK's KV, txn and error behaviour, against cairn and against real etcd
// (SDK_TARGET=cairn|etcd picks one; both by default).
import { expect } from 'chai';
import {
  AbortedError,
  codecs,
  compare,
  CompactedError,
  connect,
  DeadlineExceededError,
  DuplicateKeyError,
  EmptyKeyError,
  FutureRevisionError,
  KeyNotFoundError,
  LeaseExistsError,
  LeaseNotFoundError,
  LeaseTtlTooLargeError,
  op,
  SortOrder,
  SortTarget,
  TooManyOperationsError,
  UnavailableError,
  ValueProvidedError,
  type Client,
} from '../../client/index.js';
import { freePort, type ServerHandle } from '../harness/launcher.js';
import { rejection, selectedTargets } from './support.js';

for (const target of selectedTargets()) {
  describe(`sdk kv against ${target.kind}`, function () {
    let server: ServerHandle;
    let client: Client;

    before(async function () {
      if (!target.available()) return this.skip();
      server = await target.start();
      client = await connect({ endpoints: [server.endpoint] });
    });
    after(async () => {
      client?.close();
      await server?.destroy();
    });

    it('puts and gets bytes, strings and JSON; a missing key is undefined', async () => {
      await client.put('kv/s', 'hello');
      await client.put('kv/b', Buffer.from([0, 1, 255]));
      await client.put('kv/j', { n: 1, list: ['x'] }, { codec: codecs.json<{ n: number; list: string[] }>() });
      expect((await client.get('kv/s', { codec: codecs.string }))?.value).to.equal('hello');
      expect((await client.get('kv/b'))?.value).to.deep.equal(Buffer.from([0, 1, 255]));
      const json = await client.get('kv/j', { codec: codecs.json<{ n: number; list: string[] }>() });
      expect(json?.value).to.deep.equal({ n: 1, list: ['x'] });
      expect(json?.key).to.equal('kv/j');
      expect(json?.version).to.equal(1n);
      expect(typeof json?.modRevision).to.equal('bigint');
      expect(await client.get('kv/missing')).to.equal(undefined);
    });

    it('reads ranges with limit, sort, count, keys-only, count-only, serializable and revision filters', async () => {
      const first = await client.put('r/a', '3');
      await client.put('r/b', '2');
      const third = await client.put('r/c', '1');
      await client.put('r/b', '2b');
      await client.put('rz', 'outside');

      const all = await client.getRange({ prefix: 'r/' }, { codec: codecs.string });
      expect(all.kvs.map((kv) => kv.key)).to.deep.equal(['r/a', 'r/b', 'r/c']);
      expect(all.count).to.equal(3);

      const limited = await client.getRange({ prefix: 'r/' }, { limit: 2 });
      expect(limited.kvs).to.have.length(2);
      expect(limited.more).to.equal(true);
      expect(limited.count).to.equal(3);

      const byKeyDesc = await client.getRange({ prefix: 'r/' }, { sort: { target: SortTarget.Key, order: SortOrder.Descend } });
      expect(byKeyDesc.kvs.map((kv) => kv.key)).to.deep.equal(['r/c', 'r/b', 'r/a']);
      const byValue = await client.getRange({ prefix: 'r/' }, { sort: { target: SortTarget.Value } });
      expect(byValue.kvs.map((kv) => kv.key)).to.deep.equal(['r/c', 'r/b', 'r/a']);
      const byVersionDesc = await client.getRange({ prefix: 'r/' }, { sort: { target: SortTarget.Version, order: SortOrder.Descend } });
      expect(byVersionDesc.kvs[0]?.key).to.equal('r/b');
      const byModDesc = await client.getRange({ prefix: 'r/' }, { sort: { target: SortTarget.ModRevision, order: SortOrder.Descend } });
      expect(byModDesc.kvs[0]?.key).to.equal('r/b');
      const byCreateDesc = await client.getRange({ prefix: 'r/' }, { sort: { target: SortTarget.CreateRevision, order: SortOrder.Descend } });
      expect(byCreateDesc.kvs.map((kv) => kv.key)).to.deep.equal(['r/c', 'r/b', 'r/a']);

      const keysOnly = await client.getRange({ prefix: 'r/' }, { keysOnly: true });
      expect(keysOnly.kvs.map((kv) => kv.value.length)).to.deep.equal([0, 0, 0]);
      const countOnly = await client.getRange({ prefix: 'r/' }, { countOnly: true });
      expect(countOnly.kvs).to.have.length(0);
      expect(countOnly.count).to.equal(3);
      const serializable = await client.getRange({ prefix: 'r/' }, { serializable: true });
      expect(serializable.count).to.equal(3);

      const old = await client.get('r/b', { revision: third.revision, codec: codecs.string });
      expect(old?.value).to.equal('2');
      const minMod = await client.getRange({ prefix: 'r/' }, { minModRevision: third.revision });
      expect(minMod.kvs.map((kv) => kv.key)).to.deep.equal(['r/b', 'r/c']);
      const maxMod = await client.getRange({ prefix: 'r/' }, { maxModRevision: third.revision });
      expect(maxMod.kvs.map((kv) => kv.key)).to.deep.equal(['r/a', 'r/c']);
      const minCreate = await client.getRange({ prefix: 'r/' }, { minCreateRevision: first.revision + 1n });
      expect(minCreate.kvs.map((kv) => kv.key)).to.deep.equal(['r/b', 'r/c']);
      const maxCreate = await client.getRange({ prefix: 'r/' }, { maxCreateRevision: first.revision });
      expect(maxCreate.kvs.map((kv) => kv.key)).to.deep.equal(['r/a']);

      const halfOpen = await client.getRange({ range: { start: 'r/a', end: 'r/c' } });
      expect(halfOpen.kvs.map((kv) => kv.key)).to.deep.equal(['r/a', 'r/b']);
      const fromKey = await client.getRange({ range: { start: 'r/c' } });
      expect(fromKey.kvs.map((kv) => kv.key)).to.deep.equal(['r/c', 'rz']);
    });

    it('puts with prevKv, lease, ignoreValue and ignoreLease', async () => {
      await client.put('p/k', 'one');
      const second = await client.put('p/k', 'two', { prevKv: true });
      expect(second.prevKv?.value.toString()).to.equal('one');
      const lease = await client.leases.grant(60);
      await client.put('p/k', 'three', { lease: lease.id });
      expect((await client.get('p/k'))?.lease).to.equal(lease.id);
      await client.put('p/k', undefined, { ignoreValue: true, ignoreLease: true });
      const kept = await client.get('p/k', { codec: codecs.string });
      expect(kept?.value).to.equal('three');
      expect(kept?.lease).to.equal(lease.id);
      expect(await rejection(client.put('p/missing', undefined, { ignoreValue: true }))).to.be.instanceOf(KeyNotFoundError);
      expect(await rejection(client.put('p/k', 'x', { ignoreValue: true }))).to.be.instanceOf(ValueProvidedError);
      await client.leases.revoke(lease.id);
    });

    it('deletes a key, a prefix and a range, with prevKv', async () => {
      await Promise.all(['d/a', 'd/b', 'd/c', 'd/d', 'e/a'].map((key) => client.put(key, key)));
      const one = await client.delete('d/a', { prevKv: true });
      expect(one.deleted).to.equal(1);
      expect(one.prevKvs.map((kv) => kv.value.toString())).to.deep.equal(['d/a']);
      const range = await client.delete({ range: { start: 'd/b', end: 'd/d' } });
      expect(range.deleted).to.equal(2);
      const prefix = await client.delete({ prefix: 'd/' }, { prevKv: true });
      expect(prefix.prevKvs.map((kv) => kv.key)).to.deep.equal(['d/d']);
      expect((await client.delete('d/none')).deleted).to.equal(0);
      expect((await client.get('e/a'))?.value.toString()).to.equal('e/a');
    });

    it('runs txns comparing version, createRevision, modRevision, value and lease with every operator', async () => {
      const put = await client.put('t/k', 'v1');
      const lease = await client.leases.grant(60);
      await client.put('t/l', 'x', { lease: lease.id });
      const holds = [
        compare.version('t/k', '=', 1n),
        compare.version('t/k', '>', 0n),
        compare.version('t/k', '<', 2n),
        compare.version('t/k', '!=', 5n),
        compare.createRevision('t/k', '=', put.revision),
        compare.createRevision('t/missing', '=', 0n),
        compare.modRevision('t/k', '<', put.revision + 1n),
        compare.modRevision('t/k', '>', 0n),
        compare.value('t/k', '=', 'v1'),
        compare.value('t/k', '!=', 'v2'),
        compare.value('t/k', '>', 'v0'),
        compare.value('t/k', '<', 'v2'),
        compare.lease('t/l', '=', lease.id),
        compare.lease('t/k', '=', 0n),
        compare.version({ prefix: 't/' }, '>', 0n),
      ];
      const result = await client.txn()
        .if(...holds)
        .then([op.put('t/k', 'v2', { prevKv: true }), op.get('t/k'), op.delete('t/l', { prevKv: true })])
        .else([op.get('t/k')])
        .commit();
      expect(result.succeeded).to.equal(true);
      expect(result.responses.map((response) => response.type)).to.deep.equal(['put', 'get', 'delete']);
      const [putResult, getResult, deleteResult] = result.responses;
      if (putResult?.type !== 'put' || getResult?.type !== 'get' || deleteResult?.type !== 'delete') throw new Error('types');
      expect(putResult.prevKv?.value.toString()).to.equal('v1');
      expect(getResult.kvs[0]?.value.toString()).to.equal('v2');
      expect(deleteResult.deleted).to.equal(1);

      const failed = await client.txn()
        .if(compare.value('t/k', '=', 'v1'))
        .then([op.put('t/k', 'never')])
        .else([op.get('t/k'), op.txn(client.txn().if(compare.version('t/k', '=', 2n)).then([op.put('t/nested', 'yes')]))])
        .commit();
      expect(failed.succeeded).to.equal(false);
      const nested = failed.responses[1];
      if (nested?.type !== 'txn') throw new Error('nested type');
      expect(nested.succeeded).to.equal(true);
      expect((await client.get('t/nested'))?.value.toString()).to.equal('yes');
      expect(failed.revision).to.equal((await client.get('t/nested'))?.modRevision);

      const missingValue = await client.txn().if(compare.value('t/missing', '=', '')).commit();
      expect(missingValue.succeeded).to.equal(false);
      await client.leases.revoke(lease.id);
    });

    it('rejects bad txns with typed errors', async () => {
      expect(await rejection(client.txn().then([op.put('t/dup', 'a'), op.put('t/dup', 'b')]).commit())).to.be.instanceOf(DuplicateKeyError);
      const many = Array.from({ length: 129 }, (_, index) => op.put(`t/many/${index}`, 'x'));
      expect(await rejection(client.txn().then(many).commit())).to.be.instanceOf(TooManyOperationsError);
      const awaited = await rejection(Promise.resolve(client.txn().then([op.get('t/k')])) as Promise<unknown>);
      expect(awaited).to.be.instanceOf(TypeError);
    });

    it('compacts, and reads of compacted or future revisions fail with typed errors', async () => {
      const before = await client.put('c/k', '1');
      const after = await client.put('c/k', '2');
      await client.compact(after.revision, { physical: true });
      const compacted = await rejection(client.get('c/k', { revision: before.revision }));
      expect(compacted).to.be.instanceOf(CompactedError);
      expect(compacted.message).to.equal('etcdserver: mvcc: required revision has been compacted');
      expect(await rejection(client.compact(before.revision))).to.be.instanceOf(CompactedError);
      expect(await rejection(client.get('c/k', { revision: after.revision + 1000n }))).to.be.instanceOf(FutureRevisionError);
      expect(await rejection(client.compact(after.revision + 1000n))).to.be.instanceOf(FutureRevisionError);
    });

    it('adds and strips the namespace on every key', async () => {
      const spaced = await connect({ endpoints: [server.endpoint], namespace: 'ns1/' });
      try {
        await spaced.put('a', '1', { prevKv: true });
        await spaced.put('b', '2');
        await client.put('ns1', 'just outside');
        await client.put('ns10', 'outside too');
        expect((await client.get('ns1/a'))?.value.toString()).to.equal('1');
        const all = await spaced.getRange({ prefix: '' });
        expect(all.kvs.map((kv) => kv.key)).to.deep.equal(['a', 'b']);
        const fromB = await spaced.getRange({ range: { start: 'b' } });
        expect(fromB.kvs.map((kv) => kv.key)).to.deep.equal(['b']);
        const txn = await spaced.txn().if(compare.value('a', '=', '1')).then([op.get({ prefix: '' }), op.delete('b', { prevKv: true })]).commit();
        expect(txn.succeeded).to.equal(true);
        const [got, deleted] = txn.responses;
        if (got?.type !== 'get' || deleted?.type !== 'delete') throw new Error('types');
        expect(got.kvs.map((kv) => kv.key)).to.deep.equal(['a', 'b']);
        expect(deleted.prevKvs[0]?.key).to.equal('b');
        expect((await spaced.delete({ prefix: '' })).deleted).to.equal(1);
        expect((await client.get('ns1'))?.value.toString()).to.equal('just outside');
      } finally {
        spaced.close();
      }
    });

    it('turns bad input and lease errors into typed errors', async () => {
      expect(await rejection(client.put('', 'x'))).to.be.instanceOf(EmptyKeyError);
      expect(await rejection(client.leases.revoke(0x7eadbeefn))).to.be.instanceOf(LeaseNotFoundError);
      const lease = await client.leases.grant(60);
      expect(await rejection(client.leases.grant(60, { id: lease.id }))).to.be.instanceOf(LeaseExistsError);
      expect(await rejection(client.leases.grant(9_000_000_001))).to.be.instanceOf(LeaseTtlTooLargeError);
      const cause = (await rejection(client.leases.revoke(0x7eadbeefn))).cause as { code?: number };
      expect(cause.code).to.equal(5);
      await client.leases.revoke(lease.id);
    });

    it('honours AbortSignal and deadlines', async () => {
      const controller = new AbortController();
      controller.abort(new Error('stop'));
      const aborted = await rejection(client.get('kv/s', { signal: controller.signal }));
      expect(aborted).to.be.instanceOf(AbortedError);
      const midway = new AbortController();
      const pending = client.getRange({ prefix: '' }, { signal: midway.signal });
      midway.abort();
      expect(await rejection(pending)).to.be.instanceOf(AbortedError);
      expect(await rejection(client.put('kv/d', 'x', { deadlineMs: 0 }))).to.be.instanceOf(DeadlineExceededError);
    });

    it('fails over from an unreachable endpoint, and reports none reachable as UnavailableError', async () => {
      const dead = `127.0.0.1:${await freePort()}`;
      const failover = await connect({ endpoints: [dead, server.endpoint], dialTimeoutMs: 500 });
      try {
        expect((await failover.get('kv/s'))?.value.toString()).to.equal('hello');
      } finally {
        failover.close();
      }
      const error = await rejection(connect({ endpoints: [dead], dialTimeoutMs: 200, retry: { retries: 1, minDelayMs: 10, maxDelayMs: 10 } }));
      expect(error).to.be.instanceOf(UnavailableError);
      expect((error as UnavailableError).applied).to.equal('no');
    });

    it('reads status and the member list', async () => {
      const status = await client.maintenance.status();
      expect(status.version).to.be.a('string').and.not.equal('');
      expect(status.leader).to.not.equal(0n);
      const { members } = await client.cluster.memberList();
      expect(members).to.have.length(1);
      expect(members[0]?.clientUrls).to.deep.equal([server.clientUrl]);
    });
  });
}
