import { expect } from 'chai';
import { PutRequest, RequestOp, TxnRequest } from '../../proto/gen/etcdserverpb/rpc.js';
import { BackendQuota, costBytes, quotaBytesDefault, quotaBytesFromFlag } from './quota.js';

const put = (key: string, valueBytes: number): PutRequest => PutRequest.fromPartial({ key: Buffer.from(key), value: Buffer.alloc(valueBytes) });
const putOp = (key: string, valueBytes: number): RequestOp => RequestOp.fromPartial({ requestPut: put(key, valueBytes) });
const deleteOp = (key: string): RequestOp => RequestOp.fromPartial({ requestDeleteRange: { key: Buffer.from(key) } });

describe('backend quota', () => {
  it('reads --quota-backend-bytes as etcd 3.4: 0 is the 2 GiB default, negative is no quota', () => {
    expect(quotaBytesFromFlag(0)).to.equal(quotaBytesDefault);
    expect(quotaBytesDefault).to.equal(2 * 1024 * 1024 * 1024);
    expect(quotaBytesFromFlag(1_048_576)).to.equal(1_048_576);
    expect(quotaBytesFromFlag(-1)).to.equal(undefined);
  });

  it('costs a put its key, value and 256 bytes of overhead; a lease grant 64; a delete nothing', () => {
    expect(costBytes({ put: put('key', 100) })).to.equal(256 + 3 + 100);
    expect(costBytes({ leaseGrant: { ID: 1n, TTL: 60n } })).to.equal(64);
    expect(costBytes({})).to.equal(0);
    expect(costBytes({ txn: TxnRequest.fromPartial({ success: [deleteOp('a')] }) })).to.equal(0);
  });

  it('costs a txn its costlier branch, puts in nested txns included (etcd 3.4 leaves them out)', () => {
    const txn = TxnRequest.fromPartial({
      success: [putOp('a', 10), deleteOp('b')],
      failure: [putOp('c', 5), RequestOp.fromPartial({ requestTxn: { success: [putOp('d', 20)], failure: [putOp('e', 30)] } })],
    });
    expect(costBytes({ txn })).to.equal(256 + 1 + 5 + (256 + 1 + 30));
    const nestedOnly = TxnRequest.fromPartial({ success: [RequestOp.fromPartial({ requestTxn: { success: [putOp('n', 1)] } })] });
    expect(costBytes({ txn: nestedOnly })).to.equal(256 + 1 + 1);
  });

  it('admits a request while size + cost stays under the quota, and one that costs nothing always', () => {
    let size = 900;
    const quota = new BackendQuota(1000, () => size);
    expect(quota.admits(99)).to.equal(true);
    expect(quota.admits(100), 'size + cost = quota').to.equal(false);
    expect(quota.admits(0)).to.equal(true);
    expect(quota.exceeded).to.equal(false);
    size = 1000;
    expect(quota.exceeded).to.equal(true);
    expect(quota.admits(0)).to.equal(true);
  });

  it('without a quota admits everything', () => {
    const quota = new BackendQuota(undefined, () => Number.MAX_SAFE_INTEGER);
    expect(quota.admits(1_000_000)).to.equal(true);
    expect(quota.exceeded).to.equal(false);
  });
});
