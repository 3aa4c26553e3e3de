// Peer TLS and auto-TLS side by side: etcd and cairn started with the same
// --peer-* flags refuse the same peers at the TLS handshake of their peer
// port, serve clients alike with --auto-tls, and refuse the same unusable
// flags at startup with etcd's sentence. The certificates are made for this
// run (harness/tls-fixture.ts).
import { expect } from 'chai';
import { readFileSync } from 'node:fs';
import { connect } from 'node:tls';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { etcdctl } from '../harness/etcdctl.js';
import { etcdAvailable, freePort, startCairn, startEtcd, type ServerHandle, type ServerKind } from '../harness/launcher.js';
import { runUntilRefused, type Refusal } from '../harness/refusal.js';
import { makeTlsFiles, type TlsFiles } from '../harness/tls-fixture.js';

/** A peer that stays connected this long after its handshake was let in. */
const acceptedAfterMs = 1_000;

type HandshakeOutcome = 'accepted' | 'refused';

/**
 * Dials `port` over TLS as a peer would (trusting `ca`, presenting `cert`
 * and `key` when given). 'refused' when the handshake fails or the server
 * drops the connection right after it (with TLS 1.3 a server refuses a
 * client certificate after the client has finished its part).
 */
function dialPeerPort(port: number, ca: Buffer, identity: { cert: Buffer; key: Buffer } | undefined): Promise<HandshakeOutcome> {
  return new Promise((resolve) => {
    const socket = connect({ host: '127.0.0.1', port, ca, ...identity, ALPNProtocols: ['h2'] });
    const settle = (outcome: HandshakeOutcome): void => {
      clearTimeout(timer);
      socket.destroy();
      resolve(outcome);
    };
    const timer = setTimeout(() => settle(socket.authorized ? 'accepted' : 'refused'), acceptedAfterMs);
    socket.on('error', () => settle('refused'));
    socket.on('close', () => settle('refused'));
  });
}

describe('compat: peer TLS (--peer-cert-file, --peer-key-file, --peer-trusted-ca-file, --peer-client-cert-auth)', function () {
  this.timeout(60_000);
  let files: TlsFiles | undefined;
  const started: Array<{ kind: ServerKind; server: ServerHandle; peerPort: number }> = [];

  before(async function () {
    if (!etcdAvailable()) this.skip();
    files = makeTlsFiles();
    const peerTls = { certFile: files.serverCertFile, keyFile: files.serverKeyFile, trustedCaFile: files.caFile, clientCertAuth: true };
    const ports = { etcd: await freePort(), cairn: await freePort() };
    const [etcd, cairn] = await Promise.allSettled([startEtcd({ peerPort: ports.etcd, peerTls }), startCairn({ peerPort: ports.cairn, peerTls })]);
    if (etcd.status === 'fulfilled') started.push({ kind: 'etcd', server: etcd.value, peerPort: ports.etcd });
    if (cairn.status === 'fulfilled') started.push({ kind: 'cairn', server: cairn.value, peerPort: ports.cairn });
    for (const result of [etcd, cairn]) if (result.status === 'rejected') throw result.reason;
  });

  after(async () => {
    await Promise.all(started.map(({ server }) => server.destroy()));
    files?.remove();
  });

  /** How each server's peer port answers the same dial: [etcd's, cairn's]. */
  async function onBoth(identity: (files: TlsFiles) => { cert: Buffer; key: Buffer } | undefined): Promise<HandshakeOutcome[]> {
    if (files === undefined) throw new Error('no certificates');
    const ca = readFileSync(files.caFile);
    const given = identity(files);
    return Promise.all(started.map(({ peerPort }) => dialPeerPort(peerPort, ca, given)));
  }

  it('both let in a peer whose certificate the peer CA signed', async () => {
    const outcomes = await onBoth((tls) => ({ cert: readFileSync(tls.serverCertFile), key: readFileSync(tls.serverKeyFile) }));
    expect(outcomes).to.deep.equal(['accepted', 'accepted']);
  });

  it('both refuse a peer whose certificate another CA signed', async () => {
    const outcomes = await onBoth((tls) => ({ cert: readFileSync(tls.otherServerCertFile), key: readFileSync(tls.otherServerKeyFile) }));
    expect(outcomes).to.deep.equal(['refused', 'refused']);
  });

  it('both refuse a peer without a certificate', async () => {
    expect(await onBoth(() => undefined)).to.deep.equal(['refused', 'refused']);
  });
});

describe('compat: --auto-tls on the client port', function () {
  this.timeout(60_000);
  const started: ServerHandle[] = [];

  before(async function () {
    if (!etcdAvailable()) this.skip();
    const [etcd, cairn] = await Promise.allSettled([startEtcd({ autoTls: true }), startCairn({ autoTls: true })]);
    for (const result of [etcd, cairn]) if (result.status === 'fulfilled') started.push(result.value);
    for (const result of [etcd, cairn]) if (result.status === 'rejected') throw result.reason;
  });

  after(async () => {
    await Promise.all(started.map((server) => server.destroy()));
  });

  const run = (args: string[]) => Promise.all(started.map((server) => etcdctl(`https://${server.endpoint}`, ['--dial-timeout=2s', '--command-timeout=4s', ...args])));

  it('both make the certificate in <data-dir>/fixtures/client and serve https:// with it', async () => {
    for (const server of started) expect(existsSync(join(server.dataDir, 'fixtures', 'client', 'cert.pem')), server.kind).to.equal(true);
    const put = await run(['--insecure-transport=false', '--insecure-skip-tls-verify', 'put', 'auto', 'tls']);
    expect(put.map((result) => [result.code, result.stdout])).to.deep.equal([[0, 'OK\n'], [0, 'OK\n']]);
    const get = await run(['--insecure-transport=false', '--insecure-skip-tls-verify', 'get', 'auto', '--print-value-only']);
    expect(get.map((result) => result.stdout)).to.deep.equal(['tls\n', 'tls\n']);
  });

  it('a client that verifies the certificate (the system roots) is refused by both', async () => {
    const get = await run(['get', 'auto']);
    expect(get.map((result) => result.code)).to.deep.equal([1, 1]);
    for (const result of get) expect(result.stderr).to.include('context deadline exceeded');
  });
});

describe('compat: peer TLS startup refusals', function () {
  this.timeout(60_000);
  before(function () {
    if (!etcdAvailable()) this.skip();
  });

  /** Runs a server of `kind` whose peer URL is `peerScheme`:// with `extra` flags, until it exits. */
  async function refused(kind: ServerKind, peerScheme: 'http' | 'https', extra: string[]): Promise<Refusal & { peerHost: string }> {
    const clientUrl = `http://127.0.0.1:${await freePort()}`;
    const peerHost = `127.0.0.1:${await freePort()}`;
    const peerUrl = `${peerScheme}://${peerHost}`;
    const refusal = await runUntilRefused(kind, clientUrl, () => [
      '--listen-client-urls', clientUrl, '--advertise-client-urls', clientUrl,
      '--listen-peer-urls', peerUrl, '--initial-advertise-peer-urls', peerUrl, '--initial-cluster', `default=${peerUrl}`, ...extra,
    ]);
    return { ...refusal, peerHost };
  }

  it('an https:// peer URL without --peer-cert-file and --peer-key-file: both exit 1 with etcd\'s sentence, before creating the data directory', async () => {
    const [etcd, cairn] = await Promise.all([refused('etcd', 'https', []), refused('cairn', 'https', [])]);
    const sentence = (host: string) => `cannot listen on TLS for ${host}: KeyFile and CertFile are not presented`;
    expect([etcd.code, cairn.code]).to.deep.equal([1, 1]);
    expect(etcd.output).to.include(sentence(etcd.peerHost));
    expect(cairn.output).to.include(sentence(cairn.peerHost));
    expect([etcd.dataDirCreated, cairn.dataDirCreated]).to.deep.equal([false, false]);
  });

  it('an unknown --cipher-suites name: both exit 1 with etcd\'s sentence', async () => {
    const flags = ['--cipher-suites', 'TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256,TLS_NOT_A_SUITE'];
    const [etcd, cairn] = await Promise.all([refused('etcd', 'http', flags), refused('cairn', 'http', flags)]);
    expect([etcd.code, cairn.code]).to.deep.equal([1, 1]);
    for (const output of [etcd.output, cairn.output]) expect(output).to.include('unexpected TLS cipher suite "TLS_NOT_A_SUITE"');
  });
});
