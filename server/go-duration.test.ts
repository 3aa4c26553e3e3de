import { expect } from 'chai';
import { DurationSyntaxError, parseGoDuration } from './go-duration.js';

describe('parseGoDuration (Go\'s time.ParseDuration)', () => {
  it('reads every unit, decimals, sequences and a sign', () => {
    expect(parseGoDuration('300ms')).to.equal(300);
    expect(parseGoDuration('10m')).to.equal(600_000);
    expect(parseGoDuration('1.5h')).to.equal(5_400_000);
    expect(parseGoDuration('2h45m30s')).to.equal(9_930_000);
    expect(parseGoDuration('1500us')).to.equal(1.5);
    expect(parseGoDuration('2000000ns')).to.equal(2);
    expect(parseGoDuration('-1s')).to.equal(-1_000);
    expect(parseGoDuration('0')).to.equal(0);
    expect(parseGoDuration('.5s')).to.equal(500);
  });

  it('refuses what Go refuses, in Go\'s words', () => {
    expect(() => parseGoDuration('10')).to.throw(DurationSyntaxError, 'time: missing unit in duration "10"');
    expect(() => parseGoDuration('1d')).to.throw(DurationSyntaxError, 'time: unknown unit "d" in duration "1d"');
    for (const text of ['', 'm', 'soon', '-', '1h2']) expect(() => parseGoDuration(text), text).to.throw(DurationSyntaxError, /time: (invalid duration|missing unit)/);
  });
});
