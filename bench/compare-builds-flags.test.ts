import { expect } from 'chai';
import { compareRunArgs, parseCompareFlags, watchEvents, watchPutsAloneArgs, type CompareConfig } from './compare-builds-flags.js';

function config(argv: string[]): CompareConfig {
  const parsed = parseCompareFlags(argv);
  if (parsed === 'help') throw new Error('unexpected help');
  return parsed;
}

describe('bench compare-builds flags', () => {
  it('compares with HEAD over six rounds of both workloads by default', () => {
    const parsed = config([]);
    expect([parsed.base, parsed.rounds, parsed.workloads]).to.deep.equal(['HEAD', 6, ['put', 'watch']]);
    expect(config(['--base', 'main~3', '--workloads', 'watch', '--rounds', '2'])).to.include({ base: 'main~3', rounds: 2 });
  });

  it('runs the watch workload, and its puts alone, with the same keys, value, clients and count', () => {
    const tool = config(['--clients', '500', '--watch-put-total', '300']).tool;
    expect(watchEvents(tool)).to.equal(300 * 100);
    expect(compareRunArgs(tool, 'watch', 'h:1')).to.deep.equal([
      '--endpoints', 'h:1', '--conns', '10', '--clients', '100', '--precise',
      'watch', '--streams', '10', '--watch-per-stream', '100', '--watched-key-total', '10', '--key-space-size', '10', '--sequential-keys',
      '--put-total', '300', '--put-rate', '100000',
    ]);
    expect(watchPutsAloneArgs(tool, 'h:1')).to.deep.equal([
      '--endpoints', 'h:1', '--conns', '10', '--clients', '100', '--precise',
      'put', '--key-size', '32', '--val-size', '4', '--key-space-size', '10', '--sequential-keys', '--total', '300',
    ]);
    expect(compareRunArgs(tool, 'put', 'h:1').slice(0, 6)).to.deep.equal(['--endpoints', 'h:1', '--conns', '10', '--clients', '500']);
  });

  it('refuses bad flags in one sentence', () => {
    expect(() => parseCompareFlags(['--workloads', 'range'])).to.throw('--workloads takes put, watch, got "range"');
    expect(() => parseCompareFlags(['--rounds', '0'])).to.throw('--rounds must be an integer from 1 to 40, got "0"');
    expect(() => parseCompareFlags(['--base', 'main; rm -rf /'])).to.throw('--base must be a git revision');
  });
});
