// The npm `etcd3` client's namespaces (client.namespace(prefix)) against
// etcd and cairn: the package prefixes every key and range it sends and
// strips the prefix from some of what it returns, so the server must answer
// the prefixed ranges (a prefix's range end, delete().all() inside a
// namespace) as etcd does.
import { expect } from 'chai';
import { EtcdLockFailedError } from 'etcd3';
import { etcd3Pair, nextEvent, sleep, waitFor } from './etcd3-pair.js';

describe('interop: etcd3 npm — namespaces', function () {
  const pairs = etcd3Pair();

  it('get, put, delete, getAll, transactions and nested namespaces stay inside the prefix', async () => {
    const etcd = await pairs.same('namespaced kv', async ({ client, n }) => {
      const ns = client.namespace('app/');
      await client.put('outside').value('x');
      await client.put('app').value('the prefix without its slash');
      await ns.put('a').value('1');
      await ns.put('b').value('2');
      await ns.namespace('sub/').put('c').value('3');
      const previous = n.of(await ns.put('a').value('1b').getPrevious());
      const txn = n.of(await ns.if('a', 'Value', '==', '1b').then(ns.put('t').value('txn'), ns.get('b')).else(ns.delete().all()).commit());
      const view = {
        get: await ns.get('a').string(),
        missingOutside: await ns.get('outside').string(),
        keys: await ns.getAll().keys(),
        all: await ns.getAll().all().strings(),
        prefix: await ns.getAll().prefix('s').keys(),
        inRange: await ns.getAll().inRange({ start: 'a', end: 'c' }).keys(),
        count: await ns.getAll().count(),
        nested: await ns.namespace('sub/').getAll().keys(),
        fromRoot: await client.getAll().prefix('app').keys(),
      };
      const deletedPrevious = n.of(await ns.delete().prefix('sub/').getPrevious());
      const deletedAll = n.of(await ns.delete().all());
      const left = (await client.getAll().all().keys()).filter((key) => key.startsWith('app') || key === 'outside');
      return { previous, txn, view, deletedPrevious, deletedAll, left };
    });
    expect(etcd.view.keys).to.deep.equal(['a', 'b', 'sub/c', 't']);
    expect(etcd.view.fromRoot).to.deep.equal(['app', 'app/a', 'app/b', 'app/sub/c', 'app/t']);
    expect(etcd.left).to.deep.equal(['app', 'outside']);
  });

  it('watch, lease and lock inside a namespace', async () => {
    const etcd = await pairs.same('namespaced watch, lease, lock', async ({ client, n }) => {
      const ns = client.namespace('nsw/');
      const watcher = ns.watch().prefix('').withPreviousKV().watcher();
      const events: string[] = [];
      watcher.on('put', (kv, previous) => events.push(`put ${kv.key.toString()}=${kv.value.toString()}${previous ? ` prev ${previous.key.toString()}` : ''}`));
      watcher.on('delete', (kv) => events.push(`delete ${kv.key.toString()}`));
      await nextEvent(watcher, 'connected');
      await client.put('outside').value('not seen');
      await ns.put('k').value('1');
      await ns.put('k').value('2');
      const lease = ns.lease(30, { autoKeepAlive: false });
      n.lease(await lease.grant());
      await lease.put('leased').value('v');
      const leasedFromRoot = n.of((await client.get('nsw/leased').exec()).kvs);

      const lock = await ns.lock('mutex').acquire();
      const lockKeys = await client.getAll().prefix('nsw/mutex').keys();
      const second = await n.outcome(ns.lock('mutex').acquire());
      const fromRoot = await n.outcome(client.lock('nsw/mutex').acquire());
      const elsewhere = client.lock('mutex');
      await elsewhere.acquire();
      await elsewhere.release();
      await lock.release();
      await lease.revoke();
      await waitFor(() => events.length >= 6, 'the namespaced watcher to see 6 events');
      await sleep(200);
      await watcher.cancel();
      return { leasedFromRoot, lockKeys, second, fromRoot, events };
    });
    expect(etcd.events).to.deep.equal(['put k=1', 'put k=2 prev k', 'put leased=v', 'put mutex=', 'delete mutex', 'delete leased']);
    expect(etcd.second).to.deep.equal({ error: { class: EtcdLockFailedError.name, message: 'Failed to acquire a lock on mutex' } });
  });
});
