import { expect } from 'chai';
import { createHash } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { revisionToBytes } from '../../mvcc/revision.js';
import { boltFile, inlineBucketValue, leafPage } from './bolt-fixture.js';
import {
  EtcdSnapshotHashMismatchError, EtcdSnapshotHashMissingError, EtcdSnapshotLayoutError,
} from './errors.js';
import { backend, consistentIndex, del, lease, put, withTrailer } from './etcd-fixture.js';
import { EtcdSnapshot, isBoltFile, readEtcdSnapshot } from './etcd-snapshot.js';

const sample = (): Buffer => withTrailer(backend(
  [put(2, 'a', '1', 2, 1, 7n), put(3, 'b', '2', 3, 1), put(4, 'a', '3', 2, 2, 7n), del(5, 'b'), put(6, 'c', '4', 6, 1)],
  [consistentIndex(42), { key: 'finishedCompactRev', value: revisionToBytes({ main: 3, sub: 0 }) }],
  [lease(7n, 60n), lease(9n, 120n)],
));

describe('etcd snapshot reader', () => {
  it('reads the revisions, the live keys, the leases and the meta bookkeeping', () => {
    const snapshot = EtcdSnapshot.fromBuffer(sample());
    expect(snapshot.revision).to.equal(6);
    expect(snapshot.compactRevision).to.equal(3);
    expect(snapshot.scheduledCompactRevision).to.equal(0);
    expect(snapshot.consistentIndex).to.equal(42);
    expect(snapshot.revisionCount, 'records of bucket "key"').to.equal(5);
    expect([...snapshot.revisions()].map((record) => [record.revision.main, record.tombstone, record.kv.key.toString()])).to.deep.equal([
      [2, false, 'a'], [3, false, 'b'], [4, false, 'a'], [5, true, 'b'], [6, false, 'c'],
    ]);
    expect([...snapshot.live()].map((kv) => [kv.key.toString(), kv.value.toString(), kv.createRevision, kv.modRevision, kv.version, kv.lease])).to.deep.equal([
      ['a', '3', 2n, 4n, 2n, 7n], ['c', '4', 6n, 6n, 1n, 0n],
    ]);
    expect([...snapshot.leases()]).to.deep.equal([{ id: 7n, ttlSeconds: 60n }, { id: 9n, ttlSeconds: 120n }]);
  });

  it('takes the compaction revision as the revision when compaction removed the later records (as etcd restores)', () => {
    const snapshot = EtcdSnapshot.fromBuffer(withTrailer(backend([put(2, 'a', '1', 2, 1)], [
      { key: 'finishedCompactRev', value: revisionToBytes({ main: 9, sub: 0 }) },
      { key: 'scheduledCompactRev', value: revisionToBytes({ main: 12, sub: 0 }) },
    ])));
    expect(snapshot.revision).to.equal(9);
    expect(snapshot.scheduledCompactRevision).to.equal(12);
    expect(snapshot.consistentIndex).to.equal(0);
  });

  describe('the SHA-256 trailer', () => {
    it("refuses a changed file with etcd's message", () => {
      const file = sample();
      file[3000]! ^= 1; // in the root page's unused tail: the image still reads
      const expected = file.subarray(file.length - 32);
      const actual = createHash('sha256').update(file.subarray(0, file.length - 32)).digest();
      expect(() => EtcdSnapshot.fromBuffer(file)).to.throw(EtcdSnapshotHashMismatchError,
        `expected sha256 [${[...expected].join(' ')}], got [${[...actual].join(' ')}]`);
      expect(EtcdSnapshot.fromBuffer(file, { skipHashCheck: true }).revision, 'skipped').to.equal(6);
    });

    it("refuses a file without trailer with etcd's message, unless the check is skipped", () => {
      const image = backend([put(2, 'a', '1', 2, 1)], []);
      expect(() => EtcdSnapshot.fromBuffer(image)).to.throw(EtcdSnapshotHashMissingError, 'snapshot missing hash but --skip-hash-check=false');
      expect(EtcdSnapshot.fromBuffer(image, { skipHashCheck: true }).revision).to.equal(2);
    });
  });

  describe("content that is not etcd's layout", () => {
    it('refuses a backend without bucket "key"', () => {
      const file = withTrailer(boltFile({ rootPageId: 2, pages: new Map([[2, leafPage(2, [{ key: 'meta', value: inlineBucketValue([]), bucket: true }])]]) }));
      expect(() => EtcdSnapshot.fromBuffer(file)).to.throw(EtcdSnapshotLayoutError, 'no bucket "key": not an etcd backend');
    });

    it('refuses a malformed revision key when it opens', () => {
      const file = withTrailer(backend([{ key: 'not-a-revision', value: '' }], []));
      expect(() => EtcdSnapshot.fromBuffer(file)).to.throw(EtcdSnapshotLayoutError, /bucket "key": 6e6f.* is no revision key/);
    });

    it('refuses a record whose mod_revision is not its revision, and one it cannot decode', () => {
      const moved = EtcdSnapshot.fromBuffer(withTrailer(backend([{ ...put(2, 'a', '1', 2, 1), key: revisionToBytes({ main: 5, sub: 0 }) }], [])));
      expect(() => [...moved.revisions()]).to.throw(EtcdSnapshotLayoutError, 'revision 5.0: the KeyValue says mod_revision 2');
      const garbage = EtcdSnapshot.fromBuffer(withTrailer(backend([{ key: revisionToBytes({ main: 2, sub: 0 }), value: Buffer.from([0x0a, 0x09]) }], [])));
      expect(() => [...garbage.revisions()]).to.throw(EtcdSnapshotLayoutError, /revision 2.0: cannot decode the record/);
    });

    it('refuses a lease record whose ID is not its key', () => {
      const file = withTrailer(backend([], [], [{ ...lease(7n, 60n), key: Buffer.alloc(8) }]));
      expect(() => [...EtcdSnapshot.fromBuffer(file).leases()]).to.throw(EtcdSnapshotLayoutError, /the record holds ID 7/);
    });
  });

  it('reads a file from disk, and tells bbolt files from others', async () => {
    const directory = mkdtempSync(join(tmpdir(), 'cairn-etcd-snapshot-'));
    try {
      const path = join(directory, 'snapshot.db');
      writeFileSync(path, sample());
      expect((await readEtcdSnapshot(path)).revision).to.equal(6);
    } finally {
      rmSync(directory, { recursive: true, force: true });
    }
    expect(isBoltFile(sample())).to.equal(true);
    expect(isBoltFile(Buffer.from('not a database'))).to.equal(false);
  });
});
