import { expect } from 'chai';
import { must } from '../test/harness/must.js';
import { LatencyHistogram, signedQuantileUs } from './stats.js';

describe('bench LatencyHistogram', () => {
  it('keeps every quantile within 1% of the exact value', () => {
    const histogram = new LatencyHistogram();
    const values: number[] = [];
    // A deterministic spread from 1 µs to about 10 s.
    for (let index = 1; index <= 10_000; index++) {
      const value = Math.floor(1.0017 ** index);
      values.push(value);
      histogram.record(value);
    }
    values.sort((a, b) => a - b);
    for (const q of [0.01, 0.5, 0.9, 0.99, 0.999, 1]) {
      const exact = must(values[Math.ceil(q * values.length) - 1], `the exact value at q=${q}`);
      expect(Math.abs(histogram.quantileUs(q) - exact)).to.be.at.most(Math.max(1, exact * 0.01), `q=${q}`);
    }
  });

  it('merges snapshots as if all values were recorded in one histogram', () => {
    const [one, two, all] = [new LatencyHistogram(), new LatencyHistogram(), new LatencyHistogram()];
    for (let value = 1; value <= 5000; value += 7) {
      (value % 2 === 0 ? one : two).record(value);
      all.record(value);
    }
    const merged = new LatencyHistogram();
    merged.merge(one.snapshot());
    merged.merge(two.snapshot());
    expect(merged.count).to.equal(all.count);
    for (const q of [0.5, 0.99]) expect(merged.quantileUs(q)).to.equal(all.quantileUs(q));
    expect(merged.meanUs()).to.equal(all.meanUs());
  });

  it('reports NaN when empty and clamps values beyond its range', () => {
    const histogram = new LatencyHistogram();
    expect(histogram.quantileUs(0.5)).to.be.NaN;
    histogram.record(2 ** 40);
    expect(histogram.quantileUs(1)).to.be.greaterThan(2 ** 30);
    expect(() => histogram.quantileUs(0)).to.throw('quantile must be in (0, 1]');
  });
});

describe('bench signedQuantileUs', () => {
  it('orders negative magnitudes before non-negative values (the worked example)', () => {
    const [negative, positive] = [new LatencyHistogram(), new LatencyHistogram()];
    negative.record(2);
    negative.record(5);
    positive.record(1);
    positive.record(4);
    expect([0.25, 0.5, 0.75, 1].map((q) => signedQuantileUs(negative, positive, q))).to.deep.equal([-5, -2, 1, 4]);
  });

  it('handles one side empty, both empty, and a bad quantile', () => {
    const [negative, positive] = [new LatencyHistogram(), new LatencyHistogram()];
    expect(signedQuantileUs(negative, positive, 0.5)).to.be.NaN;
    for (const value of [10, 20, 30]) negative.record(value);
    expect(signedQuantileUs(negative, positive, 1 / 3)).to.equal(-30);
    expect(signedQuantileUs(negative, positive, 1)).to.equal(-10);
    expect(() => signedQuantileUs(negative, positive, 1.5)).to.throw('quantile must be in (0, 1]');
  });
});
