// Certificates rotated without a restart, side by side: etcd and cairn serve
// https:// with a certificate and key read from files; the files are then
// overwritten with a certificate of another CA. Both present the new one to
// the next client without a restart (etcd reads the files on every
// handshake, cairn within a second of the change). cairn keeps serving the
// current certificate while the files cannot be used (half written).
import { expect } from 'chai';
import { copyFileSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { etcdctl } from '../harness/etcdctl.js';
import { etcdAvailable, startCairn, startEtcd, type ServerHandle } from '../harness/launcher.js';
import { makeTlsFiles, type TlsFiles } from '../harness/tls-fixture.js';

/** cairn checks the files every second; allow for a busy machine. */
const reloadDeadlineMs = 10_000;

async function getsWith(server: ServerHandle, caFile: string): Promise<boolean> {
  const result = await etcdctl(`https://${server.endpoint}`, ['--dial-timeout=2s', '--command-timeout=3s', `--cacert=${caFile}`, 'get', 'rotation']);
  return result.code === 0;
}

async function eventually(check: () => Promise<boolean>, what: string): Promise<void> {
  const deadline = Date.now() + reloadDeadlineMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`${what}: not within ${reloadDeadlineMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
}

describe('compat: TLS certificates replaced without a restart', function () {
  let files: TlsFiles | undefined;
  let liveDir: string | undefined;
  const servers: ServerHandle[] = [];

  before(async function () {
    if (!etcdAvailable()) this.skip();
    this.timeout(60_000);
    files = makeTlsFiles();
    liveDir = mkdtempSync(join(tmpdir(), 'cairn-tls-live-'));
    for (const kind of ['etcd', 'cairn'] as const) {
      const certFile = join(liveDir, `${kind}.pem`);
      const keyFile = join(liveDir, `${kind}.key`);
      copyFileSync(files.serverCertFile, certFile);
      copyFileSync(files.serverKeyFile, keyFile);
      const tls = { certFile, keyFile, probe: { caFile: files.caFile } };
      servers.push(await (kind === 'etcd' ? startEtcd({ tls }) : startCairn({ tls })));
    }
  });

  after(async () => {
    await Promise.all(servers.map((server) => server.destroy()));
    files?.remove();
    if (liveDir !== undefined) rmSync(liveDir, { recursive: true, force: true });
  });

  it('both serve the new certificate to the next client once the files are overwritten, in the same process', async function () {
    this.timeout(60_000);
    const tls = must(files);
    for (const server of servers) expect(await getsWith(server, tls.caFile), `${server.kind} with the first CA`).to.equal(true);
    const pids = servers.map((server) => server.pid);
    for (const server of servers) {
      copyFileSync(tls.otherServerCertFile, join(must(liveDir), `${server.kind}.pem`));
      copyFileSync(tls.otherServerKeyFile, join(must(liveDir), `${server.kind}.key`));
    }
    for (const server of servers) {
      await eventually(() => getsWith(server, tls.otherCaFile), `${server.kind} presents the certificate of the other CA`);
      expect(await getsWith(server, tls.caFile), `${server.kind} no longer presents the first certificate`).to.equal(false);
    }
    expect(servers.map((server) => server.pid)).to.deep.equal(pids);
  });

  it('cairn keeps the current certificate while the files cannot be used, and says so once', async function () {
    this.timeout(60_000);
    const tls = must(files);
    const cairn = must(servers.find((server) => server.kind === 'cairn'));
    writeFileSync(join(must(liveDir), 'cairn.pem'), '-----BEGIN CERTIFICATE-----\nhalf writ');
    await eventually(async () => cairn.output().includes('the client TLS files changed but cannot be used'), 'cairn reports the unusable files');
    expect(await getsWith(cairn, tls.otherCaFile)).to.equal(true);
    copyFileSync(tls.serverCertFile, join(must(liveDir), 'cairn.pem'));
    // The key is still the other server's: the pair does not match, and the current certificate stays.
    await new Promise((resolve) => setTimeout(resolve, 2_500));
    expect(await getsWith(cairn, tls.otherCaFile)).to.equal(true);
    copyFileSync(tls.serverKeyFile, join(must(liveDir), 'cairn.key'));
    await eventually(() => getsWith(cairn, tls.caFile), 'cairn presents the first certificate again');
    expect(cairn.output().split('the client TLS files changed but cannot be used').length - 1).to.be.at.most(3);
  });
});

function must<T>(value: T | undefined): T {
  if (value === undefined) throw new Error('the servers did not start');
  return value;
}
