// Bad requests get etcd's gRPC code and message, side by side on etcd and cairn.
// (Compacted-revision errors are in compaction.test.ts; ignore_value/ignore_lease
// errors in put.test.ts; etcdctl's duplicate-key and too-many-ops cases in txn.test.ts.)
import { expect } from 'chai';
import { status } from '@grpc/grpc-js';
import { PutRequest, RangeRequest, RequestOp, TxnRequest } from '../../proto/gen/etcdserverpb/rpc.js';
import { compatPair } from './pair.js';
import { putRaw, rangeRaw, txnRaw } from './rpc.js';

/** etcd's default --max-request-bytes is 1.5 MiB; its gRPC receive limit is that plus 512 KiB. */
const defaultMaxRequestBytes = 1.5 * 1024 * 1024;

const putOp = (key: string, value: string | Buffer): RequestOp =>
  RequestOp.fromPartial({ requestPut: { key: Buffer.from(key), value: Buffer.isBuffer(value) ? value : Buffer.from(value) } });

describe('compat: errors', function () {
  const pair = compatPair();

  it('an empty key is "key is not provided" for put, get, del', async () => {
    const putEmpty = await pair.etcdctl(['put', '', 'v']);
    expect(putEmpty.stderr).to.include('Error: etcdserver: key is not provided');
    await pair.etcdctl(['get', '']);
    await pair.etcdctl(['del', '']);
    await pair.raw((clients) => putRaw(clients, PutRequest.fromPartial({ value: Buffer.from('v') })));
  });

  it('an empty key inside a txn', async () => {
    const outcome = await pair.raw((clients) => txnRaw(clients, TxnRequest.fromPartial({ success: [putOp('', 'v')] })));
    expect(outcome.ok).to.equal(false);
  });

  it('a future revision is "required revision is a future revision"', async () => {
    const current = await pair.put('err/a', '1');
    const future = await pair.etcdctl(['get', 'err/a', `--rev=${current + 1n}`]);
    expect(future.stderr).to.include('Error: etcdserver: mvcc: required revision is a future revision');
    const outcome = await pair.raw((clients) => rangeRaw(clients, RangeRequest.fromPartial({ key: Buffer.from('err/a'), revision: current + 10n })));
    if (!outcome.ok) expect(outcome.code).to.equal(status.OUT_OF_RANGE);
    await pair.etcdctl(['get', 'err/a', `--rev=${current}`, '-w', 'json']);
  });

  it('--ignore-value on a missing key is "key not found", and writes nothing', async () => {
    const missing = await pair.etcdctl(['put', 'err/missing', '--ignore-value']);
    expect(missing.stderr).to.include('Error: etcdserver: key not found');
    await pair.raw((clients) => putRaw(clients, PutRequest.fromPartial({ key: Buffer.from('err/missing'), ignoreValue: true })));
    await pair.etcdctl(['get', 'err/', '--prefix', '-w', 'json']);
  });

  it('a raw Txn with 129 ops is "too many operations in txn request"', async () => {
    const ops = Array.from({ length: 129 }, (_, index) => putOp(`err/many/${index}`, 'v'));
    const outcome = await pair.raw((clients) => txnRaw(clients, TxnRequest.fromPartial({ success: ops })));
    expect(outcome.ok).to.equal(false);
    if (!outcome.ok) expect(outcome.code).to.equal(status.INVALID_ARGUMENT);
  });

  it('a raw Txn that writes one key twice is "duplicate key given in txn request"', async () => {
    const request = TxnRequest.fromPartial({
      success: [putOp('err/dup', 'a'), RequestOp.fromPartial({ requestDeleteRange: { key: Buffer.from('err/'), rangeEnd: Buffer.from('err0') } })],
    });
    const outcome = await pair.raw((clients) => txnRaw(clients, request));
    expect(outcome.ok).to.equal(false);
    if (!outcome.ok) expect(outcome.details).to.equal('etcdserver: duplicate key given in txn request');
  });

  it('a Put over --max-request-bytes is InvalidArgument "request is too large", and writes nothing', async () => {
    const big = Buffer.alloc(defaultMaxRequestBytes + 64 * 1024, 'x');
    const outcome = await pair.raw((clients) => putRaw(clients, PutRequest.fromPartial({ key: Buffer.from('err/big'), value: big })));
    expect(outcome.ok).to.equal(false);
    if (!outcome.ok) {
      expect(outcome.code).to.equal(status.INVALID_ARGUMENT);
      expect(outcome.details).to.equal('etcdserver: request is too large');
    }
    await pair.etcdctl(['get', 'err/big', '-w', 'json']);
  });

  it('a Txn over --max-request-bytes is "request is too large"', async () => {
    const half = Buffer.alloc(defaultMaxRequestBytes / 2 + 1024, 'y');
    const request = TxnRequest.fromPartial({ success: [putOp('err/big/1', half), putOp('err/big/2', half)] });
    const outcome = await pair.raw((clients) => txnRaw(clients, request));
    expect(outcome.ok).to.equal(false);
  });

  it('a Put just under the limit succeeds', async () => {
    const large = Buffer.alloc(defaultMaxRequestBytes - 1024, 'z');
    const outcome = await pair.raw((clients) => putRaw(clients, PutRequest.fromPartial({ key: Buffer.from('err/large'), value: large })));
    expect(outcome.ok).to.equal(true);
  });
});

describe('compat: limits set by flags (--max-txn-ops, --max-request-bytes)', function () {
  const pair = compatPair({ args: ['--max-txn-ops', '4', '--max-request-bytes', '2048'] });

  it('--max-txn-ops 4: 4 ops succeed, 5 fail', async () => {
    const ops = (count: number): RequestOp[] => Array.from({ length: count }, (_, index) => putOp(`lim/${index}`, 'v'));
    const four = await pair.raw((clients) => txnRaw(clients, TxnRequest.fromPartial({ success: ops(4) })));
    expect(four.ok).to.equal(true);
    const five = await pair.raw((clients) => txnRaw(clients, TxnRequest.fromPartial({ failure: ops(5) })));
    expect(five.ok).to.equal(false);
  });

  it('--max-request-bytes 2048: a 1 KiB value succeeds, a 4 KiB value fails', async () => {
    const small = await pair.raw((clients) => putRaw(clients, PutRequest.fromPartial({ key: Buffer.from('lim/small'), value: Buffer.alloc(1024, 'a') })));
    expect(small.ok).to.equal(true);
    const big = await pair.raw((clients) => putRaw(clients, PutRequest.fromPartial({ key: Buffer.from('lim/big'), value: Buffer.alloc(4096, 'b') })));
    expect(big.ok).to.equal(false);
    await pair.etcdctl(['get', 'lim/', '--prefix', '--keys-only', '-w', 'json']);
  });
});
