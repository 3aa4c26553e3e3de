// TLS on the client port, side by side: one etcd and one cairn started with
// the same certificates and the same flags (--cert-file, --key-file,
// --trusted-ca-file, --client-cert-auth), the same etcdctl commands on both.
// The certificates are made for this run (harness/tls-fixture.ts).
import { expect } from 'chai';
import { credentials, Metadata, status, type ServiceError } from '@grpc/grpc-js';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { KVClient, RangeRequest } from '../../proto/gen/etcdserverpb/rpc.js';
import { etcdctl, type EtcdctlResult } from '../harness/etcdctl.js';
import { etcdAvailable, freePort, startCairn, startEtcd, type ServerHandle, type ServerKind, type ServerTls } from '../harness/launcher.js';
import { runUntilRefused, type Refusal } from '../harness/refusal.js';
import { makeTlsFiles } from '../harness/tls-fixture.js';
import { normaliseRun } from './normalise.js';
import { tlsPair, type TlsServers } from './tls-pair.js';
import { execFile } from 'node:child_process';

/** curl with `args`: its exit code and what it printed (curl is the HTTP client operators script with). */
function curlRun(args: string[]): Promise<{ code: number; stdout: string }> {
  return new Promise((resolve) => {
    execFile('curl', args, (error, stdout) => resolve({ code: error === null ? 0 : typeof error.code === 'number' ? error.code : -1, stdout }));
  });
}

/** etcdctl's bounds, so that a refused connection fails within seconds on both. */
const timeouts = ['--dial-timeout=2s', '--command-timeout=4s'];

function must<T>(value: T | undefined): T {
  if (value === undefined) throw new Error('the pair did not start');
  return value;
}

/** Runs etcdctl on both servers; returns [etcd's, cairn's] results, each normalised for its own endpoint. */
async function onBoth(pair: TlsServers, endpointOf: (server: ServerHandle) => string, args: string[]): Promise<[EtcdctlResult, EtcdctlResult]> {
  const [etcdResult, cairnResult] = await Promise.all([pair.etcd, pair.cairn].map((server) => etcdctl(endpointOf(server), [...timeouts, ...args])));
  return [must(etcdResult), must(cairnResult)];
}

function expectSame(pair: TlsServers, [etcdResult, cairnResult]: [EtcdctlResult, EtcdctlResult], args: string[]): void {
  expect(normaliseRun(cairnResult, pair.cairn.endpoint, args), `cairn: ${cairnResult.stderr}`).to.deep.equal(normaliseRun(etcdResult, pair.etcd.endpoint, args));
}

const https = (server: ServerHandle) => `https://${server.endpoint}`;

/**
 * Asserts that etcdctl `args` fail on etcd as a refused connection does (the
 * Go client only sees its dial deadline pass, whatever the TLS failure was)
 * and print the same on cairn.
 */
async function refusedOnBoth(pair: TlsServers, endpointOf: (server: ServerHandle) => string, options: string[], args: string[]): Promise<void> {
  const results = await onBoth(pair, endpointOf, [...options, ...args]);
  expect(results[0].code).to.equal(1);
  expect(results[0].stderr).to.include('Error: context deadline exceeded');
  expectSame(pair, results, args);
}

/** A Range over grpc-js with `channel` credentials: the gRPC code it ends with (OK when it answers). */
async function rangeCode(server: ServerHandle, channel: ReturnType<typeof credentials.createSsl>): Promise<status> {
  const client = new KVClient(server.endpoint, channel);
  try {
    return await new Promise<status>((resolve) => {
      client.range(RangeRequest.fromPartial({ key: Buffer.from('tls') }), new Metadata(), { deadline: Date.now() + 3_000 },
        (error: ServiceError | null) => resolve(error === null ? status.OK : error.code));
    });
  } finally {
    client.close();
  }
}

describe('compat: TLS on the client port (--cert-file, --key-file)', function () {
  const pair = tlsPair((files) => ({
    certFile: files.serverCertFile,
    keyFile: files.serverKeyFile,
    probe: { caFile: files.caFile },
  }));

  it('etcdctl --cacert puts and gets over https on both', async () => {
    const cacert = [`--cacert=${pair.files().caFile}`];
    const put = ['put', 'tls/a', '1'];
    const putResults = await onBoth(pair.servers(), https, [...cacert, ...put]);
    expect(putResults[0].stdout).to.equal('OK\n');
    expectSame(pair.servers(), putResults, put);
    const get = ['get', 'tls/a', '-w', 'json'];
    const getResults = await onBoth(pair.servers(), https, [...cacert, ...get]);
    expect(getResults[0].stdout).to.include('"count":1');
    expectSame(pair.servers(), getResults, get);
  });

  it('etcdctl endpoint status, hashkv and defrag (per-endpoint connections) over https on both', async () => {
    const cacert = [`--cacert=${pair.files().caFile}`];
    for (const args of [['endpoint', 'status'], ['endpoint', 'hashkv'], ['defrag']]) {
      const results = await onBoth(pair.servers(), https, [...cacert, ...args]);
      expect(results[0].code, `etcd: ${results[0].stderr}`).to.equal(0);
      expectSame(pair.servers(), results, args);
    }
  });

  it('a plaintext client (etcdctl with an http:// endpoint) cannot talk to the https port of either', async () => {
    await refusedOnBoth(pair.servers(), (server) => `http://${server.endpoint}`, [], ['get', 'tls/a']);
  });

  it('a grpc-js plaintext channel gets UNAVAILABLE from both', async () => {
    const { etcd, cairn } = pair.servers();
    const codes = await Promise.all([etcd, cairn].map((server) => rangeCode(server, credentials.createInsecure())));
    expect(codes).to.deep.equal([status.UNAVAILABLE, status.UNAVAILABLE]);
  });

  it('etcdctl without --cacert (the system roots) refuses both servers\' certificate', async () => {
    await refusedOnBoth(pair.servers(), https, [], ['get', 'tls/a']);
  });
});

// etcd 3.4 requires client certificates when --trusted-ca-file is given, with or without --client-cert-auth.
for (const clientCertAuth of [true, false]) {
  describe(`compat: TLS with --trusted-ca-file${clientCertAuth ? ' and --client-cert-auth' : ' alone'}`, function () {
    const pair = tlsPair((files) => ({
      certFile: files.serverCertFile,
      keyFile: files.serverKeyFile,
      trustedCaFile: files.caFile,
      clientCertAuth,
      probe: { caFile: files.caFile, certFile: files.clientCertFile, keyFile: files.clientKeyFile },
    }));

    it('etcdctl with a client certificate signed by the trusted CA puts and gets on both', async () => {
      const files = pair.files();
      const tls = [`--cacert=${files.caFile}`, `--cert=${files.clientCertFile}`, `--key=${files.clientKeyFile}`];
      const put = ['put', 'tls/cert', 'v'];
      const putResults = await onBoth(pair.servers(), https, [...tls, ...put]);
      expect(putResults[0].stdout).to.equal('OK\n');
      expectSame(pair.servers(), putResults, put);
      const get = ['get', 'tls/cert', '-w', 'json'];
      const getResults = await onBoth(pair.servers(), https, [...tls, ...get]);
      expect(getResults[0].stdout).to.include('"count":1');
      expectSame(pair.servers(), getResults, get);
    });

    it('curl gets /health over https with the client certificate from both, and nothing without one', async () => {
      const files = pair.files();
      const { etcd, cairn } = pair.servers();
      const curl = (server: ServerHandle, certificate: string[]) => curlRun(['-sS', '--max-time', '5', '--cacert', files.caFile, ...certificate, `https://${server.endpoint}/health`]);
      const withCertificate = ['--cert', files.clientCertFile, '--key', files.clientKeyFile];
      expect(await Promise.all([curl(etcd, withCertificate), curl(cairn, withCertificate)])).to.deep.equal([
        { code: 0, stdout: '{"health":"true"}' },
        { code: 0, stdout: '{"health":"true"}' },
      ]);
      const refused = await Promise.all([curl(etcd, []), curl(cairn, [])]);
      for (const result of refused) expect(result.code, 'curl without a client certificate').to.not.equal(0);
    });

    it('a client without a certificate is refused by both', async () => {
      await refusedOnBoth(pair.servers(), https, [`--cacert=${pair.files().caFile}`], ['get', 'tls/cert']);
      const { etcd, cairn } = pair.servers();
      const ca = readFileSync(pair.files().caFile);
      const codes = await Promise.all([etcd, cairn].map((server) => rangeCode(server, credentials.createSsl(ca))));
      expect(codes).to.deep.equal([status.UNAVAILABLE, status.UNAVAILABLE]);
    });

    it('a client certificate signed by another CA is refused by both', async () => {
      const files = pair.files();
      const tls = [`--cacert=${files.caFile}`, `--cert=${files.otherClientCertFile}`, `--key=${files.otherClientKeyFile}`];
      await refusedOnBoth(pair.servers(), https, tls, ['get', 'tls/cert']);
      const { etcd, cairn } = pair.servers();
      const other = credentials.createSsl(readFileSync(files.caFile), readFileSync(files.otherClientKeyFile), readFileSync(files.otherClientCertFile));
      const codes = await Promise.all([etcd, cairn].map((server) => rangeCode(server, other)));
      expect(codes).to.deep.equal([status.UNAVAILABLE, status.UNAVAILABLE]);
    });

    // As etcd: the common name of the client certificate (here "root") is the user of a request
    // without a token only under --client-cert-auth; with the trusted CA alone it names nobody.
    it(`with auth enabled, a request without a token runs as the certificate's common name: ${clientCertAuth ? 'yes' : 'no'}`, async () => {
      const files = pair.files();
      const tls = [`--cacert=${files.caFile}`, `--cert=${files.clientCertFile}`, `--key=${files.clientKeyFile}`];
      for (const setup of [['user', 'add', 'root:secret'], ['user', 'grant-role', 'root', 'root'], ['auth', 'enable']]) {
        const results = await onBoth(pair.servers(), https, [...tls, ...setup]);
        expectSame(pair.servers(), results, setup);
      }
      const put = ['put', 'tls/cn', 'v'];
      const putResults = await onBoth(pair.servers(), https, [...tls, ...put]);
      if (clientCertAuth) expect(putResults[0].stdout).to.equal('OK\n');
      else expect(putResults[0].stderr).to.include('etcdserver: user name is empty');
      expectSame(pair.servers(), putResults, put);
      const disable = ['--user', 'root:secret', 'auth', 'disable'];
      expectSame(pair.servers(), await onBoth(pair.servers(), https, [...tls, ...disable]), disable);
    });
  });
}

describe('compat: TLS startup refusals', function () {
  before(function () {
    if (!etcdAvailable()) this.skip();
  });

  /** Runs a server of `kind` with an https:// client URL and `extra` flags; resolves with its exit code and output. */
  async function refused(kind: ServerKind, extra: string[]): Promise<Refusal & { url: string }> {
    const url = `https://127.0.0.1:${await freePort()}`;
    const peerUrl = `http://127.0.0.1:${await freePort()}`;
    const refusal = await runUntilRefused(kind, url, () => [
      '--listen-client-urls', url, '--advertise-client-urls', url,
      '--listen-peer-urls', peerUrl, '--initial-advertise-peer-urls', peerUrl, '--initial-cluster', `default=${peerUrl}`, ...extra,
    ]);
    return { ...refusal, url };
  }

  it('an https:// client URL without --cert-file and --key-file: both exit 1 with etcd\'s sentence', async function () {
    this.timeout(30_000);
    const [etcd, cairn] = await Promise.all([refused('etcd', []), refused('cairn', [])]);
    expect(etcd.code).to.equal(1);
    expect(cairn.code).to.equal(1);
    const sentence = (url: string) => `TLS key/cert (--cert-file, --key-file) must be provided for client url ${url} with HTTPS scheme`;
    expect(etcd.output).to.include(sentence(etcd.url));
    expect(cairn.output).to.include(sentence(cairn.url));
  });

  it('a --cert-file that does not exist: both exit 1 naming the file', async function () {
    this.timeout(30_000);
    const files = makeTlsFiles();
    try {
      const missing = join(files.dir, 'missing.pem');
      const flags = ['--cert-file', missing, '--key-file', files.serverKeyFile];
      const [etcd, cairn] = await Promise.all([refused('etcd', flags), refused('cairn', flags)]);
      expect(etcd.code).to.equal(1);
      expect(cairn.code).to.equal(1);
      expect(etcd.output).to.include(`open ${missing}: no such file or directory`);
      expect(cairn.output).to.include(`cannot read --cert-file ${missing}: ENOENT: no such file or directory`);
    } finally {
      files.remove();
    }
  });

  it('cairn refuses a key that does not match the certificate, before creating its data directory', async function () {
    this.timeout(30_000);
    const files = makeTlsFiles();
    try {
      const cairn = await refused('cairn', ['--cert-file', files.serverCertFile, '--key-file', files.clientKeyFile]);
      expect(cairn.code).to.equal(1);
      expect(cairn.output).to.match(/cairn: cannot use the TLS files .*key values mismatch/);
      expect(cairn.dataDirCreated).to.equal(false);
    } finally {
      files.remove();
    }
  });
});
