// etcdctl put, side by side on etcd and cairn.
import { expect } from 'chai';
import { PutRequest } from '../../proto/gen/etcdserverpb/rpc.js';
import { headerRevision } from './normalise.js';
import { compatPair } from './pair.js';
import { putRaw } from './rpc.js';

describe('compat: etcdctl put', function () {
  const pair = compatPair();

  it('puts a new key and overwrites it (simple and json output)', async () => {
    const created = await pair.etcdctl(['put', 'put/a', '1']);
    expect(created.stdout).to.equal('OK\n');
    await pair.etcdctl(['put', 'put/a', '2', '-w', 'json']);
    await pair.etcdctl(['get', 'put/a', '-w', 'json']);
  });

  it('puts an empty value and a value with spaces and newlines', async () => {
    await pair.etcdctl(['put', 'put/empty', '']);
    await pair.etcdctl(['put', 'put/spaces', 'a b\nc']);
    await pair.etcdctl(['get', 'put/', '--prefix', '-w', 'json']);
  });

  it('--prev-kv returns the previous key-value, and nothing for a new key', async () => {
    await pair.put('put/prev', 'old');
    const replaced = await pair.etcdctl(['put', 'put/prev', 'new', '--prev-kv']);
    expect(replaced.stdout).to.include('old');
    await pair.etcdctl(['put', 'put/prev', 'newer', '--prev-kv', '-w', 'json']);
    await pair.etcdctl(['put', 'put/prev-new', 'x', '--prev-kv', '-w', 'json']);
  });

  it('--ignore-value keeps the value and bumps version and mod revision', async () => {
    await pair.put('put/iv', 'kept');
    await pair.etcdctl(['put', 'put/iv', '--ignore-value', '-w', 'json']);
    const after = await pair.etcdctl(['get', 'put/iv', '-w', 'json']);
    expect(after.stdout).to.include('"version":2');
  });

  it('--ignore-value on a missing key fails with "key not found"', async () => {
    const missing = await pair.etcdctl(['put', 'put/iv-missing', '--ignore-value']);
    expect(missing.code).to.equal(1);
    expect(missing.stderr).to.include('Error: etcdserver: key not found');
    await pair.etcdctl(['get', 'put/iv-missing', '-w', 'json']);
  });

  it('--ignore-lease on a key without a lease keeps lease 0', async () => {
    await pair.put('put/il', 'v1');
    await pair.etcdctl(['put', 'put/il', 'v2', '--ignore-lease', '--prev-kv', '-w', 'json']);
    await pair.etcdctl(['get', 'put/il', '-w', 'json']);
  });

  it('--ignore-lease on a missing key fails with "key not found"', async () => {
    const missing = await pair.etcdctl(['put', 'put/il-missing', 'v', '--ignore-lease']);
    expect(missing.code).to.equal(1);
    expect(missing.stderr).to.include('Error: etcdserver: key not found');
  });

  it('a failed put does not create a revision', async () => {
    const before = await pair.etcdctl(['get', 'put/', '--prefix', '-w', 'json']);
    await pair.etcdctl(['put', 'put/never', '--ignore-value']);
    const after = await pair.etcdctl(['get', 'put/', '--prefix', '-w', 'json']);
    expect(headerRevision(after.stdout)).to.equal(headerRevision(before.stdout));
  });

  it('raw Put with ignore_value and a value fails with "value is provided"', async () => {
    await pair.put('put/raw-iv', 'v');
    const request = PutRequest.fromPartial({ key: Buffer.from('put/raw-iv'), value: Buffer.from('x'), ignoreValue: true });
    const outcome = await pair.raw((clients) => putRaw(clients, request));
    expect(outcome.ok).to.equal(false);
    if (!outcome.ok) expect(outcome.details).to.equal('etcdserver: value is provided');
  });

  it('raw Put with ignore_lease and a lease fails with "lease is provided"', async () => {
    await pair.put('put/raw-il', 'v');
    const request = PutRequest.fromPartial({ key: Buffer.from('put/raw-il'), value: Buffer.from('x'), lease: 12345n, ignoreLease: true });
    const outcome = await pair.raw((clients) => putRaw(clients, request));
    expect(outcome.ok).to.equal(false);
    if (!outcome.ok) expect(outcome.details).to.equal('etcdserver: lease is provided');
  });

  it('raw Put with a lease that does not exist fails with "requested lease not found"', async () => {
    const request = PutRequest.fromPartial({ key: Buffer.from('put/raw-nolease'), value: Buffer.from('x'), lease: 12345n });
    const outcome = await pair.raw((clients) => putRaw(clients, request));
    expect(outcome.ok).to.equal(false);
  });

  it('raw Put with prev_kv returns the whole previous key-value', async () => {
    await pair.put('put/raw-prev', 'one');
    const request = PutRequest.fromPartial({ key: Buffer.from('put/raw-prev'), value: Buffer.from('two'), prevKv: true });
    const outcome = await pair.raw((clients) => putRaw(clients, request));
    expect(outcome.ok && outcome.response.prevKv?.value.toString()).to.equal('one');
  });

  it('the store ends in the same state', async () => {
    const all = await pair.etcdctl(['get', 'put/', '--prefix', '-w', 'json']);
    expect(all.code).to.equal(0);
  });
});
