import { expect } from 'chai';
import { parseEtcdToolFlags, toolArgs, type EtcdToolConfig } from './etcd-tool-flags.js';

function config(argv: string[]): EtcdToolConfig {
  const parsed = parseEtcdToolFlags(argv);
  if (parsed === 'help') throw new Error('unexpected help');
  return parsed;
}

describe('bench etcd-tool flags', () => {
  it('measures both kinds twice by default, the first kind alternating, every workload', () => {
    const parsed = config([]);
    expect(parsed.targets).to.deep.equal(['etcd', 'cairn', 'cairn', 'etcd']);
    expect(parsed.workloads).to.deep.equal(['put', 'range', 'txn-put', 'watch']);
    expect(config(['--target', 'cairn', '--repetitions', '3']).targets).to.deep.equal(['cairn', 'cairn', 'cairn']);
  });

  it('gives the tool the same command line for any server but the endpoint', () => {
    const parsed = config(['--conns', '4', '--clients', '40', '--put-total', '500', '--value-bytes', '64']);
    expect(toolArgs(parsed, 'put', '127.0.0.1:1234')).to.deep.equal([
      '--endpoints', '127.0.0.1:1234', '--conns', '4', '--clients', '40', '--precise',
      'put', '--key-size', '8', '--val-size', '64', '--key-space-size', '100000', '--sequential-keys', '--total', '500',
    ]);
    expect(toolArgs(parsed, 'range', 'h:1').slice(7)).to.deep.equal(['range', 'etcd-tool/range', '--consistency', 'l', '--total', '20000']);
    expect(toolArgs(parsed, 'txn-put', 'h:1').slice(7)).to.deep.equal([
      'txn-put', '--key-size', '8', '--val-size', '64', '--key-space-size', '100000', '--txn-ops', '1', '--total', '500',
    ]);
    expect(toolArgs(parsed, 'watch', 'h:1').slice(7)).to.deep.equal([
      'watch', '--streams', '10', '--watch-per-stream', '100', '--watched-key-total', '10', '--key-space-size', '10', '--sequential-keys',
      '--put-total', '1000', '--put-rate', '100000',
    ]);
  });

  it('refuses bad flags in one sentence', () => {
    expect(() => parseEtcdToolFlags(['--workloads', 'put,lease'])).to.throw('--workloads takes put, range, txn-put, watch, got "lease"');
    expect(() => parseEtcdToolFlags(['--range-consistency', 'x'])).to.throw('--range-consistency must be l or s, got "x"');
    expect(() => parseEtcdToolFlags(['--watch-put-rate', '0'])).to.throw('--watch-put-rate must be an integer from 1 to 1000000000, got "0"');
    expect(() => parseEtcdToolFlags(['--duration-seconds', '5'])).to.throw(/duration-seconds/);
  });
});
