// Namespaced views of a client against cairn and etcd: prefixes compose
// (connect's namespace, then views of views); kv, txn, watch, STM and the
// keys of leases stay inside the view and come back without the prefix;
// views share the client's watch stream and keep-alive stream.
import { expect } from 'chai';
import { firstValueFrom, take, toArray } from 'rxjs';
import { codecs, compare, connect, op, type Client } from '../../client/index.js';
import type { ServerHandle } from '../harness/launcher.js';
import { CallRecorder, selectedTargets, sleep } from './support.js';

for (const target of selectedTargets()) {
  describe(`sdk namespaces against ${target.kind}`, function () {
    let server: ServerHandle;
    let root: Client;
    let app: Client;
    const recorder = new CallRecorder();

    before(async function () {
      if (!target.available()) return this.skip();
      server = await target.start();
      root = await connect({ endpoints: [server.endpoint] });
      app = await connect({ endpoints: [server.endpoint], namespace: 'app/', interceptors: [recorder.interceptor] });
    });
    after(async () => {
      root?.close();
      app?.close();
      await server?.destroy();
    });

    it('composes prefixes: a view of a view of a namespaced client stores under all three', async () => {
      const tenant = app.namespace('tenant-1/');
      const team = tenant.namespace('team/');
      expect(team.namespacePrefix.toString()).to.equal('app/tenant-1/team/');
      await team.put('k', 'v');
      await tenant.put('k', 'outer');
      expect((await root.get('app/tenant-1/team/k', { codec: codecs.string }))?.value).to.equal('v');
      expect((await app.get('tenant-1/team/k', { codec: codecs.string }))?.value).to.equal('v');
      const listed = await tenant.getRange({ prefix: '' });
      expect(listed.kvs.map((kv) => kv.key)).to.deep.equal(['k', 'team/k']);
      expect((await team.getRange({ prefix: '' })).kvs.map((kv) => kv.key)).to.deep.equal(['k']);
      expect((await team.getRange({ range: { start: 'a' } })).kvs.map((kv) => kv.key)).to.deep.equal(['k']);
      const deleted = await team.delete({ prefix: '' }, { prevKv: true });
      expect(deleted.prevKvs.map((kv) => kv.key)).to.deep.equal(['k']);
      expect((await root.get('app/tenant-1/k'))?.value.toString()).to.equal('outer');
    });

    it('runs txns inside the view: comparisons, operations and nested txns, keys stripped in the results', async () => {
      const view = app.namespace('txn/');
      await view.put('a', '1');
      const result = await view.txn()
        .if(compare.value('a', '=', '1'), compare.createRevision('missing', '=', 0n))
        .then([op.put('b', '2', { prevKv: true }), op.get({ prefix: '' }), op.txn(view.txn().then([op.delete('a', { prevKv: true })]))])
        .commit();
      expect(result.succeeded).to.equal(true);
      const [, listing, nested] = result.responses;
      expect(listing?.type === 'get' ? listing.kvs.map((kv) => kv.key) : []).to.deep.equal(['a', 'b']);
      const deleted = nested?.type === 'txn' ? nested.responses[0] : undefined;
      expect(deleted?.type === 'delete' ? deleted.prevKvs.map((kv) => kv.key) : []).to.deep.equal(['a']);
      expect((await root.getRange({ prefix: 'app/txn/' })).kvs.map((kv) => kv.key)).to.deep.equal(['app/txn/b']);
    });

    it('watches inside the view only, keys without the prefix, on the stream the client already has', async () => {
      const view = app.namespace('w/').namespace('x/');
      const streamsBefore = recorder.count('/etcdserverpb.Watch/Watch');
      const outer = app.watch$({ prefix: '' }).subscribe();
      const batches = firstValueFrom(view.watch$({ prefix: '' }, { prevKv: true, codec: codecs.string }).pipe(take(2), toArray()));
      await sleep(200);
      await root.put('app/w/y/k', 'outside the view');
      await root.put('app/w/x/k', 'one');
      await view.put('k', 'two');
      const [first, second] = await batches;
      expect(first?.events.map((event) => [event.kv.key, event.kv.value])).to.deep.equal([['k', 'one']]);
      expect(second?.events[0]?.prevKv?.key).to.equal('k');
      expect(second?.events[0]?.prevKv?.value).to.equal('one');
      expect(recorder.count('/etcdserverpb.Watch/Watch') - streamsBefore).to.equal(1);
      expect(view.watcherCount).to.equal(1);
      outer.unsubscribe();
    });

    it('lists a lease\'s keys without the view\'s prefix; STM reads and writes inside the view', async () => {
      const view = app.namespace('lease/');
      const lease = await view.leases.grant(30);
      await view.put('held', 'x', { lease: lease.id });
      expect((await view.leases.timeToLive(lease.id, { keys: true })).keys).to.deep.equal(['held']);
      expect((await root.leases.timeToLive(lease.id, { keys: true })).keys).to.deep.equal(['app/lease/held']);
      await view.leases.revoke(lease.id);

      await view.put('counter', '41');
      const result = await view.stm(async (stm) => {
        const value = Number(await stm.get('counter', { codec: codecs.string }));
        stm.put('counter', String(value + 1));
        return value;
      });
      expect(result.value).to.equal(41);
      expect((await root.get('app/lease/counter', { codec: codecs.string }))?.value).to.equal('42');
    });

    it('closing a view closes the client it is a view of', async () => {
      const own = await connect({ endpoints: [server.endpoint] });
      const view = own.namespace('closing/');
      let completed = false;
      own.watch$('k').subscribe({ complete: () => (completed = true) });
      view.close();
      expect(completed).to.equal(true);
      expect(await own.get('k').catch((error: Error) => error.name)).to.equal('ClientClosedError');
    });
  });
}
