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

  it('has no verdict when etcdctl failed before judging', () => {
    expect(parseCheckPerf('')).to.deep.equal({ passed: null, writesPerSecond: null, slowestSeconds: null, stddevSeconds: null, verdictLines: [] });
  });
});
