// etcdctl defrag, side by side: it succeeds, and the data and history read
// back the same afterwards (cairn rewrites its lmdb environment in place).
import { expect } from 'chai';
import { compatPair } from './pair.js';
import { defragmentRaw } from './rpc.js';

describe('compat: etcdctl defrag', function () {
  const pair = compatPair();

  it('defragments and keeps every key, value and revision', async () => {
    const entries: Array<[string, string]> = [];
    for (let i = 0; i < 200; i++) entries.push([`defrag/${String(i).padStart(3, '0')}`, 'x'.repeat(512)]);
    await pair.putAll(entries);
    await pair.del('defrag/000', 'defrag/150');
    const defrag = await pair.etcdctl(['defrag']);
    expect(defrag.code).to.equal(0);
    expect(defrag.stdout).to.match(/^Finished defragmenting etcd member\[/);
    const after = await pair.etcdctl(['get', 'defrag/', '--prefix', '-w', 'json']);
    expect(after.stdout).to.include('"count":50');
    await pair.etcdctl(['get', 'defrag/010', '--rev', '100', '-w', 'json']);
    await pair.etcdctl(['endpoint', 'hashkv', '-w', 'json']);
  });

  it('the raw Defragment response carries no header, as etcd 3.4\'s', async () => {
    const outcome = await pair.raw((clients) => defragmentRaw(clients, {}));
    expect(outcome).to.deep.equal({ ok: true, response: { header: undefined } });
  });

  it('writes made after a defragmentation are durable and readable', async () => {
    await pair.etcdctl(['defrag']);
    await pair.put('defrag/after', 'value');
    await pair.etcdctl(['get', 'defrag/after', '-w', 'json']);
  });
});
