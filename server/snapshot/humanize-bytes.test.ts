import { expect } from 'chai';
import { humanizeBytes } from './humanize-bytes.js';

describe('humanizeBytes (go-humanize Bytes, as etcdctl prints sizes)', () => {
  it('prints small counts in bytes, larger ones in SI units with one decimal below 10', () => {
    const cases: Array<[number, string]> = [
      [0, '0 B'], [9, '9 B'], [10, '10 B'], [999, '999 B'], [1000, '1.0 kB'], [1550, '1.6 kB'],
      [20480, '20 kB'], [24576, '25 kB'], [1_500_000, '1.5 MB'], [82_854_982, '83 MB'], [2_147_483_648, '2.1 GB'],
    ];
    for (const [bytes, text] of cases) expect(humanizeBytes(bytes), String(bytes)).to.equal(text);
  });

  it('rounds a tie to the even number as Go\'s %.0f does (JavaScript would round it up)', () => {
    expect(humanizeBytes(20_500)).to.equal('20 kB');
    expect(humanizeBytes(21_500)).to.equal('22 kB');
  });

  it('refuses what is not a byte count', () => {
    expect(() => humanizeBytes(-1)).to.throw('not a byte count');
    expect(() => humanizeBytes(1.5)).to.throw('not a byte count');
  });
});
