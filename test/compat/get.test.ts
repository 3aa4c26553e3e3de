// etcdctl get, side by side on etcd and cairn: ranges, limits, sorting,
// revisions and output formats.
import { expect } from 'chai';
import { PutRequest, RangeRequest } from '../../proto/gen/etcdserverpb/rpc.js';
import { compatPair } from './pair.js';
import { putRaw, rangeRaw } from './rpc.js';

/**
 * Five keys under get/ written so that no sort target has a tie: versions are
 * a=1 d=2 b=3 e=4 c=5, creation order c a e b d, last modification order
 * a b e c d, and final values mango apple zebra kiwi banana (a..e). An order
 * that a sort target does not produce shows up as a difference.
 */
const writes: ReadonlyArray<readonly [string, string]> = [
  ['get/c', 'c-1'], ['get/a', 'mango'], ['get/e', 'e-1'], ['get/b', 'b-1'], ['get/d', 'd-1'],
  ['get/c', 'c-2'], ['get/e', 'e-2'], ['get/b', 'b-2'], ['get/c', 'c-3'], ['get/e', 'e-3'],
  ['get/b', 'apple'], ['get/e', 'banana'], ['get/c', 'c-4'], ['get/c', 'zebra'], ['get/d', 'kiwi'],
  // Just outside the prefix "get/" (whose range end is "get0"), and a deleted key inside it.
  ['get0', 'outside'], ['get/f', 'deleted-later'],
];

const sortTargets = ['KEY', 'VERSION', 'CREATE', 'MODIFY', 'VALUE'] as const;
const orders = ['', 'ASCEND', 'DESCEND'] as const;

describe('compat: etcdctl get', function () {
  const pair = compatPair();
  /** Revision after the first five creations, before any update. */
  let revisionCreated = 0n;
  /** Revision just before get/f was deleted. */
  let revisionBeforeDelete = 0n;

  before(async function () {
    revisionCreated = await pair.putAll(writes.slice(0, 5));
    revisionBeforeDelete = await pair.putAll(writes.slice(5));
    await pair.del('get/f');
  });

  it('gets one key, simple and json', async () => {
    const one = await pair.etcdctl(['get', 'get/a']);
    expect(one.stdout).to.equal('get/a\nmango\n');
    await pair.etcdctl(['get', 'get/a', '-w', 'json']);
  });

  it('gets nothing for a missing or deleted key', async () => {
    const missing = await pair.etcdctl(['get', 'get/missing']);
    expect(missing.stdout).to.equal('');
    await pair.etcdctl(['get', 'get/f', '-w', 'json']);
  });

  it('--prefix returns the keys under the prefix only', async () => {
    const prefix = await pair.etcdctl(['get', 'get/', '--prefix']);
    expect(prefix.stdout).to.not.include('outside');
    await pair.etcdctl(['get', 'get/', '--prefix', '-w', 'json']);
  });

  it('a range with an end key is half-open', async () => {
    const range = await pair.etcdctl(['get', 'get/b', 'get/d']);
    expect(range.stdout).to.equal('get/b\napple\nget/c\nzebra\n');
    await pair.etcdctl(['get', 'get/b', 'get/d', '-w', 'json']);
    await pair.etcdctl(['get', 'get/d', 'get/b', '-w', 'json']);
  });

  it('--from-key returns every key from the given one', async () => {
    const fromKey = await pair.etcdctl(['get', '--from-key', 'get/d']);
    expect(fromKey.stdout).to.include('outside');
    await pair.etcdctl(['get', '--from-key', 'get/d', '-w', 'json']);
    await pair.etcdctl(['get', '--from-key', 'get/d', '--limit', '2', '-w', 'json']);
  });

  it('--limit truncates and reports more and the full count', async () => {
    const limited = await pair.etcdctl(['get', 'get/', '--prefix', '--limit', '2', '-w', 'json']);
    expect(limited.stdout).to.include('"more":true');
    await pair.etcdctl(['get', 'get/', '--prefix', '--limit', '5', '-w', 'json']);
    await pair.etcdctl(['get', 'get/', '--prefix', '--limit', '9', '-w', 'json']);
  });

  for (const target of sortTargets) {
    for (const order of orders) {
      it(`--sort-by=${target}${order === '' ? '' : ` --order=${order}`}`, async () => {
        const args = ['get', 'get/', '--prefix', `--sort-by=${target}`, '-w', 'json'];
        if (order !== '') args.push(`--order=${order}`);
        const sorted = await pair.etcdctl(args);
        expect(sorted.code).to.equal(0);
      });
    }
  }

  it('--order=DESCEND alone sorts by key, descending', async () => {
    const descending = await pair.etcdctl(['get', 'get/', '--prefix', '--order=DESCEND', '--keys-only']);
    expect(descending.stdout.indexOf('get/e')).to.be.lessThan(descending.stdout.indexOf('get/a'));
  });

  it('sorting applies before --limit', async () => {
    await pair.etcdctl(['get', 'get/', '--prefix', '--sort-by=VALUE', '--order=DESCEND', '--limit=2', '-w', 'json']);
    await pair.etcdctl(['get', 'get/', '--prefix', '--sort-by=CREATE', '--order=ASCEND', '--limit=3']);
    await pair.etcdctl(['get', 'get/', '--prefix', '--sort-by=MODIFY', '--order=DESCEND', '--limit=1', '--keys-only']);
  });

  it('--rev reads an older revision, including a key deleted since', async () => {
    const old = await pair.etcdctl(['get', 'get/', '--prefix', `--rev=${revisionCreated}`, '-w', 'json']);
    expect(old.stdout).to.include('"count":5');
    const beforeDelete = await pair.etcdctl(['get', 'get/', '--prefix', `--rev=${revisionBeforeDelete}`]);
    expect(beforeDelete.stdout).to.include('deleted-later');
    await pair.etcdctl(['get', 'get/c', `--rev=${revisionCreated + 3n}`, '-w', 'json']);
  });

  it('--keys-only omits values', async () => {
    const keysOnly = await pair.etcdctl(['get', 'get/', '--prefix', '--keys-only']);
    expect(keysOnly.stdout).to.not.include('mango');
    await pair.etcdctl(['get', 'get/', '--prefix', '--keys-only', '-w', 'json']);
  });

  it('--print-value-only prints values only', async () => {
    const values = await pair.etcdctl(['get', 'get/', '--prefix', '--print-value-only']);
    expect(values.stdout).to.not.include('get/');
    await pair.etcdctl(['get', 'get/a', '--print-value-only']);
  });

  it('--consistency=s (serializable) reads the same data', async () => {
    await pair.etcdctl(['get', 'get/', '--prefix', '--consistency=s', '-w', 'json']);
  });

  it('--hex and -w fields print keys and values the same way', async () => {
    await pair.etcdctl(['get', 'get/b', '--hex']);
    await pair.etcdctl(['get', 'get/', '--prefix', '-w', 'fields']);
  });

  // etcdctl 3.4 has no --count-only flag (added in 3.5), so count_only goes over raw gRPC.
  it('count_only returns the count and no key-values (raw Range)', async () => {
    const request = RangeRequest.fromPartial({ key: Buffer.from('get/'), rangeEnd: Buffer.from('get0'), countOnly: true });
    const outcome = await pair.raw((clients) => rangeRaw(clients, request));
    expect(outcome.ok && outcome.response.count).to.equal(5n);
    const withLimit = RangeRequest.fromPartial({ ...request, countOnly: false, keysOnly: true, limit: 1n });
    await pair.raw((clients) => rangeRaw(clients, withLimit));
  });

  it('min/max mod and create revision filters (raw Range)', async () => {
    const request = RangeRequest.fromPartial({
      key: Buffer.from('get/'),
      rangeEnd: Buffer.from('get0'),
      minModRevision: revisionCreated + 5n,
      maxCreateRevision: revisionCreated - 1n,
    });
    const outcome = await pair.raw((clients) => rangeRaw(clients, request));
    expect(outcome.ok).to.equal(true);
  });

  it('all keys: key "\\0" with range end "\\0" (raw Range)', async () => {
    const request = RangeRequest.fromPartial({ key: Buffer.from([0]), rangeEnd: Buffer.from([0]), keysOnly: true });
    const outcome = await pair.raw((clients) => rangeRaw(clients, request));
    expect(outcome.ok && outcome.response.count).to.equal(6n);
  });

  // etcd orders keys by bytes. UTF-16 order (JavaScript's string <) differs for
  // characters above U+FFFF: "😀" (F0 9F 98 80) sorts after "Ａ" (EF BC A1) in bytes.
  it('keys sort by their UTF-8 bytes, not by UTF-16 code units', async () => {
    await pair.putAll([['uni/😀', 'emoji'], ['uni/Ａ', 'fullwidth'], ['uni/é', 'accent'], ['uni/z', 'ascii']]);
    const sorted = await pair.etcdctl(['get', 'uni/', '--prefix', '--keys-only']);
    expect(sorted.stdout.indexOf('Ａ')).to.be.lessThan(sorted.stdout.indexOf('😀'));
    await pair.etcdctl(['get', 'uni/', '--prefix', '--order=DESCEND', '-w', 'json']);
    await pair.etcdctl(['get', 'uni/Ａ', 'uni/😀', '-w', 'json']);
    await pair.etcdctl(['get', '--from-key', 'uni/é', '--keys-only']);
  });

  it('binary keys with 0x00 and 0xff bytes (raw Range)', async () => {
    const keys = [[0x62], [0x62, 0x00], [0x62, 0xff], [0x62, 0xff, 0xff], [0x62, 0xff, 0x00], [0x63]];
    for (const key of keys) {
      await pair.raw((clients) => putRaw(clients, PutRequest.fromPartial({ key: Buffer.from(key), value: Buffer.from([0xff, 0x00]) })));
    }
    const prefix = RangeRequest.fromPartial({ key: Buffer.from([0x62, 0xff]), rangeEnd: Buffer.from([0x63]) });
    const outcome = await pair.raw((clients) => rangeRaw(clients, prefix));
    expect(outcome.ok && outcome.response.count).to.equal(3n);
    await pair.raw((clients) => rangeRaw(clients, RangeRequest.fromPartial({ key: Buffer.from([0x62]), rangeEnd: Buffer.from([0x62, 0xff]) })));
    await pair.raw((clients) => rangeRaw(clients, RangeRequest.fromPartial({ key: Buffer.from([0x62, 0x00]), rangeEnd: Buffer.from([0x00]), keysOnly: true, sortOrder: 2 })));
    await pair.etcdctl(['get', 'b', 'c', '--hex']);
    await pair.etcdctl(['get', 'b', 'c', '-w', 'json']);
  });
});
