// Periodic auto-compaction side by side: etcd and cairn started with
// --auto-compaction-retention 2s (periodic, the default mode) compact their
// history by themselves: a few seconds after the writes, the oldest
// revisions are gone on both, and the latest stays readable.
import { expect } from 'chai';
import { etcdctl } from '../harness/etcdctl.js';
import { compatPair } from './pair.js';

describe('compat: --auto-compaction-retention (periodic)', function () {
  const pair = compatPair({ args: ['--auto-compaction-retention', '2s'] });

  it('both compact history older than the retention by themselves', async function () {
    this.timeout(40_000);
    for (let i = 0; i < 5; i++) await pair.put('auto/k', `v${i}`);
    const compacted = async (endpoint: string): Promise<boolean> =>
      (await etcdctl(endpoint, ['get', 'auto/k', '--rev=2'])).stderr.includes('required revision has been compacted');
    const deadline = Date.now() + 20_000;
    let states: boolean[] = [];
    while (Date.now() < deadline) {
      states = await Promise.all([pair.etcd, pair.cairn].map((server) => compacted(server.endpoint)));
      if (states.every(Boolean)) break;
      await new Promise((resolve) => setTimeout(resolve, 500));
    }
    expect(states, '[etcd, cairn] compacted revision 2').to.deep.equal([true, true]);
    await pair.etcdctl(['get', 'auto/k', '--print-value-only']);
  });
});
