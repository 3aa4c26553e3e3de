import { expect } from 'chai';
import { ConfigError, parseCommandLine, type ServerConfig } from './config.js';

function configOf(argv: string[]): ServerConfig {
  const parsed = parseCommandLine(argv);
  if (parsed.kind !== 'run') throw new Error(`expected a run, got ${parsed.kind}`);
  return parsed.config;
}

describe('config: --quota-backend-bytes', () => {
  it('defaults to 2 GiB and takes 0 (the default, as etcd)', () => {
    expect(configOf([]).quotaBackendBytes).to.equal(2 * 1024 * 1024 * 1024);
    expect(configOf(['--quota-backend-bytes', '0']).quotaBackendBytes).to.equal(0);
  });

  it('takes a negative value (no quota, as etcd 3.4) after a space, as Go\'s flag package does, or after "="', () => {
    expect(configOf(['--quota-backend-bytes', '-1']).quotaBackendBytes).to.equal(-1);
    expect(configOf(['--quota-backend-bytes=-1', '--name', 'n']).quotaBackendBytes).to.equal(-1);
  });

  it('refuses what is not an integer', () => {
    expect(() => configOf(['--quota-backend-bytes', '1.5'])).to.throw(ConfigError, /--quota-backend-bytes must be an integer/);
    expect(() => configOf(['--quota-backend-bytes', '-x'])).to.throw(ConfigError);
  });
});
