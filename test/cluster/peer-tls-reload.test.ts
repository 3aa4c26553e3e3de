// Peer certificates rotated without a restart: a 3-member cairn cluster over
// peer TLS whose certificate, key and trusted CA are files that get
// overwritten — first a certificate of a second CA (both CAs trusted), then
// the first CA dropped. m3 is then paused long enough for every connection
// to it to fail, and writes go on without it: when it resumes, the members
// can only reconnect with the new certificates, so m3 catching up shows the
// peer servers and the peer dialers both took them.
import { assert } from 'chai';
import { copyFileSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startCluster, type Cluster, type ClusterMember } from '../harness/cluster.js';
import { etcdctl } from '../harness/etcdctl.js';
import { etcdctlAvailable } from '../harness/launcher.js';
import { must } from '../harness/must.js';
import { makeTlsFiles, type TlsFiles } from '../harness/tls-fixture.js';

const timingArgs = ['--heartbeat-interval', '100', '--election-timeout', '1000'];
/** Members read their files every second. */
const reloadWaitMs = 3_000;
/** Peer channels send a keepalive ping every 2 s and give up 2 s later: a pause this long breaks them. */
const pauseMs = 8_000;
const catchUpDeadlineMs = 20_000;

async function run(member: ClusterMember, args: string[]): Promise<string> {
  const result = await etcdctl(member.endpoint, ['--dial-timeout=3s', '--command-timeout=5s', ...args]);
  assert.equal(result.code, 0, `etcdctl ${args.join(' ')} on ${member.name}: ${result.stderr}`);
  return result.stdout;
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe('cluster: peer TLS certificates replaced without a restart', function () {
  this.timeout(180_000);
  let files: TlsFiles;
  let live: string;
  let cluster: Cluster | undefined;

  before(async function () {
    if (!etcdctlAvailable()) this.skip();
    files = makeTlsFiles();
    live = mkdtempSync(join(tmpdir(), 'cairn-peer-live-'));
    copyFileSync(files.serverCertFile, join(live, 'peer.pem'));
    copyFileSync(files.serverKeyFile, join(live, 'peer.key'));
    writeFileSync(join(live, 'peer-ca.pem'), Buffer.concat([readFileSync(files.caFile), readFileSync(files.otherCaFile)]));
    cluster = await startCluster('cairn', {
      size: 3,
      args: timingArgs,
      peerTls: { certFile: join(live, 'peer.pem'), keyFile: join(live, 'peer.key'), trustedCaFile: join(live, 'peer-ca.pem'), clientCertAuth: true },
    });
  });

  after(async () => {
    await cluster?.destroy();
    files?.remove();
    if (live !== undefined) rmSync(live, { recursive: true, force: true });
  });

  it('members reconnect with the new certificate and CA; a member cut off meanwhile catches up', async () => {
    const members = must(cluster, 'the cluster').members;
    const [m1, , m3] = members;
    await run(must(m1, 'm1'), ['put', 'rotation/before', '1']);
    // A certificate of the other CA, which every member trusts so far.
    copyFileSync(files.otherServerCertFile, join(live, 'peer.pem'));
    copyFileSync(files.otherServerKeyFile, join(live, 'peer.key'));
    await sleep(reloadWaitMs);
    // Only the other CA from now on: a handshake with the first certificate fails.
    copyFileSync(files.otherCaFile, join(live, 'peer-ca.pem'));
    await sleep(reloadWaitMs);
    for (const member of members) assert.include(member.output(), 'reloaded the peer TLS certificate', member.name);

    must(m3, 'm3').pause();
    try {
      await sleep(pauseMs);
      for (let i = 0; i < 10; i++) await run(must(m1, 'm1'), ['put', `rotation/while-m3-paused/${i}`, String(i)]);
    } finally {
      must(m3, 'm3').resume();
    }
    const deadline = Date.now() + catchUpDeadlineMs;
    for (;;) {
      const count = /"count":(\d+)/.exec(await run(must(m3, 'm3'), ['get', 'rotation/', '--prefix', '--consistency=s', '--keys-only', '-w', 'json']))?.[1];
      if (count === '11') break;
      if (Date.now() > deadline) assert.fail(`m3 holds ${count ?? 0} of 11 keys ${catchUpDeadlineMs} ms after it resumed:\n${must(m3, 'm3').output().slice(-2_000)}`);
      await sleep(200);
    }
  });
});
