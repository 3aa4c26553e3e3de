// Migrating from etcd: a real etcd 3.4 holds a realistic data set
// (etcd-data-set.ts: thousands of keys over many revisions, deletes, a
// compaction, leases with keys, values over 4 KiB), `etcdctl snapshot save`
// writes its file, and cairn reads that file:
// - `cairn snapshot status` prints what `etcdctl snapshot status` prints;
// - `cairn snapshot restore` writes a data directory (one member, or three
//   from the same file) on which cairn serves the same keys with the same
//   revisions, versions and leases as the etcd did, the same history since
//   the compaction, refuses the compacted revisions with etcd's error, and
//   takes the next write at the next revision, as etcd does;
// - users, roles and auth carry over (a second etcd, with auth enabled);
// - a damaged etcd file is refused and nothing is written.
import { expect } from 'chai';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { BoltFile } from '../../server/snapshot/etcd/bbolt.js';
import { leafElements } from '../../server/snapshot/etcd/bolt-page.js';
import { runCairn, type CommandResult } from '../harness/command.js';
import { startCluster, type Cluster } from '../harness/cluster.js';
import { errorLines, etcdctl, etcdctlEach, etcdctlOffline } from '../harness/etcdctl.js';
import { etcdAvailable, freePort, startCairn, startEtcd, type ServerHandle } from '../harness/launcher.js';
import { must, must0 } from '../harness/must.js';
import { restoreEveryMember, restoreSolo } from '../harness/snapshot-restore.js';
import { keptLeaseTtlsSeconds, liveKeys, parseExact, writeEtcdDataSet, type PrintedKv } from './etcd-data-set.js';

const saveTimeoutMs = 60_000;

interface GetAnswer {
  header: { revision: string };
  kvs: PrintedKv[];
}

async function getAll(endpoint: string, extra: string[] = []): Promise<GetAnswer> {
  const { stdout } = await must0(etcdctl(endpoint, ['get', '', '--prefix', '-w', 'json', ...extra], { timeoutMs: 30_000 }), 'get');
  return parseExact<GetAnswer>(stdout);
}

/** Each lease's ID, granted TTL and attached keys (sorted: etcd prints them in Go map order). */
async function leasesOf(endpoint: string): Promise<Array<{ id: string; grantedTtl: string; keys: string[] }>> {
  const listed = parseExact<{ leases?: Array<{ id: string }> }>((await must0(etcdctl(endpoint, ['lease', 'list', '-w', 'json']), 'lease list')).stdout);
  const leases = [];
  for (const { id } of listed.leases ?? []) {
    const hex = BigInt(id).toString(16);
    // parseExact leaves "granted-ttl" a number (its name has a hyphen): small enough to be exact.
    const ttl = parseExact<{ 'granted-ttl': number; keys?: string[] }>((await must0(etcdctl(endpoint, ['lease', 'timetolive', hex, '--keys', '-w', 'json']), 'timetolive')).stdout);
    leases.push({ id, grantedTtl: String(ttl['granted-ttl']), keys: (ttl.keys ?? []).map((key) => Buffer.from(key, 'base64').toString()).sort() });
  }
  return leases.sort((a, b) => a.id.localeCompare(b.id));
}

/** What a refused command shows: its exit code and its error lines. */
function refusal(result: CommandResult): { code: number | null; errors: string[] } {
  return { code: result.code, errors: errorLines(result.stderr) };
}

describe('compat: migrating from etcd 3.4 with cairn snapshot restore', function () {
  this.timeout(180_000);
  let dir = '';
  let etcd: ServerHandle | undefined;
  let snapshotPath = '';
  let compactRevision = 0n;
  /** etcd's answer to `get "" --prefix` right after the save: what every restored member must serve. */
  let saved: GetAnswer;

  before(async function () {
    if (!etcdAvailable()) this.skip();
    dir = mkdtempSync(join(tmpdir(), 'cairn-etcd-migration-'));
    snapshotPath = join(dir, 'etcd.db');
    etcd = await startEtcd();
    ({ compactRevision } = await writeEtcdDataSet(etcd.endpoint));
    await must0(etcdctl(etcd.endpoint, ['snapshot', 'save', snapshotPath], { timeoutMs: saveTimeoutMs }), 'snapshot save');
    saved = await getAll(etcd.endpoint);
    expect(saved.kvs).to.have.length(liveKeys);
  });
  after(async () => {
    await etcd?.destroy();
    if (dir !== '') rmSync(dir, { recursive: true, force: true });
  });

  it('status prints what etcdctl prints for the etcd file: hash, revision, total keys and total size, in every format', async () => {
    for (const format of ['json', 'simple', 'table', 'fields']) {
      const args = ['snapshot', 'status', snapshotPath, '-w', format];
      const [fromEtcd, fromCairn] = await Promise.all([must0(etcdctlOffline(args), 'etcdctl status'), must0(runCairn(args), 'cairn status')]);
      expect(fromCairn.stdout, format).to.equal(fromEtcd.stdout);
    }
    const status = JSON.parse((await must0(runCairn(['snapshot', 'status', snapshotPath, '-w', 'json']), 'status')).stdout) as Record<string, number>;
    expect(String(status.revision)).to.equal(saved.header.revision);
  });

  it('restore into one data directory: the same keys, revisions, history and leases as etcd; compaction and writes as on etcd', async () => {
    const root = mkdtempSync(join(tmpdir(), 'cairn-etcd-migrated-'));
    let cairn: ServerHandle | undefined;
    try {
      const peerPort = await freePort();
      const member = { name: 'solo', dataDir: join(root, 'data'), peerUrl: `http://127.0.0.1:${peerPort}` };
      const restored = await restoreSolo(snapshotPath, member, 'migrated');
      expect(restored.stderr).to.match(/^restored etcd snapshot .* revision \d+, \d+ revision records, 2 leases; member solo /);
      cairn = await startCairn({ dataDir: member.dataDir, name: 'solo', peerPort });
      const server = cairn;
      const got = await getAll(server.endpoint);
      expect(got.header.revision).to.equal(saved.header.revision);
      expect(got.kvs).to.deep.equal(saved.kvs);
      const history = ['--rev', String(compactRevision)];
      expect((await getAll(server.endpoint, history)).kvs, 'the history since the compaction').to.deep.equal((await getAll(must(etcd, 'etcd').endpoint, history)).kvs);
      const leases = await leasesOf(server.endpoint);
      expect(leases).to.deep.equal(await leasesOf(must(etcd, 'etcd').endpoint));
      expect(leases.map((lease) => lease.grantedTtl).sort()).to.deep.equal(keptLeaseTtlsSeconds.map(String));

      // Below the compaction revision: etcd's error on both.
      for (const args of [['get', 'mig/key/0001', '--rev', String(compactRevision - 1n)], ['compact', String(compactRevision)]]) {
        const [fromEtcd, fromCairn] = await Promise.all([etcdctl(must(etcd, 'etcd').endpoint, args), etcdctl(server.endpoint, args)]);
        expect(refusal(fromCairn), args.join(' ')).to.deep.equal(refusal(fromEtcd));
        expect(refusal(fromCairn).errors).to.deep.equal(['Error: etcdserver: mvcc: required revision has been compacted']);
      }
      // The next write takes the next revision on both, and updates the key alike.
      for (const endpoint of [must(etcd, 'etcd').endpoint, server.endpoint]) {
        const put = parseExact<{ header: { revision: string } }>((await must0(etcdctl(endpoint, ['put', 'mig/key/0001', 'after', '-w', 'json']), 'put')).stdout);
        expect(BigInt(put.header.revision)).to.equal(BigInt(saved.header.revision) + 1n);
      }
      const [etcdAfter, cairnAfter] = await Promise.all([getAll(must(etcd, 'etcd').endpoint), getAll(server.endpoint)]);
      expect(cairnAfter.header.revision).to.equal(etcdAfter.header.revision);
      expect(cairnAfter.kvs).to.deep.equal(etcdAfter.kvs);
    } finally {
      await cairn?.destroy();
      rmSync(root, { recursive: true, force: true });
    }
  });

  it('restore into three data directories from the one file: a three-member cairn cluster serving what etcd served', async () => {
    let cluster: Cluster | undefined;
    try {
      cluster = await startCluster('cairn', { size: 3, seedDataDirs: restoreEveryMember(snapshotPath) });
      for (const member of cluster.members) {
        const got = await getAll(member.endpoint);
        expect(got.header.revision, member.name).to.equal(saved.header.revision);
        expect(got.kvs, member.name).to.deep.equal(saved.kvs);
      }
      const [first, second] = cluster.members;
      await must0(etcdctl(must(first, 'm1').endpoint, ['put', 'after-migration', 'yes']), 'put');
      const read = await must0(etcdctl(must(second, 'm2').endpoint, ['get', 'after-migration', '-w', 'json']), 'get');
      expect(BigInt(parseExact<GetAnswer>(read.stdout).kvs[0]?.mod_revision ?? '0')).to.equal(BigInt(saved.header.revision) + 1n);
      const listed = await must0(etcdctl(must(second, 'm2').endpoint, ['member', 'list']), 'member list');
      expect(listed.stdout.trim().split('\n').map((line) => line.split(', ')[2]).sort()).to.deep.equal(['m1', 'm2', 'm3']);
    } finally {
      await cluster?.destroy();
    }
  });

  it('refuses a damaged etcd file, a truncated one, a broken page past --skip-hash-check and a file of no known format, writing nothing', async () => {
    const root = mkdtempSync(join(tmpdir(), 'cairn-etcd-refused-'));
    try {
      const bytes = readFileSync(snapshotPath);
      const write = (name: string, content: Buffer): string => {
        const path = join(root, name);
        writeFileSync(path, content);
        return path;
      };
      const flipped = Buffer.from(bytes);
      flipped[Math.floor(flipped.length / 2)]! ^= 0xff;
      const damaged = write('damaged.db', flipped);
      const truncated = write('truncated.db', bytes.subarray(0, 10_000));
      for (const [file, message] of [[damaged, /^Error: expected sha256 \[[\d ]+\], got \[[\d ]+\]$/], [truncated, /^Error: snapshot missing hash but --skip-hash-check=false$/]] as const) {
        const args = (dataDir: string) => ['snapshot', 'restore', file, '--data-dir', join(root, dataDir)];
        // etcdctl creates its data directory before it checks the file: one for each.
        const [fromEtcd, fromCairn] = await Promise.all([etcdctlOffline(args(`by-etcd-${basename(file)}`)), runCairn(args('by-cairn'))]);
        expect(refusal(fromCairn)).to.deep.equal(refusal(fromEtcd));
        expect(fromCairn.code).to.equal(1);
        expect(must(errorLines(fromCairn.stderr)[0], 'the error')).to.match(message);
      }

      // The root page of bucket "key" zeroed, and the trailer skipped: the reader finds the broken page before writing.
      const image = Buffer.from(bytes.subarray(0, bytes.length - 32));
      const bolt = BoltFile.fromBuffer(image);
      const rootPageId = keyRootPage(bolt);
      image.fill(0, rootPageId * bolt.meta.pageSize, (rootPageId + 1) * bolt.meta.pageSize);
      const broken = write('broken.db', image);
      const skipped = await runCairn(['snapshot', 'restore', broken, '--skip-hash-check', '--data-dir', join(root, 'by-cairn')]);
      expect(skipped.code).to.equal(1);
      expect(skipped.stderr).to.match(new RegExp(`^Error: invalid database\\nbbolt: page ${rootPageId}: `));

      const unknown = write('unknown.db', Buffer.alloc(5_000, 0x42));
      const refused = await runCairn(['snapshot', 'status', unknown]);
      expect(refusal(refused)).to.deep.equal({ code: 1, errors: [`Error: ${unknown} is not a snapshot file: it is neither an etcd snapshot (a bbolt database) nor a cairn snapshot (an lmdb image)`] });
      expect(existsSync(join(root, 'by-cairn')), 'nothing written').to.equal(false);
    } finally {
      rmSync(root, { recursive: true, force: true });
    }
  });
});

describe('compat: migrating users, roles and auth from etcd 3.4', function () {
  this.timeout(120_000);
  let dir = '';
  const servers: ServerHandle[] = [];
  const root = ['--user', 'root:rootpw'];

  before(async function () {
    if (!etcdAvailable()) this.skip();
    dir = mkdtempSync(join(tmpdir(), 'cairn-etcd-auth-migration-'));
  });
  after(async () => {
    await Promise.all(servers.map((server) => server.destroy()));
    if (dir !== '') rmSync(dir, { recursive: true, force: true });
  });

  it('restored cairn has etcd\'s users (with their passwords), roles, permissions and auth enabled', async () => {
    const etcd = await startEtcd();
    servers.push(etcd);
    await etcdctlEach(etcd.endpoint, [
      ['put', 'app/config', 'v1'], ['put', 'secret', 's'],
      ['user', 'add', 'root:rootpw'], ['role', 'add', 'reader'], ['role', 'grant-permission', 'reader', 'read', 'app/', '--prefix'],
      ['user', 'add', 'alice:alicepw'], ['user', 'grant-role', 'alice', 'reader'], ['auth', 'enable'],
    ]);
    const file = join(dir, 'auth.db');
    await must0(etcdctl(etcd.endpoint, [...root, 'snapshot', 'save', file], { timeoutMs: saveTimeoutMs }), 'snapshot save');
    const peerPort = await freePort();
    const peerUrl = `http://127.0.0.1:${peerPort}`;
    const dataDir = join(dir, 'data');
    await restoreSolo(file, { name: 'solo', dataDir, peerUrl }, 'migrated');
    // Auth is on from the first start: the launcher's probe has no token, so wait with root's.
    const cairn = await startCairn({ dataDir, name: 'solo', peerPort, waitReady: 'none' });
    servers.push(cairn);
    await waitAnswering(cairn.endpoint, root);

    const commands = [
      [...root, 'user', 'list'], [...root, 'role', 'list'], [...root, 'user', 'get', 'alice'], [...root, 'role', 'get', 'reader'],
      ['--user', 'alice:alicepw', 'get', 'app/config', '--print-value-only'], ['--user', 'alice:alicepw', 'get', 'secret'],
      ['--user', 'alice:alicepw', 'put', 'app/config', 'v2'], ['--user', 'alice:wrong', 'get', 'app/config'], ['get', 'app/config'],
    ];
    for (const args of commands) {
      const [fromEtcd, fromCairn] = await Promise.all([etcdctl(etcd.endpoint, args), etcdctl(cairn.endpoint, args)]);
      expect({ stdout: fromCairn.stdout, ...refusal(fromCairn) }, args.join(' ')).to.deep.equal({ stdout: fromEtcd.stdout, ...refusal(fromEtcd) });
    }
  });
});

/** The root page of bucket "key": the first 8 bytes of its bucket header, in the root bucket's leaf. */
function keyRootPage(bolt: BoltFile): number {
  const root = bolt.page(bolt.meta.rootPageId);
  const key = leafElements(root.bytes, root.header, root.id).find((element) => element.key.toString() === 'key');
  return Number(must(key, 'bucket "key"').value.readBigUInt64LE(0));
}

/** Polls until a linearizable get with `credentials` answers (the server has a leader and knows the user), for up to 20 s. */
async function waitAnswering(endpoint: string, credentials: string[]): Promise<void> {
  const deadline = Date.now() + 20_000;
  for (;;) {
    const result = await etcdctl(endpoint, [...credentials, 'get', 'health'], { timeoutMs: 5_000 });
    if (result.code === 0) return;
    if (Date.now() > deadline) throw new Error(`no answer within 20 s: ${result.stderr}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}
