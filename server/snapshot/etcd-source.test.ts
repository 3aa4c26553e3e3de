import { expect } from 'chai';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { StoredAuth } from '../../proto/gen/cairnpb/internal.js';
import { metaAuth } from '../auth/store.js';
import { realClock, type Clock } from '../clock.js';
import { LeaseTable } from '../lease/table.js';
import { Backend } from '../mvcc/backend.js';
import { MvccStore } from '../mvcc/store.js';
import { backend, compactRevision, del, inlineBucket, lease, put, withTrailer, saveFixture } from './etcd/etcd-fixture.js';
import { EtcdSnapshotSource } from './etcd-source.js';
import { InvalidSnapshotError, SnapshotFileUnreadableError, SnapshotHashMismatchError, SnapshotMissingHashError } from './errors.js';
import { planMembership } from './restore-plan.js';
import { restoreDataDir } from './restore.js';

const plan = planMembership({ name: 'solo', initialCluster: 'solo=http://127.0.0.1:2380', initialClusterToken: 't', initialAdvertisePeerUrls: ['http://127.0.0.1:2380'] });
const records = [put(2, 'a', '1', 2, 1), put(3, 'a', '2', 2, 2, 7n), put(4, 'b', '1', 4, 1), del(5, 'b'), put(6, 'c', '1', 6, 1), put(7, 'a', '3', 2, 3, 7n)];
const authBuckets = [inlineBucket('auth', [{ key: 'authEnabled', value: Buffer.from([0]) }]), inlineBucket('authRoles', []), inlineBucket('authUsers', [])];

describe('EtcdSnapshotSource', () => {
  let dir = '';
  const file = (name: string, bytes: Buffer): string => saveFixture(dir, name, bytes);
  const revisionsOf = (source: EtcdSnapshotSource): string[] => [...source.revisions()].map((record) => `${record.revision.main}${record.tombstone ? 'x' : ''}:${record.kv.key.toString()}`);

  before(() => (dir = mkdtempSync(join(tmpdir(), 'cairn-etcd-source-'))));
  after(() => rmSync(dir, { recursive: true, force: true }));

  it('gives the history in revision order, the leases and the auth store; -1 for a store never compacted', async () => {
    const source = await EtcdSnapshotSource.open(file('plain.db', withTrailer(backend(records, [], [lease(7n, 60n)], authBuckets))), 'required');
    expect(source).to.include({ revision: 7, compactRevision: -1, revisionCount: 6 });
    expect(revisionsOf(source)).to.deep.equal(['2:a', '3:a', '4:b', '5x:b', '6:c', '7:a']);
    expect([...source.leases()]).to.deep.equal([{ id: 7n, ttlSeconds: 60n }]);
    expect(source.auth()).to.deep.equal({ enabled: false, revision: 1n, users: [], roles: [] });
  });

  it('finishes a compaction etcd had scheduled: leaves out what it removes, and counts what is left', async () => {
    const meta = [compactRevision('finishedCompactRev', 2), compactRevision('scheduledCompactRev', 5)];
    const source = await EtcdSnapshotSource.open(file('pending.db', withTrailer(backend(records, meta))), 'required');
    // Of a: 3 is its last at or below 5; b's last is a delete, gone with its put.
    expect(revisionsOf(source)).to.deep.equal(['3:a', '6:c', '7:a']);
    expect(source).to.include({ revision: 7, compactRevision: 5, revisionCount: 3 });
  });

  it('restores a data directory, reporting progress against the count it gave up front', async () => {
    const meta = [compactRevision('finishedCompactRev', 3)];
    const source = await EtcdSnapshotSource.open(file('restore.db', withTrailer(backend(records.slice(1), meta, [lease(7n, 60n)], authBuckets))), 'required');
    let nowMs = 0;
    // Each read of the clock is a second later: every batch looks long.
    const clock = { nowMs: () => (nowMs += 1_000) } as unknown as Clock;
    const lines: string[] = [];
    const dataDir = join(dir, 'restored');
    const summary = await restoreDataDir(source, { dataDir, name: 'solo', plan }, clock, (line) => lines.push(line), { quietMs: 500, intervalMs: 500 });
    expect(summary).to.deep.equal({ revisionRecords: 5, leases: 1 });
    expect(lines[0]).to.match(/^restoring: 5 of 5 revision records \(100%\), [\d.]+ s$/);
    const restored = new Backend(join(dataDir, 'member', 'snap'));
    try {
      const store = new MvccStore(restored, realClock);
      expect(store).to.include({ currentRevision: 7, compactRevision: 3 });
      const kvs = store.range({ start: '\0', end: '' }).kvs;
      expect(kvs.map((kv) => [kv.key.toString(), kv.value.toString(), Number(kv.createRevision), Number(kv.modRevision), Number(kv.version)])).to.deep.equal([
        ['a', '3', 2, 7, 3], ['c', '1', 6, 6, 1],
      ]);
      const leases = new LeaseTable(restored, 0n);
      leases.restore(store);
      expect([...leases.keysOf(7n)]).to.deep.equal(['a']);
      expect(StoredAuth.decode(restored.getMeta(metaAuth) ?? Buffer.alloc(0))).to.include({ enabled: false, revision: 1n });
    } finally {
      await restored.close();
    }
  });

  it('checks the trailer as restore (required, skip) and status (if present) do, and refuses files in etcdctl\'s words', async () => {
    const image = backend(records, []);
    const bare = file('bare.db', image);
    let caught: unknown;
    const refusal = async (path: string, check: 'required' | 'if-present' | 'skip'): Promise<unknown> =>
      EtcdSnapshotSource.open(path, check).then(() => undefined, (error: unknown) => error);
    expect(await refusal(bare, 'required')).to.be.instanceOf(SnapshotMissingHashError);
    expect(await refusal(bare, 'if-present')).to.equal(undefined);
    expect(await refusal(bare, 'skip')).to.equal(undefined);
    const damaged = withTrailer(image);
    damaged[damaged.length - 1]! ^= 1;
    const damagedPath = file('damaged.db', damaged);
    for (const check of ['required', 'if-present'] as const) expect(await refusal(damagedPath, check)).to.be.instanceOf(SnapshotHashMismatchError);
    expect(await refusal(damagedPath, 'skip')).to.equal(undefined);
    caught = await refusal(file('layout.db', withTrailer(backend([{ key: 'not-a-revision', value: '' }], []))), 'required');
    expect(caught).to.be.instanceOf(InvalidSnapshotError).with.property('detail').that.matches(/is no revision key/);
    caught = await refusal(join(dir, 'missing.db'), 'required');
    expect(caught).to.be.instanceOf(SnapshotFileUnreadableError).with.property('message', `open ${join(dir, 'missing.db')}: no such file or directory`);
  });
});
