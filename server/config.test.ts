import { expect } from 'chai';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ConfigError, FlagSyntaxError, parseCommandLine, type Environment, type ServerConfig } from './config.js';

/** Runs `check` with the path of a config file in a temporary directory, removed afterwards. */
function withConfigFile(check: (file: string) => void): void {
  const dir = mkdtempSync(join(tmpdir(), 'cairn-config-'));
  try {
    check(join(dir, 'cairn.yaml'));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** The run a command line asks for, with `environment` (none by default: the test's own environment does not count). */
function runOf(argv: string[], environment: Environment = {}): { config: ServerConfig; warnings: string[] } {
  const parsed = parseCommandLine(argv, environment);
  if (parsed.kind !== 'run') throw new Error(`expected a run, got ${parsed.kind}`);
  return parsed;
}

function configOf(argv: string[], environment: Environment = {}): ServerConfig {
  return runOf(argv, environment).config;
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
    expect(config.clientTls).to.deep.equal({ certFile: 'c.pem', keyFile: 'k.pem', trustedCaFile: 'ca.pem', clientCertAuth: true, autoTls: false });
    expect(config.listenClientUrls).to.deep.equal(['https://127.0.0.1:2379']);
  });

  it('defaults to no TLS and takes --client-cert-auth=true / =false as Go\'s flag package does', () => {
    expect(configOf([]).clientTls).to.deep.equal({ certFile: undefined, keyFile: undefined, trustedCaFile: undefined, clientCertAuth: false, autoTls: false });
    expect(configOf(['--trusted-ca-file', 'ca.pem', '--client-cert-auth=true']).clientTls.clientCertAuth).to.equal(true);
    expect(configOf(['--client-cert-auth=false']).clientTls.clientCertAuth).to.equal(false);
  });

  it('serves the web console unless --enable-ui=false (flag, ETCD_ENABLE_UI or the config file) says not to', () => {
    expect(configOf([]).enableUi).to.equal(true);
    expect(configOf(['--enable-ui']).enableUi).to.equal(true);
    expect(configOf(['--enable-ui=true']).enableUi).to.equal(true);
    expect(configOf(['--enable-ui=false']).enableUi).to.equal(false);
    expect(configOf([], { ETCD_ENABLE_UI: 'false' }).enableUi).to.equal(false);
    expect(() => configOf(['--enable-ui=false'], { ETCD_ENABLE_UI: 'true' })).to.throw(ConfigError, /conflicting environment variable "ETCD_ENABLE_UI"/);
    withConfigFile((file) => {
      writeFileSync(file, 'enable-ui: false\n');
      expect(configOf(['--config-file', file]).enableUi).to.equal(false);
    });
  });

  it('refuses an https:// client URL without --cert-file and --key-file, in etcd\'s words', () => {
    expect(() => configOf(https)).to.throw(ConfigError,
      'TLS key/cert (--cert-file, --key-file) must be provided for client url https://127.0.0.1:2379 with HTTPS scheme');
  });

  it('refuses a --cert-file without --key-file, and --client-cert-auth without --trusted-ca-file', () => {
    expect(() => configOf(['--cert-file', 'c.pem'])).to.throw(ConfigError, '--cert-file and --key-file must be given together');
    expect(() => configOf(['--client-cert-auth'])).to.throw(ConfigError, '--client-cert-auth needs --trusted-ca-file');
  });

  it('takes --auto-tls instead of --cert-file and --key-file for an https:// client URL', () => {
    expect(configOf([...https, '--auto-tls']).clientTls.autoTls).to.equal(true);
    expect(configOf([...https, '--auto-tls=true']).clientTls.autoTls).to.equal(true);
    expect(() => configOf([...https, '--auto-tls=false'])).to.throw(ConfigError, /must be provided for client url/);
  });

  it('a flag that does not parse is a FlagSyntaxError (usage, exit 2); a value that cannot be used is not', () => {
    expect(() => configOf(['--no-such-flag', 'x'])).to.throw(FlagSyntaxError);
    expect(() => configOf(https)).to.throw(ConfigError).that.is.not.instanceOf(FlagSyntaxError);
  });

  it('reads the TLS keys of a config file, at the top level or under client-transport-security as etcd writes them', () => {
    withConfigFile((file) => {
      writeFileSync(file, [
        'listen-client-urls: https://127.0.0.1:2379',
        'client-transport-security:',
        '  cert-file: c.pem',
        '  key-file: k.pem',
        '  trusted-ca-file: ca.pem',
        '  client-cert-auth: true',
        '',
      ].join('\n'));
      expect(configOf(['--config-file', file]).clientTls).to.deep.equal({ certFile: 'c.pem', keyFile: 'k.pem', trustedCaFile: 'ca.pem', clientCertAuth: true, autoTls: false });
      writeFileSync(file, 'cert-file: c.pem\nkey-file: k.pem\nclient-transport-security:\n  cert-file: ""\n');
      expect(configOf(['--config-file', file]).clientTls.certFile).to.equal('c.pem');
      writeFileSync(file, 'client-transport-security:\n  auto-tls: true\n');
      expect(configOf(['--config-file', file]).clientTls.autoTls).to.equal(true);
      writeFileSync(file, 'client-transport-security:\n  crl-file: crl.pem\n');
      expect(runOf(['--config-file', file]).warnings).to.deep.equal([`config file ${file}: key "client-transport-security.crl-file" is not used by cairn`]);
    });
  });
});

describe('config: peer TLS (--peer-cert-file, --peer-key-file, --peer-trusted-ca-file, --peer-client-cert-auth, --peer-auto-tls)', () => {
  const httpsPeers = [
    '--listen-peer-urls', 'https://127.0.0.1:2380',
    '--initial-advertise-peer-urls', 'https://127.0.0.1:2380',
    '--initial-cluster', 'default=https://127.0.0.1:2380',
  ];
  const peerFiles = ['--peer-cert-file', 'p.pem', '--peer-key-file', 'pk.pem', '--peer-trusted-ca-file', 'ca.pem'];

  it('takes the peer TLS flags and https:// peer URLs in every peer URL flag', () => {
    const config = configOf([...httpsPeers, ...peerFiles, '--peer-client-cert-auth']);
    expect(config.peerTls).to.deep.equal({ certFile: 'p.pem', keyFile: 'pk.pem', trustedCaFile: 'ca.pem', clientCertAuth: true, autoTls: false });
    expect(config.listenPeerUrls).to.deep.equal(['https://127.0.0.1:2380']);
    expect(config.initialAdvertisePeerUrls).to.deep.equal(['https://127.0.0.1:2380']);
    expect(config.initialCluster).to.equal('default=https://127.0.0.1:2380');
    // The client side is its own: nothing of it was given.
    expect(config.clientTls.certFile).to.equal(undefined);
  });

  it('takes --peer-client-cert-auth=true / =false and --peer-auto-tls=true as Go\'s flag package does', () => {
    expect(configOf([...peerFiles, '--peer-client-cert-auth=true']).peerTls.clientCertAuth).to.equal(true);
    expect(configOf([...peerFiles, '--peer-client-cert-auth=false']).peerTls.clientCertAuth).to.equal(false);
    expect(configOf([...httpsPeers, '--peer-auto-tls=true']).peerTls.autoTls).to.equal(true);
  });

  it('refuses an https:// listen peer URL without a peer certificate, in etcd 3.4\'s words', () => {
    expect(() => configOf(httpsPeers)).to.throw(ConfigError, 'cannot listen on TLS for 127.0.0.1:2380: KeyFile and CertFile are not presented');
    // The client certificate is not the peers': etcd refuses this too.
    expect(() => configOf([...httpsPeers, '--cert-file', 'c.pem', '--key-file', 'k.pem'])).to.throw(ConfigError, /KeyFile and CertFile are not presented/);
  });

  it('takes --peer-auto-tls instead of a peer certificate', () => {
    const config = configOf([...httpsPeers, '--peer-auto-tls']);
    expect(config.peerTls).to.deep.equal({ certFile: undefined, keyFile: undefined, trustedCaFile: undefined, clientCertAuth: false, autoTls: true });
  });

  it('refuses one peer file without the other, and --peer-client-cert-auth without --peer-trusted-ca-file', () => {
    expect(() => configOf(['--peer-cert-file', 'p.pem'])).to.throw(ConfigError, '--peer-cert-file and --peer-key-file must be given together');
    expect(() => configOf(['--peer-cert-file', 'p.pem', '--peer-key-file', 'pk.pem', '--peer-client-cert-auth']))
      .to.throw(ConfigError, '--peer-client-cert-auth needs --peer-trusted-ca-file');
    // With --peer-auto-tls etcd ignores both (the server logs it), so cairn does not refuse them.
    expect(configOf([...httpsPeers, '--peer-auto-tls', '--peer-client-cert-auth']).peerTls.clientCertAuth).to.equal(true);
  });

  it('reads peer-transport-security from a config file as etcd writes it, beside client-transport-security', () => {
    withConfigFile((file) => {
      writeFileSync(file, [
        'listen-peer-urls: https://127.0.0.1:2380',
        'initial-advertise-peer-urls: https://127.0.0.1:2380',
        'initial-cluster: default=https://127.0.0.1:2380',
        'client-transport-security:',
        '  auto-tls: false',
        'peer-transport-security:',
        '  cert-file: p.pem',
        '  key-file: pk.pem',
        '  trusted-ca-file: ca.pem',
        '  client-cert-auth: true',
        '  auto-tls: false',
        'cipher-suites: [TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256, TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256]',
        '',
      ].join('\n'));
      const config = configOf(['--config-file', file]);
      expect(config.peerTls).to.deep.equal({ certFile: 'p.pem', keyFile: 'pk.pem', trustedCaFile: 'ca.pem', clientCertAuth: true, autoTls: false });
      expect(config.tlsProtocol.cipherSuites).to.deep.equal(['TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256', 'TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256']);
      writeFileSync(file, 'peer-transport-security:\n  allowed-cn: m1\n');
      expect(runOf(['--config-file', file]).warnings).to.deep.equal([`config file ${file}: key "peer-transport-security.allowed-cn" is not used by cairn`]);
      writeFileSync(file, 'peer-transport-security: yes\n');
      expect(() => configOf(['--config-file', file])).to.throw(ConfigError, /peer-transport-security must be a mapping/);
    });
  });
});

describe('config: --cipher-suites, --tls-min-version, --tls-max-version', () => {
  it('defaults to no cipher list, TLS 1.2 at least and no maximum (etcd 3.5\'s defaults)', () => {
    expect(configOf([]).tlsProtocol).to.deep.equal({ cipherSuites: [], minVersion: 'TLS1.2', maxVersion: undefined });
  });

  it('takes Go\'s cipher suite names, comma-separated, and TLS1.2 / TLS1.3', () => {
    const config = configOf(['--cipher-suites', 'TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256, TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305', '--tls-max-version', 'TLS1.2']);
    expect(config.tlsProtocol).to.deep.equal({
      cipherSuites: ['TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256', 'TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305'], minVersion: 'TLS1.2', maxVersion: 'TLS1.2',
    });
    expect(configOf(['--tls-min-version', 'TLS1.3']).tlsProtocol.minVersion).to.equal('TLS1.3');
  });

  it('refuses an unknown cipher suite in etcd\'s words, one OpenSSL does not offer, and OpenSSL\'s own names', () => {
    expect(() => configOf(['--cipher-suites', 'TLS_FOO'])).to.throw(ConfigError, 'unexpected TLS cipher suite "TLS_FOO"');
    expect(() => configOf(['--cipher-suites', 'ECDHE-RSA-AES128-GCM-SHA256'])).to.throw(ConfigError, 'unexpected TLS cipher suite "ECDHE-RSA-AES128-GCM-SHA256"');
    expect(() => configOf(['--cipher-suites', 'TLS_RSA_WITH_RC4_128_SHA'])).to.throw(ConfigError, /TLS cipher suite "TLS_RSA_WITH_RC4_128_SHA" is not offered by this server's OpenSSL/);
  });

  it('refuses an unknown version, a minimum above the maximum, and cipher suites with TLS 1.3 only (etcd 3.5\'s words)', () => {
    expect(() => configOf(['--tls-min-version', 'TLS1.1'])).to.throw(ConfigError, '--tls-min-version must be one of TLS1.2, TLS1.3, not "TLS1.1"');
    expect(() => configOf(['--tls-min-version', 'TLS1.3', '--tls-max-version', 'TLS1.2'])).to.throw(ConfigError, 'min version (TLS1.3) is greater than max version (TLS1.2)');
    expect(() => configOf(['--tls-min-version', 'TLS1.3', '--cipher-suites', 'TLS_AES_128_GCM_SHA256']))
      .to.throw(ConfigError, 'cipher suites cannot be configured when only TLS1.3 is enabled');
  });

  it('takes the auth flags: simple tokens by default, etcd\'s jwt options, the token TTL and the bcrypt cost', () => {
    expect(configOf([]).auth).to.deep.equal({ token: { kind: 'simple' }, tokenTtlSeconds: 300, bcryptCost: 10 });
    const jwt = configOf(['--auth-token', 'jwt,pub-key=/k.pub,priv-key=/k.key,sign-method=ES256,ttl=1h30m,extra=1', '--bcrypt-cost', '4']).auth;
    expect(jwt.token).to.deep.equal({
      kind: 'jwt', options: { signMethod: 'ES256', publicKeyFile: '/k.pub', privateKeyFile: '/k.key', ttlMs: 5_400_000 }, unknownOptions: ['extra'],
    });
    expect(jwt.bcryptCost).to.equal(4);
    expect(configOf(['--auth-token', 'jwt,sign-method=HS256,priv-key=/s']).auth.token).to.deep.include({ kind: 'jwt' });
  });

  it('refuses an unknown token kind or sign method, a malformed jwt option, and a bcrypt cost outside 4..31', () => {
    expect(() => configOf(['--auth-token', 'oauth'])).to.throw(ConfigError, '--auth-token must be simple or jwt,…, not "oauth"');
    expect(() => configOf(['--auth-token', 'jwt,sign-method=RS1'])).to.throw(ConfigError, /sign-method must be one of HS256, .* not "RS1"/);
    expect(() => configOf(['--auth-token', 'jwt,sign-method=RS256,ttl'])).to.throw(ConfigError, '"ttl" is not name=value');
    expect(() => configOf(['--auth-token', 'jwt,sign-method=RS256,ttl=soon'])).to.throw(ConfigError, 'ttl must be a duration like 5m or 30s, not "soon"');
    expect(() => configOf(['--bcrypt-cost', '3'])).to.throw(ConfigError, '--bcrypt-cost must be an integer >= 4, not "3"');
    expect(() => configOf(['--bcrypt-cost', '32'])).to.throw(ConfigError, '--bcrypt-cost must be an integer from 4 to 31');
  });
});

describe('config: ETCD_* environment variables and etcd\'s config file', () => {
  it('sets each flag the command line does not set from ETCD_<FLAG>, booleans as Go reads them', () => {
    const config = configOf(['--name', 'm1'], {
      ETCD_LISTEN_CLIENT_URLS: 'http://127.0.0.1:23790', ETCD_MAX_TXN_OPS: '7', ETCD_CLIENT_CERT_AUTH: 'T', ETCD_TRUSTED_CA_FILE: 'ca.pem',
      ETCD_QUOTA_BACKEND_BYTES: '-1', ETCD_DATA_DIR: '', PATH: '/usr/bin',
    });
    expect([config.name, config.listenClientUrls, config.maxTxnOps, config.clientTls.clientCertAuth, config.quotaBackendBytes, config.dataDir])
      .to.deep.equal(['m1', ['http://127.0.0.1:23790'], 7, true, -1, 'm1.cairn']);
  });

  it('refuses a variable beside its flag on the command line, an empty one too, in etcd\'s words', () => {
    const conflict = 'conflicting environment variable "ETCD_NAME" is shadowed by corresponding command-line flag (either unset environment variable or disable flag)';
    expect(() => configOf(['--name', 'm1'], { ETCD_NAME: 'm2' })).to.throw(ConfigError, conflict);
    expect(() => configOf(['--name', 'm1'], { ETCD_NAME: '' })).to.throw(ConfigError, conflict);
    expect(() => configOf([], { ETCD_CLIENT_CERT_AUTH: 'yes' })).to.throw(ConfigError, 'invalid value "yes" for ETCD_CLIENT_CERT_AUTH');
  });

  it('warns about an ETCD_ variable that names no flag, and reads ETCD_CONFIG_FILE (then the file alone counts, as etcd)', () => {
    expect(runOf([], { ETCD_NO_SUCH_FLAG: 'true' }).warnings).to.deep.equal(['unrecognized environment variable ETCD_NO_SUCH_FLAG=true']);
    withConfigFile((file) => {
      writeFileSync(file, 'name: from-file\nenable-v2: true\nno-such-key: true\nenable-pprof: true\n');
      const run = runOf([], { ETCD_CONFIG_FILE: file, ETCD_MAX_TXN_OPS: '7' });
      expect([run.config.name, run.config.maxTxnOps]).to.deep.equal(['from-file', 128]);
      expect(run.warnings).to.deep.equal([
        `config file ${file}: key "no-such-key" is not used by cairn`,
        '--enable-v2 is accepted for compatibility with etcd; cairn has no v2 API or store: it serves the v3 API only',
        '--enable-pprof is accepted for compatibility with etcd and has no effect in cairn',
      ]);
    });
  });

  it('takes Go durations wherever a duration is taken', () => {
    expect(configOf(['--experimental-watch-progress-notify-interval', '1m30s']).watchProgressNotifyIntervalMs).to.equal(90_000);
    expect(configOf(['--experimental-watch-progress-notify-interval', '1.5s']).watchProgressNotifyIntervalMs).to.equal(1_500);
    expect(() => configOf(['--experimental-watch-progress-notify-interval', '10'])).to.throw(ConfigError, 'time: missing unit in duration "10"');
  });
});

describe('config: --auto-compaction-mode and --auto-compaction-retention', () => {
  it('is off by default and with retention 0; a bare number is hours (periodic) or revisions (revision); periodic takes a Go duration', () => {
    expect(configOf([]).autoCompaction).to.equal(undefined);
    expect(configOf(['--auto-compaction-retention', '0']).autoCompaction).to.equal(undefined);
    expect(configOf(['--auto-compaction-retention', '1']).autoCompaction).to.deep.equal({ mode: 'periodic', retentionMs: 3_600_000 });
    expect(configOf(['--auto-compaction-retention', '30m']).autoCompaction).to.deep.equal({ mode: 'periodic', retentionMs: 1_800_000 });
    expect(configOf(['--auto-compaction-mode', 'revision', '--auto-compaction-retention', '1000']).autoCompaction).to.deep.equal({ mode: 'revision', retention: 1000 });
  });

  it('refuses an unknown mode and a retention it cannot read, in etcd\'s words where etcd has them', () => {
    expect(() => configOf(['--auto-compaction-mode', 'weekly', '--auto-compaction-retention', '1'])).to.throw(ConfigError, 'unsupported compaction mode weekly');
    expect(() => configOf(['--auto-compaction-retention', 'soon'])).to.throw(ConfigError, 'error parsing CompactionRetention: time: invalid duration "soon"');
    expect(() => configOf(['--auto-compaction-mode', 'revision', '--auto-compaction-retention', '1h'])).to.throw(ConfigError, 'must be a number of revisions in revision mode');
  });
});
