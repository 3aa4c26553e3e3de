import { expect } from 'chai';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ConfigError, FlagSyntaxError, parseCommandLine, type ServerConfig } from './config.js';

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

describe('config: client TLS (--cert-file, --key-file, --trusted-ca-file, --client-cert-auth)', () => {
  const https = ['--listen-client-urls', 'https://127.0.0.1:2379', '--advertise-client-urls', 'https://127.0.0.1:2379'];

  it('takes the TLS flags and an https:// client URL', () => {
    const config = configOf([...https, '--cert-file', 'c.pem', '--key-file', 'k.pem', '--trusted-ca-file', 'ca.pem', '--client-cert-auth']);
    expect(config.clientTls).to.deep.equal({ certFile: 'c.pem', keyFile: 'k.pem', trustedCaFile: 'ca.pem', clientCertAuth: true });
    expect(config.listenClientUrls).to.deep.equal(['https://127.0.0.1:2379']);
  });

  it('defaults to no TLS and takes --client-cert-auth=true / =false as Go\'s flag package does', () => {
    expect(configOf([]).clientTls).to.deep.equal({ certFile: undefined, keyFile: undefined, trustedCaFile: undefined, clientCertAuth: false });
    expect(configOf(['--trusted-ca-file', 'ca.pem', '--client-cert-auth=true']).clientTls.clientCertAuth).to.equal(true);
    expect(configOf(['--client-cert-auth=false']).clientTls.clientCertAuth).to.equal(false);
  });

  it('refuses an https:// client URL without --cert-file and --key-file, in etcd\'s words', () => {
    expect(() => configOf(https)).to.throw(ConfigError,
      'TLS key/cert (--cert-file, --key-file) must be provided for client url https://127.0.0.1:2379 with HTTPS scheme');
  });

  it('refuses a --cert-file without --key-file, and --client-cert-auth without --trusted-ca-file', () => {
    expect(() => configOf(['--cert-file', 'c.pem'])).to.throw(ConfigError, '--cert-file and --key-file must be given together');
    expect(() => configOf(['--client-cert-auth'])).to.throw(ConfigError, '--client-cert-auth needs --trusted-ca-file');
  });

  it('refuses https:// peer URLs (peer TLS is not supported yet)', () => {
    expect(() => configOf(['--listen-peer-urls', 'https://127.0.0.1:2380'])).to.throw(ConfigError, /peer TLS is not supported yet/);
  });

  it('a flag that does not parse is a FlagSyntaxError (usage, exit 2); a value that cannot be used is not', () => {
    expect(() => configOf(['--auto-tls'])).to.throw(FlagSyntaxError);
    expect(() => configOf(https)).to.throw(ConfigError).that.is.not.instanceOf(FlagSyntaxError);
  });

  it('reads the TLS keys of a config file, at the top level or under client-transport-security as etcd writes them', () => {
    const dir = mkdtempSync(join(tmpdir(), 'cairn-config-'));
    try {
      const file = join(dir, 'cairn.yaml');
      writeFileSync(file, [
        'listen-client-urls: https://127.0.0.1:2379',
        'client-transport-security:',
        '  cert-file: c.pem',
        '  key-file: k.pem',
        '  trusted-ca-file: ca.pem',
        '  client-cert-auth: true',
        '',
      ].join('\n'));
      expect(configOf(['--config-file', file]).clientTls).to.deep.equal({ certFile: 'c.pem', keyFile: 'k.pem', trustedCaFile: 'ca.pem', clientCertAuth: true });
      writeFileSync(file, 'cert-file: c.pem\nkey-file: k.pem\nclient-transport-security:\n  cert-file: ""\n');
      expect(configOf(['--config-file', file]).clientTls.certFile).to.equal('c.pem');
      writeFileSync(file, 'client-transport-security:\n  auto-tls: true\n');
      expect(() => configOf(['--config-file', file])).to.throw(ConfigError, /unknown key "client-transport-security.auto-tls"/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
