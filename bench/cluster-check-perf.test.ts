import { expect } from 'chai';
import { parseCheckPerf } from './cluster-check-perf.js';

const bar = ' 60 / 60 Booooooooooooooooooooooooooooo! 100.00% 1m0s';

describe('bench etcdctl check perf output', () => {
  it('reads a passing run behind its progress bar', () => {
    const stdout = `\r 1 / 60 Bo  1.67%\r${bar}\nPASS: Throughput is 974 writes/s\nPASS: Slowest request took 0.468174s\nPASS: Stddev is 0.028241s\nPASS\n`;
    expect(parseCheckPerf(stdout)).to.deep.equal({
      passed: true,
      writesPerSecond: 974,
      slowestSeconds: 0.468174,
      stddevSeconds: 0.028241,
      verdictLines: ['PASS: Throughput is 974 writes/s', 'PASS: Slowest request took 0.468174s', 'PASS: Stddev is 0.028241s', 'PASS'],
    });
  });

  it('reads the failing forms, which do not all start with FAIL', () => {
    const stdout = `${bar}\nFAIL: Throughput too low: 862 writes/s\nSlowest request took too long: 1.679768s\nStddev too high: 0.111544s\nFAIL\n`;
    const parsed = parseCheckPerf(stdout);
    expect(parsed.passed).to.equal(false);
    expect([parsed.writesPerSecond, parsed.slowestSeconds, parsed.stddevSeconds]).to.deep.equal([862, 1.679768, 0.111544]);
    expect(parsed.verdictLines).to.have.length(4);
  });

  it('reads a verdict printed after the bar\'s last frame on the same line (the bar finishes in a goroutine of its own)', () => {
    const stdout = `\r 59 / 60 Booooooooooooooooooooooooooooo!  98.33%PASS: Throughput is 151 writes/s\nPASS: Slowest request took 0.032848s\n` +
      `PASS: Stddev is 0.000689s\nPASS\n\r${bar}\n`;
    const parsed = parseCheckPerf(stdout);
    expect([parsed.passed, parsed.writesPerSecond, parsed.slowestSeconds, parsed.stddevSeconds]).to.deep.equal([true, 151, 0.032848, 0.000689]);
    expect(parsed.verdictLines).to.deep.equal(['PASS: Throughput is 151 writes/s', 'PASS: Slowest request took 0.032848s', 'PASS: Stddev is 0.000689s', 'PASS']);
    const failing = parseCheckPerf(`\r 59 / 60 Boo!  98.33%FAIL: Throughput too low: 90 writes/s\r 60 / 60 Boo! 100.00%Slowest request took too long: 1.2s\nStddev too high: 0.2s\nFAIL\n`);
    expect(failing.verdictLines).to.deep.equal(['FAIL: Throughput too low: 90 writes/s', 'Slowest request took too long: 1.2s', 'Stddev too high: 0.2s', 'FAIL']);
  });

  it('has no verdict when etcdctl failed before judging', () => {
    expect(parseCheckPerf('')).to.deep.equal({ passed: null, writesPerSecond: null, slowestSeconds: null, stddevSeconds: null, verdictLines: [] });
  });
});
