import { expect } from 'chai';
import { evenShares } from './shares.js';

describe('bench evenShares', () => {
  it('splits so that shares differ by at most one and add up to the total', () => {
    expect(evenShares(10, 4)).to.deep.equal([3, 3, 2, 2]);
    expect(evenShares(3, 5)).to.deep.equal([1, 1, 1, 0, 0]);
    expect(evenShares(1000, 8).reduce((sum, share) => sum + share, 0)).to.equal(1000);
  });

  it('refuses a split into no parts', () => {
    expect(() => evenShares(10, 0)).to.throw('cannot split 10 into 0 shares');
  });
});
