// The etcd snapshot reader (server/snapshot/etcd/) against a real etcd 3.4:
// write enough to make etcd's bbolt file use every kind of page (thousands of
// keys: branch pages; values over 4 KiB: overflow pages; small buckets
// "meta" and "lease": inline buckets), with history (several revisions of a
// key, deletes, a lease revoked with its keys, a compaction), save it with
// `etcdctl snapshot save`, read it, and compare with what etcdctl says.
import { expect } from 'chai';
import { credentials } from '@grpc/grpc-js';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { KeyValue } from '../../proto/gen/mvccpb/kv.js';
import {
  KVClient, LeaseClient, RequestOp, type CompactionResponse, type DeleteRangeResponse, type LeaseGrantResponse,
  type LeaseRevokeResponse, type PutResponse, type TxnResponse,
} from '../../proto/gen/etcdserverpb/rpc.js';
import { BoltFile } from '../../server/snapshot/etcd/bbolt.js';
import { leafElements, PageFlag } from '../../server/snapshot/etcd/bolt-page.js';
import { EtcdSnapshot, isBoltFile, readEtcdSnapshot } from '../../server/snapshot/etcd/etcd-snapshot.js';
import { EtcdSnapshotHashMismatchError } from '../../server/snapshot/etcd/errors.js';
import { etcdctl } from '../harness/etcdctl.js';
import { etcdAvailable, startEtcd, type ServerHandle } from '../harness/launcher.js';
import { responseOf, unary } from './rpc.js';

const plainKeys = 3_000;
/** Puts per Txn: below etcd's default --max-txn-ops of 128. */
const putsPerTxn = 100;
/** Over bbolt's 4 KiB page: each of these records spans overflow pages. */
const bigValueBytes = [5_000, 9_000, 20_000];

const plainKey = (index: number): string => `mig/key/${String(index).padStart(4, '0')}`;

/** One KeyValue as etcdctl's JSON prints it, with its 64-bit integers kept exact. */
interface PrintedKv {
  key: string;
  value: string;
  create_revision: string;
  mod_revision: string;
  version: string;
  lease?: string;
}

/** etcdctl's JSON, with every integer as a string: lease IDs pass 2^53. */
function parseExact<T>(text: string): T {
  return JSON.parse(text.replace(/("[a-z_A-Z]+":)(-?\d+)/g, '$1"$2"')) as T;
}

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
  let kv: KVClient | undefined;
  let leases: LeaseClient | undefined;
  let directory = '';
  let snapshotPath = '';
  let compactRevision = 0n;

  const put = async (key: string, value: string | Buffer, lease = 0n): Promise<bigint> => {
    const request = { key: Buffer.from(key), value: Buffer.from(value), lease, prevKv: false, ignoreValue: false, ignoreLease: false };
    const response = responseOf(await unary<PutResponse>((m, o, done) => kv!.put(request, m, o, done)), `put ${key}`);
    return response.header!.revision;
  };
  const remove = async (key: string, rangeEnd = ''): Promise<void> => {
    const request = { key: Buffer.from(key), rangeEnd: Buffer.from(rangeEnd), prevKv: false };
    responseOf(await unary<DeleteRangeResponse>((m, o, done) => kv!.deleteRange(request, m, o, done)), `delete ${key}`);
  };
  const grant = async (ttlSeconds: bigint): Promise<bigint> => {
    const response = responseOf(await unary<LeaseGrantResponse>((m, o, done) => leases!.leaseGrant({ TTL: ttlSeconds, ID: 0n }, m, o, done)), 'grant');
    return response.ID;
  };

  /** Puts keys [from, to) in Txns, so that their revisions have sub revisions too; `lease` for those below `leasedBelow`. */
  const putPlainKeys = async (from: number, to: number, value: (index: number) => string, lease: bigint, leasedBelow: number): Promise<void> => {
    for (let start = from; start < to; start += putsPerTxn) {
      const success: RequestOp[] = [];
      for (let index = start; index < Math.min(to, start + putsPerTxn); index++) {
        const requestPut = { key: Buffer.from(plainKey(index)), value: Buffer.from(value(index)), lease: index < leasedBelow ? lease : 0n };
        success.push(RequestOp.fromPartial({ requestPut }));
      }
      responseOf(await unary<TxnResponse>((m, o, done) => kv!.txn({ compare: [], success, failure: [] }, m, o, done)), 'txn');
    }
  };

  before(async function () {
    if (!etcdAvailable()) this.skip();
    this.timeout(120_000);
    directory = mkdtempSync(join(tmpdir(), 'cairn-etcd-snapshot-read-'));
    snapshotPath = join(directory, 'etcd.db');
    etcd = await startEtcd();
    kv = new KVClient(etcd.endpoint, credentials.createInsecure());
    leases = new LeaseClient(etcd.endpoint, credentials.createInsecure());

    const kept = await grant(600n);
    const other = await grant(900n);
    const revoked = await grant(300n);
    await putPlainKeys(0, plainKeys, (index) => `value ${index} `.repeat(8), kept, 50);
    for (const [index, bytes] of bigValueBytes.entries()) await put(`mig/big/${index}`, Buffer.alloc(bytes, 0x61 + index));
    for (let round = 1; round <= 5; round++) await put('mig/multi', `round ${round}`, round === 5 ? other : 0n);
    await put('mig/revoked/a', 'gone', revoked);
    await put('mig/revoked/b', 'gone', revoked);
    await remove('mig/key/2990', 'mig/key/3000');

    // Compact in the middle of the history: the snapshot keeps only the last revision at or below it of each key.
    compactRevision = await put('mig/compacted', 'before');
    responseOf(await unary<CompactionResponse>((m, o, done) => kv!.compact({ revision: compactRevision, physical: true }, m, o, done)), 'compact');

    await putPlainKeys(100, 200, (index) => `rewritten ${index}`, 0n, 0);
    await remove('mig/key/0200', 'mig/key/0300');
    await remove('mig/multi');
    await put('mig/multi', 'reborn');
    await put('mig/big/0', Buffer.alloc(bigValueBytes[0]!, 0x7a));
    await put('mig/compacted', 'after');
    responseOf(await unary<LeaseRevokeResponse>((m, o, done) => leases!.leaseRevoke({ ID: revoked }, m, o, done)), 'revoke');

    const saved = await etcdctl(etcd.endpoint, ['snapshot', 'save', snapshotPath], { timeoutMs: 60_000 });
    expect(saved.code, saved.stderr).to.equal(0);
  });

  after(async () => {
    kv?.close();
    leases?.close();
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
    expect(live.length, 'the writes made it').to.equal(plainKeys - 10 - 100 + 3 + 2);
  });

  it('reads the leases etcdctl lease list prints', async function () {
    this.timeout(30_000);
    const snapshot = await readEtcdSnapshot(snapshotPath);
    const listed = await etcdctl(etcd!.endpoint, ['lease', 'list', '-w', 'json']);
    expect(listed.code, listed.stderr).to.equal(0);
    const answer = parseExact<{ leases: Array<{ id: string }> }>(listed.stdout);
    const ids = [...snapshot.leases()].map((lease) => String(lease.id));
    expect(ids.slice().sort()).to.deep.equal(answer.leases.map((lease) => lease.id).sort());
    expect([...snapshot.leases()].map((lease) => lease.ttlSeconds).sort()).to.deep.equal([600n, 900n]);
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
