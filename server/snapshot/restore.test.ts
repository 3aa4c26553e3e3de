import { expect } from 'chai';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { StoredAuth } from '../../proto/gen/cairnpb/internal.js';
import { KeyValue } from '../../proto/gen/mvccpb/kv.js';
import { metaAuth } from '../auth/store.js';
import { realClock, type Clock } from '../clock.js';
import { encodeMessage } from '../codec.js';
import { LeaseTable } from '../lease/table.js';
import { Membership } from '../membership/membership.js';
import { Backend } from '../mvcc/backend.js';
import { MvccStore } from '../mvcc/store.js';
import { Wal } from '../storage/wal.js';
import { writeSnapshotFile } from '../testing/snapshot-file.js';
import { CairnSnapshotSource } from './cairn-source.js';
import { DataDirExistsError, InvalidSnapshotError } from './errors.js';
import { planMembership } from './restore-plan.js';
import { restoreDataDir } from './restore.js';
import type { SnapshotSource } from './source.js';

const initialCluster = 'm1=http://127.0.0.1:2380,m2=http://127.0.0.1:2381,m3=http://127.0.0.1:2382';
const plan = planMembership({ name: 'm2', initialCluster, initialClusterToken: 'restored', initialAdvertisePeerUrls: ['http://127.0.0.1:2381'] });
const auth: StoredAuth = { enabled: true, revision: 7n, users: [], roles: [] };
const leaseId = 0x1234n;

describe('snapshot restore', () => {
  let dir = '';
  let snapshot = '';
  /** What the snapshot's store served: every key at its last revision. */
  let expected: KeyValue[] = [];

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'cairn-restore-test-'));
    snapshot = await writeSnapshotFile(join(dir, 's.db'), async (temp, leases) => {
      temp.backend.transaction(() => leases.grant(leaseId, 600n));
      for (const [key, value] of [['a', '1'], ['a', '2'], ['b', '1'], ['gone', 'x'], ['a', '3']] as const) temp.write((txn) => void txn.put(Buffer.from(key), Buffer.from(value), 0n));
      temp.write((txn) => void txn.deleteRange({ start: 'gone' }));
      await temp.compact(4);
      temp.write((txn) => {
        txn.put(Buffer.from('leased/1'), Buffer.from('x'), leaseId);
        txn.put(Buffer.from('leased/2'), Buffer.from('y'), leaseId);
      });
      // What restore must not carry over: the old cluster's membership, identity and alarms.
      temp.backend.transaction(() => {
        temp.backend.putMeta(metaAuth, encodeMessage(StoredAuth, auth));
        for (const name of ['members', 'member_identity', 'alarms']) temp.backend.putMeta(name, Buffer.from('old'));
      });
      expected = temp.store.range({ start: '\0', end: '' }).kvs;
    });
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  const open = (name: string): CairnSnapshotSource => CairnSnapshotSource.open(snapshot, join(dir, `staging-${name}`), 'required');

  it('writes a data directory holding the history, the compaction, the lease with its keys and auth, under the new membership', async () => {
    const source = open('full');
    const dataDir = join(dir, 'full');
    try {
      expect(source).to.include({ revision: 8, compactRevision: 4 });
      const summary = await restoreDataDir(source, { dataDir, name: 'm2', plan }, realClock, () => {});
      expect(summary).to.deep.equal({ revisionRecords: source.revisionCount, leases: 1 });
    } finally {
      await source.close();
    }
    expect(readdirSync(dir).filter((name) => name.startsWith('.'))).to.deep.equal([]);
    const backend = new Backend(join(dataDir, 'member', 'snap'));
    try {
      const store = new MvccStore(backend, realClock);
      expect(store).to.include({ currentRevision: 8, compactRevision: 4, consistentIndex: 0 });
      expect(store.range({ start: '\0', end: '' }).kvs).to.deep.equal(expected);
      const leases = new LeaseTable(backend, 0n);
      leases.restore(store);
      expect([...leases.keysOf(leaseId)].sort()).to.deep.equal(['leased/1', 'leased/2']);
      expect(leases.get(leaseId)?.ttlSeconds).to.equal(600n);
      expect(StoredAuth.decode(backend.getMeta(metaAuth) ?? Buffer.alloc(0))).to.deep.equal(auth);
      // The membership comes from the log; alarms belonged to the old members.
      expect(new Membership(backend).list()).to.deep.equal([]);
      expect(backend.getMeta('alarms')).to.equal(undefined);
    } finally {
      await backend.close();
    }
    const { wal, contents } = Wal.open(join(dataDir, 'member', 'wal'));
    wal.close();
    expect(contents.entries.map((entry) => Number(entry.index))).to.deep.equal([1, 2, 3]);
    expect(contents.hardState?.commit).to.equal(3n);
  });

  it('refuses an existing data directory, even an empty one, and writes nothing', async () => {
    const dataDir = join(dir, 'existing');
    mkdirSync(dataDir);
    const source = open('existing');
    try {
      let caught: unknown;
      await restoreDataDir(source, { dataDir, name: 'm2', plan }, realClock, () => {}).catch((error: unknown) => (caught = error));
      expect(caught).to.be.instanceOf(DataDirExistsError).with.property('message', `data-dir ${JSON.stringify(dataDir)} exists`);
      expect(readdirSync(dataDir)).to.deep.equal([]);
    } finally {
      await source.close();
    }
  });

  it('refuses a source whose history is out of order and leaves nothing behind', async () => {
    const kv = KeyValue.fromPartial({ key: Buffer.from('k'), value: Buffer.from('v'), createRevision: 3n, modRevision: 3n, version: 1n });
    const disordered: SnapshotSource = {
      revision: 3, compactRevision: -1, revisionCount: 2,
      revisions: () => [{ revision: { main: 3, sub: 0 }, tombstone: false, kv }, { revision: { main: 2, sub: 0 }, tombstone: false, kv }],
      leases: () => [], auth: () => undefined, close: async () => {},
    };
    const dataDir = join(dir, 'disordered');
    let caught: unknown;
    await restoreDataDir(disordered, { dataDir, name: 'm2', plan }, realClock, () => {}).catch((error: unknown) => (caught = error));
    expect(caught).to.be.instanceOf(InvalidSnapshotError).with.property('detail').that.matches(/out of order/);
    expect(existsSync(dataDir)).to.equal(false);
    expect(readdirSync(dir).filter((name) => name.startsWith('.'))).to.deep.equal([]);
  });

  it('reports progress only once the restore has run longer than the quiet period', async () => {
    let nowMs = 0;
    // Each read of the clock is a second later: every batch looks long.
    const clock = { nowMs: () => (nowMs += 1_000) } as unknown as Clock;
    const lines: string[] = [];
    const source = open('progress');
    try {
      await restoreDataDir(source, { dataDir: join(dir, 'progress'), name: 'm2', plan }, clock, (line) => lines.push(line), { quietMs: 500, intervalMs: 500 });
    } finally {
      await source.close();
    }
    expect(lines[0]).to.match(/^restoring: \d+ of \d+ revision records \(100%\), [\d.]+ s$/);
    expect(lines[lines.length - 1]).to.match(/^restored \d+ revision records in [\d.]+ s$/);
    const quiet: string[] = [];
    const again = open('quiet');
    try {
      await restoreDataDir(again, { dataDir: join(dir, 'quiet'), name: 'm2', plan }, realClock, (line) => quiet.push(line));
    } finally {
      await again.close();
    }
    expect(quiet).to.deep.equal([]);
  });
});
