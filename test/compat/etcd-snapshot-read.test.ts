// The etcd snapshot reader (server/snapshot/etcd/) against a real etcd 3.4:
// write a data set that makes etcd's bbolt file use every kind of page, with
// history (etcd-data-set.ts), save it with `etcdctl snapshot save`, read it,
// and compare with what etcdctl says.
import { expect } from 'chai';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { KeyValue } from '../../proto/gen/mvccpb/kv.js';
import { BoltFile } from '../../server/snapshot/etcd/bbolt.js';
import { leafElements, PageFlag } from '../../server/snapshot/etcd/bolt-page.js';
import { EtcdSnapshot, isBoltFile, readEtcdSnapshot } from '../../server/snapshot/etcd/etcd-snapshot.js';
import { EtcdSnapshotHashMismatchError } from '../../server/snapshot/etcd/errors.js';
import { etcdctl } from '../harness/etcdctl.js';
import { etcdAvailable, startEtcd, type ServerHandle } from '../harness/launcher.js';
import { bigValueBytes, keptLeaseTtlsSeconds, liveKeys, parseExact, writeEtcdDataSet, type PrintedKv } from './etcd-data-set.js';

/** A KeyValue as comparable plain data. */
function printed(kv: KeyValue): PrintedKv {
  return {
    key: kv.key.toString('base64'),
    value: kv.value.toString('base64'),
    create_revision: String(kv.createRevision),
    mod_revision: String(kv.modRevision),
    version: String(kv.version),
    ...(kv.lease === 0n ? {} : { lease: String(kv.lease) }),
  };
}

describe('compat: reading an etcd 3.4 snapshot file', function () {
  let etcd: ServerHandle | undefined;
  let directory = '';
  let snapshotPath = '';
  let compactRevision = 0n;

  before(async function () {
    if (!etcdAvailable()) this.skip();
    this.timeout(120_000);
    directory = mkdtempSync(join(tmpdir(), 'cairn-etcd-snapshot-read-'));
    snapshotPath = join(directory, 'etcd.db');
    etcd = await startEtcd();
    ({ compactRevision } = await writeEtcdDataSet(etcd.endpoint));
    const saved = await etcdctl(etcd.endpoint, ['snapshot', 'save', snapshotPath], { timeoutMs: 60_000 });
    expect(saved.code, saved.stderr).to.equal(0);
  });

  after(async () => {
    await etcd?.destroy();
    if (directory !== '') rmSync(directory, { recursive: true, force: true });
  });

  it('reads the live keys etcdctl get prints: values, revisions, versions, leases', async function () {
    this.timeout(60_000);
    const snapshot = await readEtcdSnapshot(snapshotPath);
    const got = await etcdctl(etcd!.endpoint, ['get', '', '--prefix', '-w', 'json'], { timeoutMs: 30_000 });
    expect(got.code, got.stderr).to.equal(0);
    const answer = parseExact<{ header: { revision: string }; kvs: PrintedKv[] }>(got.stdout);
    const live = [...snapshot.live()].map(printed);
    expect(live.length).to.equal(answer.kvs.length);
    expect(live).to.deep.equal(answer.kvs);
    expect(String(snapshot.revision)).to.equal(answer.header.revision);
    expect(live.length, 'the writes made it').to.equal(liveKeys);
  });

  it('reads the leases etcdctl lease list prints', async function () {
    this.timeout(30_000);
    const snapshot = await readEtcdSnapshot(snapshotPath);
    const listed = await etcdctl(etcd!.endpoint, ['lease', 'list', '-w', 'json']);
    expect(listed.code, listed.stderr).to.equal(0);
    const answer = parseExact<{ leases: Array<{ id: string }> }>(listed.stdout);
    const ids = [...snapshot.leases()].map((lease) => String(lease.id));
    expect(ids.slice().sort()).to.deep.equal(answer.leases.map((lease) => lease.id).sort());
    expect([...snapshot.leases()].map((lease) => lease.ttlSeconds).sort()).to.deep.equal(keptLeaseTtlsSeconds);
  });

  it('reads the history: revision order, compaction as etcd performs it, the bookkeeping of bucket "meta"', async function () {
    this.timeout(30_000);
    const snapshot = await readEtcdSnapshot(snapshotPath);
    expect(BigInt(snapshot.compactRevision)).to.equal(compactRevision);
    expect(snapshot.scheduledCompactRevision).to.equal(0);
    const status = await etcdctl(etcd!.endpoint, ['endpoint', 'status', '-w', 'json']);
    expect(status.code, status.stderr).to.equal(0);
    const [member] = parseExact<Array<{ Status: { raftAppliedIndex: string } }>>(status.stdout);
    expect(snapshot.consistentIndex, 'applied entries').to.be.greaterThan(0).and.at.most(Number(member!.Status.raftAppliedIndex));

    const records = [...snapshot.revisions()];
    for (let index = 1; index < records.length; index++) {
      const [before, after] = [records[index - 1]!.revision, records[index]!.revision];
      expect(before.main < after.main || (before.main === after.main && before.sub < after.sub), 'revision order').to.equal(true);
    }
    expect(records.some((record) => record.revision.sub > 0), 'Txns made sub revisions').to.equal(true);
    // Compaction keeps, of each key, only its last revision at or below the compaction revision, and no tombstone there.
    const atOrBelow = new Map<string, number>();
    for (const record of records.filter((entry) => entry.revision.main <= snapshot.compactRevision)) {
      expect(record.tombstone, 'no tombstone at or below the compaction').to.equal(false);
      atOrBelow.set(record.kv.key.toString(), (atOrBelow.get(record.kv.key.toString()) ?? 0) + 1);
    }
    expect([...atOrBelow.values()].every((count) => count === 1)).to.equal(true);
    const multi = records.filter((record) => record.kv.key.toString() === 'mig/multi');
    expect(multi.map((record) => [record.tombstone, record.kv.value.toString()])).to.deep.equal([[false, 'round 5'], [true, ''], [false, 'reborn']]);
    const revoked = records.filter((record) => record.kv.key.toString().startsWith('mig/revoked/'));
    expect(revoked.map((record) => record.tombstone)).to.deep.equal([false, false, true, true]);
  });

  it('took every kind of page: bucket "key" is rooted at a branch page, "meta" is inline, big values overflow', () => {
    const file = readFileSync(snapshotPath);
    const bolt = BoltFile.fromBuffer(file.subarray(0, file.length - 32));
    const root = bolt.page(bolt.meta.rootPageId);
    const buckets = new Map(leafElements(root.bytes, root.header, root.id).map((element) => [element.key.toString(), element.value]));
    expect(bolt.page(buckets.get('key')!.readBigUInt64LE(0)).header.flags).to.equal(PageFlag.branch);
    expect(buckets.get('meta')!.readBigUInt64LE(0), 'an inline bucket has root page 0').to.equal(0n);
    expect(bolt.meta.pageSize).to.be.lessThan(Math.max(...bigValueBytes));
  });

  it("is a bbolt file; a damaged copy fails etcd's hash check", () => {
    const file = readFileSync(snapshotPath);
    expect(isBoltFile(file)).to.equal(true);
    file[file.length - 100]! ^= 0xff;
    expect(() => EtcdSnapshot.fromBuffer(file)).to.throw(EtcdSnapshotHashMismatchError, /^expected sha256 \[/);
  });
});
