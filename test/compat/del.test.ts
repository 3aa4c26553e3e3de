// etcdctl del, side by side on etcd and cairn.
import { expect } from 'chai';
import { compatPair } from './pair.js';

describe('compat: etcdctl del', function () {
  const pair = compatPair();

  it('deletes one key and reports the count; a missing key deletes 0', async () => {
    await pair.put('del/one', 'v');
    const deleted = await pair.etcdctl(['del', 'del/one']);
    expect(deleted.stdout).to.equal('1\n');
    const missing = await pair.etcdctl(['del', 'del/one']);
    expect(missing.stdout).to.equal('0\n');
    await pair.etcdctl(['del', 'del/never', '-w', 'json']);
  });

  it('deleting a missing key does not create a revision', async () => {
    await pair.put('del/rev', 'v');
    await pair.etcdctl(['del', 'del/rev-missing']);
    await pair.etcdctl(['get', 'del/rev', '-w', 'json']);
  });

  it('--prefix deletes the keys under the prefix only', async () => {
    await pair.putAll([['del/p/a', '1'], ['del/p/b', '2'], ['del/p/c', '3'], ['del/p0', 'outside']]);
    const deleted = await pair.etcdctl(['del', 'del/p/', '--prefix', '-w', 'json']);
    expect(deleted.stdout).to.include('"deleted":3');
    await pair.etcdctl(['get', 'del/p', '--prefix', '-w', 'json']);
  });

  it('--prev-kv prints the deleted key-values', async () => {
    await pair.putAll([['del/pk/a', 'one'], ['del/pk/b', 'two'], ['del/pk/b', 'three'], ['del/pk/c', 'four']]);
    const simple = await pair.etcdctl(['del', 'del/pk/a', '--prev-kv']);
    expect(simple.stdout).to.include('one');
    await pair.etcdctl(['del', 'del/pk/', '--prefix', '--prev-kv', '-w', 'json']);
  });

  it('a range with an end key deletes [key, end)', async () => {
    await pair.putAll([['del/r/a', '1'], ['del/r/b', '2'], ['del/r/c', '3'], ['del/r/d', '4']]);
    const deleted = await pair.etcdctl(['del', 'del/r/b', 'del/r/d', '--prev-kv']);
    expect(deleted.stdout).to.match(/^2\n/);
    await pair.etcdctl(['get', 'del/r/', '--prefix', '-w', 'json']);
  });

  it('a deleted key comes back with version 1 and a new create revision', async () => {
    await pair.put('del/again', 'first');
    await pair.del('del/again');
    await pair.put('del/again', 'second');
    const again = await pair.etcdctl(['get', 'del/again', '-w', 'json']);
    expect(again.stdout).to.include('"version":1');
  });

  // Keys under "zz/" sort after every other key this file writes, so --from-key removes only them.
  it('--from-key deletes every key from the given one', async () => {
    await pair.putAll([['zz/a', '1'], ['zz/b', '2'], ['zz/c', '3']]);
    const deleted = await pair.etcdctl(['del', '--from-key', 'zz/b', '--prev-kv', '-w', 'json']);
    expect(deleted.stdout).to.include('"deleted":2');
    await pair.etcdctl(['get', '--from-key', 'del/', '-w', 'json']);
  });
});
