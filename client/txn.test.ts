import { expect } from 'chai';
import { Compare_CompareResult, Compare_CompareTarget } from '../proto/gen/etcdserverpb/rpc.js';
import { InvalidOptionError } from './errors.js';
import { Namespace } from './keys.js';
import { compare, op, readOnly, Txn, txnToWire } from './txn.js';

describe('client txn builder', () => {
  it('builds the wire request with the namespace applied, nested txns included', () => {
    const nested = new Txn().if(compare.lease('n', '!=', 0n)).then([op.delete({ prefix: 'd' })]);
    const spec = new Txn()
      .if(compare.version('a', '=', 1n), compare.modRevision({ prefix: 'p' }, '<', 9n), compare.value('v', '>', 'x'))
      .then([op.put('a', 'b', { lease: 5n, prevKv: true }), op.txn(nested)])
      .else([op.get('a', { limit: 1 })])
      .spec();
    const wire = txnToWire(new Namespace('ns/'), spec);
    expect(wire.compare.map((item) => [item.target, item.result, item.key.toString()])).to.deep.equal([
      [Compare_CompareTarget.VERSION, Compare_CompareResult.EQUAL, 'ns/a'],
      [Compare_CompareTarget.MOD, Compare_CompareResult.LESS, 'ns/p'],
      [Compare_CompareTarget.VALUE, Compare_CompareResult.GREATER, 'ns/v'],
    ]);
    expect(wire.compare[1]?.rangeEnd.toString()).to.equal('ns/q');
    expect(wire.compare[0]?.version).to.equal(1n);
    expect(wire.success[0]?.requestPut?.lease).to.equal(5n);
    expect(wire.success[1]?.requestTxn?.success[0]?.requestDeleteRange?.key.toString()).to.equal('ns/d');
    expect(wire.failure[0]?.requestRange?.limit).to.equal(1n);
  });

  it('is not a promise: awaiting it rejects with a TypeError instead of doing nothing', async () => {
    let error: unknown;
    try {
      await (new Txn(() => Promise.reject(new Error('must not commit'))).then([]) as unknown as Promise<unknown>);
    } catch (caught) {
      error = caught;
    }
    expect(error).to.be.instanceOf(TypeError);
  });

  it('knows read-only txns (safe to retry) from writing ones', () => {
    expect(readOnly(new Txn().then([op.get('a')]).else([op.txn({ compares: [], success: [op.get('b')], failure: [] })]).spec())).to.equal(true);
    expect(readOnly(new Txn().then([op.get('a')]).else([op.txn({ compares: [], success: [op.put('b', 'c')], failure: [] })]).spec())).to.equal(false);
  });

  it('refuses to commit an unbound txn and unknown operators', async () => {
    let error: unknown;
    await new Txn().commit().catch((caught: unknown) => (error = caught));
    expect(error).to.be.instanceOf(InvalidOptionError);
    expect(() => compare.version('a', '==' as never, 1n)).to.throw(InvalidOptionError);
  });
});
