import { expect } from 'chai';
import { must } from '../test/harness/must.js';
import { errorCount, parseToolOutput } from './etcd-tool-output.js';

// As etcd's benchmark tool 3.4.23 printed them with --precise (histogram bars shortened).
const putOutput = '\r 0 / 200    0.00%\r 200 / 200  100.00% 0s\n\nSummary:\n' +
  '  Total:\t0.055274428 secs.\n  Slowest:\t0.003415508 secs.\n  Fastest:\t0.000431079 secs.\n' +
  '  Average:\t0.0010922580500000003 secs.\n  Stddev:\t0.0005684724540357583 secs.\n  Requests/sec:\t3618.309718193737\n\n' +
  'Response time histogram:\n  0.000431079 [1]\t|\n  0.0007295219 [51]\t|∎∎∎∎\n\n' +
  'Latency distribution:\n  10% in 0.000635152 secs.\n  50% in 0.000960345 secs.\n  99% in 0.00338943 secs.\n  99.9% in 0.003415508 secs.\n\n';

const watchOutput = '\r 0 / 4    0.00%\r 4 / 4  100.00% 0s\nWatch creation summary:\n\nSummary:\n' +
  '  Total:\t0.001589228 secs.\n  Slowest:\t0.001303985 secs.\n  Fastest:\t0.000208911 secs.\n  Average:\t0.000730076 secs.\n' +
  '  Stddev:\t0.0004296678301583678 secs.\n  Requests/sec:\t2516.9453344642807\n\nResponse time histogram:\n  0.000208911 [1]\t|∎∎\n\n' +
  'Latency distribution:\n  10% in 0.000442857 secs.\n  50% in 0.001303985 secs.\n' +
  '\r 0 / 8    0.00%\r 8 / 8  100.00% 0s\nWatch events received summary:\n\nSummary:\n' +
  '  Total:\t0.004492201 secs.\n  Slowest:\t7e-08 secs.\n  Fastest:\t4e-08 secs.\n  Average:\t5.875e-08 secs.\n' +
  '  Stddev:\t9.270248108869579e-09 secs.\n  Requests/sec:\t1780.8642133332858\n\nResponse time histogram:\n  4e-08 [1]\t|∎\n\n' +
  'Latency distribution:\n  10% in 5e-08 secs.\n  50% in 6e-08 secs.\n';

describe('bench etcd-tool output', () => {
  it('reads a summary, its percentiles and no errors', () => {
    const [summary, ...rest] = parseToolOutput(putOutput);
    expect(rest).to.deep.equal([]);
    expect(summary).to.deep.equal({
      title: null,
      totalSeconds: 0.055274428,
      slowestSeconds: 0.003415508,
      fastestSeconds: 0.000431079,
      averageSeconds: 0.0010922580500000003,
      stddevSeconds: 0.0005684724540357583,
      requestsPerSecond: 3618.309718193737,
      percentileSeconds: { '10': 0.000635152, '50': 0.000960345, '99': 0.00338943, '99.9': 0.003415508 },
      errors: {},
    });
  });

  it('reads both watch summaries by their titles, Go %g exponents included', () => {
    const summaries = parseToolOutput(watchOutput);
    expect(summaries.map((summary) => summary.title)).to.deep.equal(['Watch creation summary:', 'Watch events received summary:']);
    expect(summaries[0]?.percentileSeconds).to.deep.equal({ '10': 0.000442857, '50': 0.001303985 });
    expect(summaries[1]).to.include({ requestsPerSecond: 1780.8642133332858, slowestSeconds: 7e-8, stddevSeconds: 9.270248108869579e-9 });
  });

  it('counts failed requests from the error distribution', () => {
    const withErrors = `${putOutput}\nError distribution:\n  [3]\tetcdserver: request timed out\n  [1]\trpc error: code = Unavailable desc = transport is closing\n`;
    const summary = must(parseToolOutput(withErrors)[0], 'a summary');
    expect(summary.errors).to.deep.equal({ 'etcdserver: request timed out': 3, 'rpc error: code = Unavailable desc = transport is closing': 1 });
    expect(errorCount(summary)).to.equal(4);
  });

  it('refuses a summary it cannot read in one sentence', () => {
    expect(() => parseToolOutput('\nSummary:\n  Total:\t0.5 secs.\n')).to.throw('etcd benchmark output: a summary without slowestSeconds, fastestSeconds, averageSeconds, stddevSeconds, requestsPerSecond');
    expect(() => parseToolOutput('\nSummary:\n  Total:\tNaN secs.\n')).to.throw('etcd benchmark output: no number in');
    expect(parseToolOutput('bench with linearizable range\n')).to.deep.equal([]);
  });
});
