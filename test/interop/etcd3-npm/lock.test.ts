// The npm `etcd3` client's Lock class against etcd and cairn. The package
// locks client-side: a lease, then a Txn "create revision of the key == 0 →
// put the key on the lease", so a second acquire fails at once with
// EtcdLockFailedError (it does not wait, unlike etcd's Lock service), and a
// release revokes the lease.
import { expect } from 'chai';
import { EtcdLockFailedError } from 'etcd3';
import { etcd3Pair } from './etcd3-pair.js';

describe('interop: etcd3 npm — Lock', function () {
  const pairs = etcd3Pair();

  it('acquire, a second acquire fails with EtcdLockFailedError, release, acquire again', async () => {
    const etcd = await pairs.same('acquire and release', async ({ client, newClient, n }) => {
      const other = newClient();
      const lock = client.lock('lk/resource').ttl(10);
      await lock.acquire();
      const leaseId = await lock.leaseId();
      if (leaseId === null) throw new Error('an acquired lock has a lease');
      n.lease(leaseId);
      const held = n.of((await client.get('lk/resource').exec()).kvs);
      const timeToLive = await client.leaseClient.leaseTimeToLive({ ID: leaseId, keys: true });
      const second = await n.outcome(other.lock('lk/resource').acquire());
      await lock.release();
      const afterRelease = await client.get('lk/resource').exists();
      const again = other.lock('lk/resource');
      await again.acquire();
      const heldAgain = n.of((await client.get('lk/resource').exec()).kvs);
      await again.release();
      let releaseUnacquired: unknown;
      try {
        await other.lock('lk/never').release();
      } catch (error) {
        releaseUnacquired = n.error(error);
      }
      return {
        held,
        granted: { ttl: timeToLive.grantedTTL, keys: timeToLive.keys.map(String) },
        second,
        afterRelease,
        heldAgain,
        releaseUnacquired,
        leftover: await client.getAll().prefix('lk/resource').keys(),
      };
    });
    expect(etcd.held).to.deep.equal([{ key: 'lk/resource', value: '', version: '1', create_revision: 'rev+1', mod_revision: 'rev+1', lease: '<lease 1>' }]);
    expect(etcd.granted).to.deep.equal({ ttl: '10', keys: ['lk/resource'] });
    expect(etcd.second).to.deep.equal({ error: { class: EtcdLockFailedError.name, message: 'Failed to acquire a lock on lk/resource' } });
    expect(etcd.afterRelease).to.equal(false);
    // A new lease (the failed acquire's lease was never shown, so this is the second one named).
    expect(etcd.heldAgain).to.have.nested.property('[0].lease', '<lease 2>');
  });

  it('do(fn) runs under the lock and releases it after fn resolves or throws; a concurrent do() fails', async () => {
    const etcd = await pairs.same('do', async ({ client, newClient, n }) => {
      const other = newClient();
      const inside: unknown[] = [];
      const value = await client.lock('lkd/job').do(async () => {
        inside.push(await client.get('lkd/job').exists());
        inside.push(await n.outcome(other.lock('lkd/job').do(() => 'never runs')));
        return 'done';
      });
      const afterResolve = await client.get('lkd/job').exists();
      const thrown = await n.outcome(client.lock('lkd/job').do(() => {
        throw new Error('the work failed');
      }));
      const afterThrow = await client.get('lkd/job').exists();
      return { value, inside, afterResolve, thrown, afterThrow };
    });
    expect(etcd).to.deep.equal({
      value: 'done',
      inside: [true, { error: { class: EtcdLockFailedError.name, message: 'Failed to acquire a lock on lkd/job' } }],
      afterResolve: false,
      thrown: { error: { class: 'Error', message: 'the work failed' } },
      afterThrow: false,
    });
  });
});
