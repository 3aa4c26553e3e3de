// Peer TLS with real processes: a 3-member cairn cluster whose members talk
// to each other over https:// with certificates signed by one CA and
// required of every peer (--peer-trusted-ca-file, --peer-client-cert-auth),
// and whose clients use TLS too. Writes replicate and etcdctl reads them on
// every member; a member whose certificate another CA signed cannot join,
// cannot send a single message, and the cluster does not notice it. A second
// cluster runs on --peer-auto-tls alone. The certificates are made for the
// run (harness/tls-fixture.ts).
import { assert } from 'chai';
import { credentials, status as grpcStatus } from '@grpc/grpc-js';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startCluster, type Cluster, type ClusterMember } from '../harness/cluster.js';
import { etcdctl, type EtcdctlResult } from '../harness/etcdctl.js';
import { etcdctlAvailable, freePort, peerTlsFlags, serverCommand, spawnServer, type ServerProcess } from '../harness/launcher.js';
import { makeTlsFiles, mutualTls, type TlsFiles } from '../harness/tls-fixture.js';
import { must } from '../harness/must.js';
import { batch, message, MessageType, sendBatches } from './hostile-peer.js';

const timingArgs = ['--heartbeat-interval', '100', '--election-timeout', '1000'];
const keysWritten = 20;
const replicatedDeadlineMs = 10_000;
/** A member that cannot join gives up after its join attempts (bootstrap.ts: 20 × 500 ms plus the calls). */
const foreignExitMsMax = 40_000;
/** A member ID no member has. */
const madeUpId = 0x1234n;

/** etcdctl over client TLS, as a user of this cluster runs it. */
async function ctl(files: TlsFiles, member: ClusterMember, args: string[]): Promise<EtcdctlResult> {
  const tls = [`--cacert=${files.caFile}`, `--cert=${files.clientCertFile}`, `--key=${files.clientKeyFile}`, '--dial-timeout=3s', '--command-timeout=5s'];
  return etcdctl(`https://${member.endpoint}`, [...tls, ...args]);
}

async function ctlOk(files: TlsFiles, member: ClusterMember, args: string[]): Promise<string> {
  const result = await ctl(files, member, args);
  assert.equal(result.code, 0, `etcdctl ${args.join(' ')} on ${member.name}: ${result.stderr}`);
  return result.stdout;
}

/** Resolves once a serializable read on `member` (its own state) counts `count` keys under `prefix`. */
async function waitReplicated(read: () => Promise<string>, count: number, what: string): Promise<void> {
  const deadline = Date.now() + replicatedDeadlineMs;
  let last = '';
  for (;;) {
    last = await read();
    const counted = /"count":(\d+)/.exec(last)?.[1] ?? '0';
    if (Number(counted) === count) return;
    if (Date.now() > deadline) assert.fail(`${what} holds ${counted} of ${count} keys after ${replicatedDeadlineMs} ms: ${last}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

interface Health {
  leader: string;
  term: string;
}

async function health(files: TlsFiles, members: ClusterMember[]): Promise<Health[]> {
  return Promise.all(members.map(async (member) => {
    const status = JSON.parse(await ctlOk(files, member, ['endpoint', 'status', '-w', 'json'])) as Array<{ Status: { leader: string; raft_term: string } }>;
    const own = must(status[0], `${member.name}'s status`).Status;
    return { leader: String(own.leader), term: String(own.raft_term) };
  }));
}

describe('cluster: peer TLS (--peer-cert-file, --peer-key-file, --peer-trusted-ca-file, --peer-client-cert-auth)', function () {
  this.timeout(180_000);
  let files: TlsFiles;
  let cluster: Cluster | undefined;

  before(async function () {
    if (!etcdctlAvailable()) this.skip();
    files = makeTlsFiles();
    cluster = await startCluster('cairn', {
      size: 3,
      args: timingArgs,
      clientTls: mutualTls(files),
      peerTls: { certFile: files.serverCertFile, keyFile: files.serverKeyFile, trustedCaFile: files.caFile, clientCertAuth: true },
    });
  });

  after(async () => {
    await cluster?.destroy();
    files?.remove();
  });

  const members = (): ClusterMember[] => must(cluster, 'the cluster').members;

  it('replicates writes over https:// peer URLs; etcdctl over client TLS reads them on every member', async () => {
    const [first] = members();
    for (let i = 0; i < keysWritten; i++) await ctlOk(files, must(first, 'm1'), ['put', `tls/k${i}`, `v${i}`]);
    for (const member of members()) {
      await waitReplicated(() => ctlOk(files, member, ['get', 'tls/', '--prefix', '--consistency=s', '--keys-only', '-w', 'json']), keysWritten, member.name);
      const value = await ctlOk(files, member, ['get', `tls/k${keysWritten - 1}`, '--print-value-only']);
      assert.equal(value, `v${keysWritten - 1}\n`, member.name);
    }
    const list = await ctlOk(files, must(first, 'm1'), ['member', 'list']);
    for (const member of members()) assert.include(list, member.peerUrl, 'the members advertise their https:// peer URLs');
    assert.match(must(first, 'm1').peerUrl, /^https:\/\//);
  });

  it('a member whose certificate another CA signed never joins, never gets a message in, and the cluster does not notice', async () => {
    const before = await health(files, members());
    const { peerUrl, peerPort } = await must(cluster, 'the cluster').reservePeerUrl('m4');
    // The cluster expects m4: without the member add, a correct m4 would be refused for not being a member, not for its certificate.
    await ctlOk(files, must(members()[0], 'm1'), ['member', 'add', 'm4', `--peer-urls=${peerUrl}`]);
    const foreign = await startForeignMember(files, members(), peerUrl, peerPort);
    try {
      const code = await Promise.race([foreign.exited, new Promise<'running'>((resolve) => setTimeout(() => resolve('running'), foreignExitMsMax))]);
      assert.notEqual(code, 0, `the foreign member must give up: ${foreign.output()}`);
      assert.notEqual(code, 'running', `the foreign member still tries to join: ${foreign.output()}`);
      assert.include(foreign.output(), 'cannot join the existing cluster');
    } finally {
      await foreign.destroy();
    }
    const list = await ctlOk(files, must(members()[0], 'm1'), ['member', 'list', '-w', 'json']);
    const m4 = must((JSON.parse(list) as { members: Array<{ name?: string; peerURLs: string[] }> }).members.find((member) => member.peerURLs.includes(peerUrl)), 'm4 in the member list');
    assert.equal(m4.name ?? '', '', 'm4 never started: it has no name in the membership');
    const after = await health(files, members());
    assert.deepEqual(after, before, 'the same leader, at the same term');
    await ctlOk(files, must(members()[1], 'm2'), ['put', 'tls/after-foreign', 'ok']);
  });

  it('the peer port takes messages only over TLS with a certificate its CA signed', async () => {
    const target = must(members()[0], 'm1');
    const peerHost = new URL(target.peerUrl).host;
    const heartbeat = batch(1n, madeUpId, [message({ type: MessageType.MsgHeartbeat, from: madeUpId, to: 1n, term: 2n ** 40n })]);
    const ca = readFileSync(files.caFile);
    const signed = await sendBatches(peerHost, [heartbeat], credentials.createSsl(ca, readFileSync(files.serverKeyFile), readFileSync(files.serverCertFile)));
    // Past TLS, the peer service itself reads the batch (and refuses its made-up cluster and sender).
    assert.notEqual(signed.code, grpcStatus.UNAVAILABLE, signed.details);
    const foreign = await sendBatches(peerHost, [heartbeat], credentials.createSsl(ca, readFileSync(files.otherServerKeyFile), readFileSync(files.otherServerCertFile)));
    const anonymous = await sendBatches(peerHost, [heartbeat], credentials.createSsl(ca));
    const plaintext = await sendBatches(peerHost, [heartbeat]);
    for (const [who, answer] of [['foreign', foreign], ['anonymous', anonymous], ['plaintext', plaintext]] as const) {
      assert.equal(answer.code, grpcStatus.UNAVAILABLE, `${who}: ${answer.details}`);
    }
  });
});

/** Starts m4 with a certificate of the other CA (it trusts the cluster's CA, so only its own certificate is wrong). */
async function startForeignMember(files: TlsFiles, members: ClusterMember[], peerUrl: string, peerPort: number): Promise<ServerProcess> {
  const dir = mkdtempSync(join(tmpdir(), 'cairn-foreign-'));
  const dataDir = join(dir, 'data');
  const clientUrl = `http://127.0.0.1:${await freePort()}`;
  const initialCluster = [...members.map((member) => `${member.name}=${member.peerUrl}`), `m4=${peerUrl}`].join(',');
  const { command, args } = serverCommand('cairn', [
    '--name', 'm4', '--data-dir', dataDir,
    '--listen-client-urls', clientUrl, '--advertise-client-urls', clientUrl,
    '--listen-peer-urls', `https://127.0.0.1:${peerPort}`, '--initial-advertise-peer-urls', peerUrl,
    '--initial-cluster', initialCluster, '--initial-cluster-state', 'existing', ...timingArgs,
    ...peerTlsFlags({ certFile: files.otherServerCertFile, keyFile: files.otherServerKeyFile, trustedCaFile: files.caFile, clientCertAuth: true }),
  ]);
  const server = spawnServer({ kind: 'cairn', command, args, clientUrl, dataDir, ownsDir: true });
  return { ...server, destroy: async () => { await server.destroy(); rmSync(dir, { recursive: true, force: true }); } };
}

describe('cluster: --peer-auto-tls', function () {
  this.timeout(120_000);
  let cluster: Cluster | undefined;

  before(async () => {
    cluster = await startCluster('cairn', { size: 3, args: timingArgs, peerTls: { autoTls: true } });
  });

  after(async () => {
    await cluster?.destroy();
  });

  it('members make their own certificates in <data-dir>/fixtures/peer and replicate over https:// without verifying each other', async () => {
    const members = must(cluster, 'the cluster').members;
    const [first] = members;
    assert.match(must(first, 'm1').peerUrl, /^https:\/\//);
    for (let i = 0; i < keysWritten; i++) {
      const result = await etcdctl(must(first, 'm1').endpoint, ['put', `auto/k${i}`, `v${i}`]);
      assert.equal(result.code, 0, result.stderr);
    }
    for (const member of members) {
      assert.isTrue(existsSync(join(member.dataDir, 'fixtures', 'peer', 'cert.pem')), `${member.name}'s certificate`);
      await waitReplicated(async () => (await etcdctl(member.endpoint, ['get', 'auto/', '--prefix', '--consistency=s', '--keys-only', '-w', 'json'])).stdout, keysWritten, member.name);
    }
  });
});
