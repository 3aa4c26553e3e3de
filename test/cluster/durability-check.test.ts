// The crash test is only as good as its judge: each kind of loss or corruption
// it claims to catch is shown here to be caught.
import { expect } from 'chai';
import type { KeyValue } from '../../proto/gen/mvccpb/kv.js';
import { valueFor } from './crash-protocol.js';
import { checkSnapshot, recordAcks, type Acknowledged } from './durability-check.js';

function kv(key: string, revision: bigint, value = valueFor(key)): KeyValue {
  return { key: Buffer.from(key), createRevision: revision, modRevision: revision, version: 1n, value, lease: 0n };
}

function acknowledgedOf(entries: Array<[string, bigint]>): Acknowledged {
  return new Map(entries);
}

describe('crash test durability check', () => {
  const acked = acknowledgedOf([['a', 2n], ['b', 3n]]);

  it('accepts a snapshot holding every acknowledged put, plus unacknowledged ones that were applied', () => {
    expect(checkSnapshot(acked, { revision: 4n, kvs: [kv('a', 2n), kv('b', 3n), kv('c', 4n)] })).to.deep.equal([]);
  });

  it('reports a missing acknowledged put', () => {
    expect(checkSnapshot(acked, { revision: 3n, kvs: [kv('a', 2n)] })).to.deep.equal(['b (acknowledged at revision 3) is missing']);
  });

  it('reports an acknowledged put found at another revision', () => {
    const [violation] = checkSnapshot(acked, { revision: 4n, kvs: [kv('a', 2n), kv('b', 4n)] });
    expect(violation).to.match(/^b was acknowledged at revision 3 but reads mod 4/);
  });

  it('reports a wrong value, even on a key that was never acknowledged', () => {
    const violations = checkSnapshot(acked, { revision: 4n, kvs: [kv('a', 2n), kv('b', 3n), kv('c', 4n, Buffer.from('torn'))] });
    expect(violations).to.have.length(1);
    expect(violations[0]).to.match(/^c holds a wrong value/);
  });

  it('reports two keys sharing a mod revision, and a key written twice', () => {
    const twice = { ...kv('c', 5n), createRevision: 4n, version: 2n };
    const violations = checkSnapshot(acked, { revision: 5n, kvs: [kv('a', 2n), kv('b', 3n), kv('d', 3n), twice] });
    expect(violations).to.deep.include('b and d share mod revision 3');
    expect(violations.some((violation) => violation.startsWith('c was written once'))).to.equal(true);
  });

  it('reports a store revision below the highest acknowledged one', () => {
    expect(checkSnapshot(acked, { revision: 2n, kvs: [kv('a', 2n), kv('b', 3n)] }))
      .to.deep.equal(['store revision 2 is below the highest acknowledged revision 3']);
  });

  it('reports acks that reuse a revision or do not move past the revision seen before the cycle', () => {
    const acknowledged = acknowledgedOf([['a', 2n]]);
    const violations = recordAcks(acknowledged, [['b', 2n], ['c', 5n], ['d', 5n]], 4n);
    expect(violations).to.deep.equal([
      'revision 2 acknowledged for both (earlier cycle) and b',
      'b acknowledged at revision 2, not above the store revision 4 seen before',
      'revision 5 acknowledged for both c and d',
    ]);
    expect(acknowledged.size).to.equal(4);
  });
});
