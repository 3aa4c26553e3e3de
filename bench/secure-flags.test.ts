import { expect } from 'chai';
import { parseSecureFlags, secureRuns } from './secure-flags.js';

describe('bench secure-perf flags', () => {
  it('measures each configuration on both kinds back to back, alternating which goes first', () => {
    expect(secureRuns(['etcd', 'cairn'], ['plaintext', 'tls', 'auth'])).to.deep.equal([
      { target: 'etcd', security: 'plaintext' }, { target: 'cairn', security: 'plaintext' },
      { target: 'cairn', security: 'tls' }, { target: 'etcd', security: 'tls' },
      { target: 'etcd', security: 'auth' }, { target: 'cairn', security: 'auth' },
    ]);
    expect(secureRuns(['cairn'], ['plaintext', 'mtls'])).to.deep.equal([
      { target: 'cairn', security: 'plaintext' }, { target: 'cairn', security: 'mtls' },
    ]);
  });

  it('compares plaintext, tls, mtls and auth with check perf s by default; targets follow the runs', () => {
    const config = parseSecureFlags([]);
    if (config === 'help') throw new Error('unexpected help');
    expect(config.securities).to.deep.equal(['plaintext', 'tls', 'mtls', 'auth']);
    expect(config.checkPerfLoad).to.equal('s');
    expect(config.targets).to.deep.equal(config.runs.map((run) => run.target));
    expect(config.runs).to.have.length(8);
    const skipped = parseSecureFlags(['--check-perf', 'none', '--security', 'auth-user', '--target', 'cairn']);
    if (skipped === 'help') throw new Error('unexpected help');
    expect([skipped.checkPerfLoad, skipped.runs]).to.deep.equal([null, [{ target: 'cairn', security: 'auth-user' }]]);
  });

  it('refuses an unknown configuration or load in one sentence', () => {
    expect(() => parseSecureFlags(['--security', 'tls,ssl'])).to.throw('--security takes plaintext, tls, mtls, auth, auth-user, got "ssl"');
    expect(() => parseSecureFlags(['--check-perf', 'xxl'])).to.throw('--check-perf takes s, m, l, xl or none, got "xxl"');
    expect(() => parseSecureFlags(['--puts-in-flight', '0'])).to.throw('--puts-in-flight must be an integer from 1 to 1024, got "0"');
  });
});
