// `cairn snapshot status|restore` beside `etcdctl snapshot status|restore`:
// the same history is written to an etcd and a cairn, both are saved with
// `etcdctl snapshot save`, and each tool reads its own server's file. Status
// prints the same shape and the same revision on both, and its key count
// grows alike with the history (the hash and the exact count differ by
// design: they run over different backends). A restored cairn — one member,
// or three from the same file — starts a new cluster holding every key with
// its createRevision, modRevision and version, and the lease with its keys.
// Bad files and an existing data directory are refused in etcdctl's words.
import { expect } from 'chai';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runCairn, type CommandResult } from '../harness/command.js';
import { startCluster, type Cluster } from '../harness/cluster.js';
import { errorLines, etcdctl, etcdctlOffline } from '../harness/etcdctl.js';
import { etcdAvailable, freePort, startCairn, startEtcd, type ServerHandle } from '../harness/launcher.js';
import { must, must0 } from '../harness/must.js';
import { restoreEveryMember, restoreSolo } from '../harness/snapshot-restore.js';

/** A key as `etcdctl get -w json` shows it, the lease as decimal. */
interface StoredKey {
  key: string;
  value: string;
  createRevision: string;
  modRevision: string;
  version: string;
  lease: string;
}

interface SavedSide {
  /** Snapshot before and after three more puts. */
  before: string;
  after: string;
  revisionBefore: number;
  keys: StoredKey[];
  leaseId: string;
}

const saveTimeoutMs = 30_000;

async function keysOf(endpoint: string): Promise<{ keys: StoredKey[]; revision: number }> {
  const { stdout } = await must0(etcdctl(endpoint, ['get', '', '--from-key', '-w', 'json']), 'get');
  const parsed = JSON.parse(stdout) as { header: { revision: number }; kvs?: Array<Record<string, string | number | undefined>> };
  const keys = (parsed.kvs ?? []).map((kv) => ({
    key: Buffer.from(String(kv.key), 'base64').toString(),
    value: Buffer.from(String(kv.value ?? ''), 'base64').toString(),
    createRevision: String(kv.create_revision),
    modRevision: String(kv.mod_revision),
    version: String(kv.version),
    lease: String(kv.lease ?? 0),
  }));
  return { keys, revision: Number(parsed.header.revision) };
}

/** Writes the same history on `server`: keys of several revisions, a deleted key, a lease with two keys. */
async function writeHistory(server: ServerHandle): Promise<string> {
  const run = (args: string[]) => must0(etcdctl(server.endpoint, args), args.join(' '));
  for (const args of [['put', 'a', '1'], ['put', 'a', '2'], ['put', 'b', '1'], ['put', 'b', '2'], ['put', 'gone', 'x'], ['del', 'gone'], ['put', 'a', '3']]) await run(args);
  const granted = await run(['lease', 'grant', '600']);
  const leaseHex = must(/lease ([0-9a-f]+) granted/.exec(granted.stdout)?.[1], 'the granted lease');
  await run(['put', 'leased/1', 'one', `--lease=${leaseHex}`]);
  await run(['put', 'leased/2', 'two', `--lease=${leaseHex}`]);
  return BigInt(`0x${leaseHex}`).toString();
}

async function saveBoth(server: ServerHandle, dir: string): Promise<SavedSide> {
  const leaseId = await writeHistory(server);
  const { keys, revision } = await keysOf(server.endpoint);
  const before = join(dir, `${server.kind}-before.db`);
  await must0(etcdctl(server.endpoint, ['snapshot', 'save', before], { timeoutMs: saveTimeoutMs }), 'snapshot save');
  for (const i of [1, 2, 3]) await must0(etcdctl(server.endpoint, ['put', `more/${i}`, 'x']), 'put');
  const after = join(dir, `${server.kind}-after.db`);
  await must0(etcdctl(server.endpoint, ['snapshot', 'save', after], { timeoutMs: saveTimeoutMs }), 'snapshot save');
  return { before, after, revisionBefore: revision, keys, leaseId };
}

function statusOf(kind: 'etcd' | 'cairn', file: string, format: string): Promise<CommandResult> {
  const args = ['snapshot', 'status', file, '-w', format];
  return kind === 'etcd' ? etcdctlOffline(args) : runCairn(args);
}

describe('compat: cairn snapshot status and restore', function () {
  this.timeout(120_000);
  let dir = '';
  let etcd: SavedSide;
  let cairn: SavedSide;

  before(async function () {
    if (!etcdAvailable()) this.skip();
    dir = mkdtempSync(join(tmpdir(), 'cairn-snapshot-restore-'));
    const servers: ServerHandle[] = [];
    try {
      servers.push(await startEtcd(), await startCairn());
      [etcd, cairn] = await Promise.all([saveBoth(must(servers[0], 'etcd'), dir), saveBoth(must(servers[1], 'cairn'), dir)]);
    } finally {
      await Promise.all(servers.map((server) => server.destroy()));
    }
  });
  after(() => {
    if (dir !== '') rmSync(dir, { recursive: true, force: true });
  });

  it('both wrote the same history', () => {
    expect(cairn.revisionBefore).to.equal(etcd.revisionBefore);
    const withoutLease = (keys: StoredKey[]) => keys.map((key) => ({ ...key, lease: key.lease === '0' ? '0' : 'lease' }));
    expect(withoutLease(cairn.keys)).to.deep.equal(withoutLease(etcd.keys));
  });

  it('status: simple, table, json and fields have etcdctl\'s shape and revision, and the key count grows alike', async () => {
    const counts: Record<string, number[]> = { etcd: [], cairn: [] };
    for (const [kind, side] of [['etcd', etcd], ['cairn', cairn]] as const) {
      for (const [file, revision] of [[side.before, side.revisionBefore], [side.after, side.revisionBefore + 3]] as const) {
        const simple = await must0(statusOf(kind, file, 'simple'), `${kind} status simple`);
        const match = must(/^([0-9a-f]{1,8}), (\d+), (\d+), (\d+(?:\.\d)? [kMG]?B)\n$/.exec(simple.stdout) ?? undefined, `${kind}: simple status, got ${simple.stdout}`);
        expect(Number(match[2]), `${kind} revision`).to.equal(revision);
        counts[kind]?.push(Number(match[3]));
        const json = JSON.parse((await must0(statusOf(kind, file, 'json'), `${kind} json`)).stdout) as Record<string, unknown>;
        expect(Object.keys(json), `${kind} json keys`).to.deep.equal(['hash', 'revision', 'totalKey', 'totalSize']);
        expect(json.revision).to.equal(revision);
        expect(json.hash).to.equal(parseInt(must(match[1], 'hash'), 16));
        const table = (await must0(statusOf(kind, file, 'table'), `${kind} table`)).stdout.split('\n');
        expect(table.length, `${kind} table lines`).to.equal(6);
        expect(table[1]?.replace(/ +/g, ' ')).to.equal('| HASH | REVISION | TOTAL KEYS | TOTAL SIZE |');
        expect(table[3]?.split('|').map((cell) => cell.trim())).to.deep.equal(['', match[1], match[2], match[3], match[4], '']);
        expect(table[0]).to.match(/^\+(-+\+){4}$/);
        const fields = (await must0(statusOf(kind, file, 'fields'), `${kind} fields`)).stdout;
        expect(fields).to.equal(`"Hash" : ${json.hash}\n"Revision" : ${revision}\n"Keys" : ${json.totalKey}\n"Size" : ${json.totalSize}\n`);
      }
    }
    const growth = (kind: string) => must(counts[kind]?.[1], 'after') - must(counts[kind]?.[0], 'before');
    expect(growth('cairn')).to.equal(growth('etcd'));
  });

  it('status: an unknown output format is refused as etcdctl refuses it', async () => {
    for (const format of ['yaml', 'protobuf']) {
      const [fromEtcd, fromCairn] = await Promise.all([statusOf('etcd', etcd.before, format), statusOf('cairn', cairn.before, format)]);
      expect({ code: fromCairn.code, errors: errorLines(fromCairn.stderr) }).to.deep.equal({ code: fromEtcd.code, errors: errorLines(fromEtcd.stderr) });
    }
  });

  it('restore into one data directory: a new member with every key, its revisions and the lease, that takes writes', async () => {
    const root = mkdtempSync(join(tmpdir(), 'cairn-restored-'));
    let server: ServerHandle | undefined;
    try {
      const peerPort = await freePort();
      const member = { name: 'solo', dataDir: join(root, 'data'), peerUrl: `http://127.0.0.1:${peerPort}` };
      const restored = await restoreSolo(cairn.before, member, 'restored');
      expect(restored.stdout).to.equal('');
      server = await startCairn({ dataDir: member.dataDir, name: 'solo', peerPort });
      const { keys, revision } = await keysOf(server.endpoint);
      expect(revision).to.equal(cairn.revisionBefore);
      expect(keys).to.deep.equal(cairn.keys);
      const leaseHex = BigInt(cairn.leaseId).toString(16);
      const ttl = await must0(etcdctl(server.endpoint, ['lease', 'timetolive', leaseHex, '--keys']), 'timetolive');
      expect(ttl.stdout).to.match(/granted with TTL\(600s\), remaining\(\d+s\), attached keys\(\[leased\/1 leased\/2\]\)/);
      await must0(etcdctl(server.endpoint, ['put', 'a', '4']), 'put');
      const after = await keysOf(server.endpoint);
      expect(after.revision).to.equal(cairn.revisionBefore + 1);
      expect(after.keys.find((key) => key.key === 'a')).to.include({ value: '4', version: '4', modRevision: String(cairn.revisionBefore + 1) });
      const members = await must0(etcdctl(server.endpoint, ['member', 'list']), 'member list');
      expect(members.stdout.trim().split('\n')).to.have.length(1);
      expect(members.stdout).to.match(new RegExp(`, started, solo, ${member.peerUrl}, `));
    } finally {
      await server?.destroy();
      rmSync(root, { recursive: true, force: true });
    }
  });

  it('restore into three data directories from one file: a working three-member cluster', async () => {
    let cluster: Cluster | undefined;
    try {
      cluster = await startCluster('cairn', { size: 3, seedDataDirs: restoreEveryMember(cairn.before) });
      for (const member of cluster.members) {
        const { keys, revision } = await keysOf(member.endpoint);
        expect(revision, member.name).to.equal(cairn.revisionBefore);
        expect(keys, member.name).to.deep.equal(cairn.keys);
      }
      const [first, second] = cluster.members;
      await must0(etcdctl(must(first, 'm1').endpoint, ['put', 'after-restore', 'yes']), 'put');
      const read = await must0(etcdctl(must(second, 'm2').endpoint, ['get', 'after-restore', '--print-value-only']), 'get');
      expect(read.stdout).to.equal('yes\n');
      const listed = await must0(etcdctl(must(second, 'm2').endpoint, ['member', 'list']), 'member list');
      const names = listed.stdout.trim().split('\n').map((line) => line.split(', ')[2]).sort();
      expect(names).to.deep.equal(['m1', 'm2', 'm3']);
      const ttl = await must0(etcdctl(must(second, 'm2').endpoint, ['lease', 'timetolive', BigInt(cairn.leaseId).toString(16), '--keys']), 'timetolive');
      expect(ttl.stdout).to.match(/attached keys\(\[leased\/1 leased\/2\]\)/);
    } finally {
      await cluster?.destroy();
    }
  });

  it('restore refuses a damaged file, a file without its checksum and an existing data directory, in etcdctl\'s words', async () => {
    const root = mkdtempSync(join(tmpdir(), 'cairn-restore-refused-'));
    try {
      const damaged = (file: string, kind: string): string => {
        const bytes = readFileSync(file);
        const at = Math.floor(bytes.length / 2);
        bytes[at] = (bytes[at] ?? 0) ^ 0xff;
        const path = join(root, `${kind}-damaged.db`);
        writeFileSync(path, bytes);
        return path;
      };
      const truncated = (file: string, kind: string): string => {
        const path = join(root, `${kind}-truncated.db`);
        writeFileSync(path, readFileSync(file).subarray(0, 10_000));
        return path;
      };
      const existing = join(root, 'existing');
      mkdirSync(existing);
      const cases: Array<[string, (file: string, kind: string) => string[], RegExp]> = [
        ['damaged', (file, kind) => ['snapshot', 'restore', damaged(file, kind), '--data-dir', join(root, `${kind}-d`)], /^Error: expected sha256 \[[\d ]+\], got \[[\d ]+\]$/],
        ['truncated', (file, kind) => ['snapshot', 'restore', truncated(file, kind), '--data-dir', join(root, `${kind}-t`)], /^Error: snapshot missing hash but --skip-hash-check=false$/],
        ['existing', (file) => ['snapshot', 'restore', file, '--data-dir', existing], /^Error: data-dir ".*existing" exists$/],
      ];
      for (const [what, args, message] of cases) {
        const fromEtcd = await etcdctlOffline(args(etcd.before, 'etcd'));
        const fromCairn = await runCairn(args(cairn.before, 'cairn'));
        expect(fromCairn.code, `${what}: exit code`).to.equal(fromEtcd.code).and.to.equal(1);
        expect(errorLines(fromEtcd.stderr), `${what}: etcdctl`).to.have.length(1);
        expect(errorLines(fromCairn.stderr), `${what}: cairn`).to.have.length(1);
        expect(must(errorLines(fromCairn.stderr)[0], 'the error')).to.match(message);
        expect(must(errorLines(fromEtcd.stderr)[0], 'the error')).to.match(message);
        expect(fromCairn.stderr, `${what}: no stack trace`).to.not.match(/\n\s+at /);
      }
      expect(existsSync(join(root, 'cairn-d')), 'nothing written for a damaged file').to.equal(false);
      expect(existsSync(join(root, 'cairn-t')), 'nothing written for a truncated file').to.equal(false);
      expect(existsSync(join(existing, 'member')), 'an existing directory is left alone').to.equal(false);
    } finally {
      rmSync(root, { recursive: true, force: true });
    }
  });
});
