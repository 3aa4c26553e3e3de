// etcdctl compaction and reads around the compacted revision, side by side
// on etcd and cairn. The tests run in order on one server pair: each compacts
// further than the one before.
import { expect } from 'chai';
import { CompactionRequest, RangeRequest } from '../../proto/gen/etcdserverpb/rpc.js';
import { compatPair } from './pair.js';
import { compactRaw, rangeRaw } from './rpc.js';

describe('compat: etcdctl compaction', function () {
  const pair = compatPair();
  let firstRevision = 0n;
  let compacted = 0n;

  before(async function () {
    firstRevision = await pair.put('cmp/a', '1');
    await pair.putAll([['cmp/a', '2'], ['cmp/b', '1'], ['cmp/a', '3']]);
    await pair.del('cmp/b');
    compacted = await pair.putAll([['cmp/c', '1'], ['cmp/a', '4']]);
    await pair.putAll([['cmp/d', '1'], ['cmp/a', '5']]);
  });

  it('compacts at a revision and prints it', async () => {
    const result = await pair.etcdctl(['compaction', String(compacted)]);
    expect(result.stdout).to.equal(`compacted revision ${compacted}\n`);
  });

  it('a read below the compacted revision fails with "required revision has been compacted"', async () => {
    const below = await pair.etcdctl(['get', 'cmp/', '--prefix', `--rev=${compacted - 1n}`]);
    expect(below.code).to.equal(1);
    expect(below.stderr).to.include('Error: etcdserver: mvcc: required revision has been compacted');
    await pair.etcdctl(['get', 'cmp/a', `--rev=${firstRevision}`, '-w', 'json']);
  });

  it('a read at the compacted revision and above still answers', async () => {
    const at = await pair.etcdctl(['get', 'cmp/', '--prefix', `--rev=${compacted}`, '-w', 'json']);
    expect(at.code).to.equal(0);
    await pair.etcdctl(['get', 'cmp/', '--prefix', `--rev=${compacted + 1n}`, '-w', 'json']);
    await pair.etcdctl(['get', 'cmp/', '--prefix', '-w', 'json']);
  });

  it('compacting at or below the compacted revision fails', async () => {
    const again = await pair.etcdctl(['compaction', String(compacted)]);
    expect(again.stderr).to.include('Error: etcdserver: mvcc: required revision has been compacted');
    await pair.etcdctl(['compaction', String(firstRevision)]);
  });

  it('compacting above the current revision fails with "required revision is a future revision"', async () => {
    const future = await pair.etcdctl(['compaction', String(compacted + 100n)]);
    expect(future.stderr).to.include('Error: etcdserver: mvcc: required revision is a future revision');
  });

  it('raw Range below the compacted revision answers OutOfRange, with the same message', async () => {
    const request = RangeRequest.fromPartial({ key: Buffer.from('cmp/a'), revision: compacted - 2n });
    const outcome = await pair.raw((clients) => rangeRaw(clients, request));
    expect(outcome.ok).to.equal(false);
  });

  it('--physical compacts and waits for it', async () => {
    const revision = await pair.putAll([['cmp/a', '6'], ['cmp/e', '1'], ['cmp/a', '7']]);
    const physical = await pair.etcdctl(['compaction', '--physical', String(revision - 1n)]);
    expect(physical.stdout).to.equal(`compacted revision ${revision - 1n}\n`);
    await pair.etcdctl(['get', 'cmp/', '--prefix', `--rev=${revision - 2n}`]);
    await pair.etcdctl(['get', 'cmp/', '--prefix', `--rev=${revision - 1n}`, '-w', 'json']);
  });

  it('raw Compact at the current revision (physical) answers the same header', async () => {
    const current = await pair.put('cmp/f', 'last');
    const request = CompactionRequest.fromPartial({ revision: current, physical: true });
    const outcome = await pair.raw((clients) => compactRaw(clients, request));
    expect(outcome.ok).to.equal(true);
    await pair.etcdctl(['get', 'cmp/', '--prefix', '-w', 'json']);
  });

  it('endpoint hashkv after compactions matches', async () => {
    const hash = await pair.etcdctl(['endpoint', 'hashkv', '-w', 'json']);
    expect(hash.stdout).to.include('"compact_revision"');
    await pair.etcdctl(['endpoint', 'hashkv']);
  });
});
