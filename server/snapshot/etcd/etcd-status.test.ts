import { expect } from 'chai';
import { crc32c } from '@node-rs/crc32';
import { boltFile, bucketValue, fixturePageSize, inlineBucketValue, leafPage } from './bolt-fixture.js';
import { EtcdSnapshotLayoutError } from './errors.js';
import { backend, compactRevision, consistentIndex, del, lease, put, withTrailer } from './etcd-fixture.js';
import { EtcdSnapshot } from './etcd-snapshot.js';
import { etcdSnapshotStatus } from './etcd-status.js';

const records = [put(2, 'a', '1', 2, 1, 7n), put(3, 'b', '2', 3, 1), del(4, 'b')];
const meta = [consistentIndex(42), compactRevision('finishedCompactRev', 9)];
const leases = [lease(7n, 60n)];

const bytesOf = (data: Buffer | string): Buffer => (typeof data === 'string' ? Buffer.from(data) : data);

describe('etcd snapshot status (as etcdctl snapshot status computes it)', () => {
  it('hashes every bucket\'s name and records in order, counts every record, takes the last revision of "key" and the pages in use', () => {
    const snapshot = EtcdSnapshot.fromBuffer(withTrailer(backend(records, meta, leases)));
    // The bytes CRC-32C runs over, in etcd's order: bucket names in key order, each followed by its records.
    const hashed = Buffer.concat([
      Buffer.from('key'), ...records.flatMap((entry) => [bytesOf(entry.key), bytesOf(entry.value)]),
      Buffer.from('lease'), ...leases.flatMap((entry) => [bytesOf(entry.key), bytesOf(entry.value)]),
      Buffer.from('meta'), ...meta.flatMap((entry) => [bytesOf(entry.key), bytesOf(entry.value)]),
    ]);
    expect(etcdSnapshotStatus(snapshot.bolt)).to.deep.equal({
      hash: crc32c(hashed) >>> 0,
      // The last record of "key" (a delete), not the compaction revision the restored member starts at.
      revision: 4,
      totalKey: records.length + leases.length + meta.length,
      totalSize: 4 * fixturePageSize,
    });
    expect(snapshot.revision).to.equal(9);
  });

  it('gives an empty "key" revision 0, and refuses a top-level entry that is no bucket in etcd\'s words', () => {
    expect(etcdSnapshotStatus(EtcdSnapshot.fromBuffer(withTrailer(backend([], []))).bolt).revision).to.equal(0);
    const file = withTrailer(boltFile({
      rootPageId: 2,
      pages: new Map([
        [2, leafPage(2, [{ key: 'key', value: bucketValue(3), bucket: true }, { key: 'meta', value: inlineBucketValue([]), bucket: true }, { key: 'stray', value: 'x' }])],
        [3, leafPage(3, [])],
      ]),
    }));
    expect(() => etcdSnapshotStatus(EtcdSnapshot.fromBuffer(file).bolt)).to.throw(EtcdSnapshotLayoutError, 'cannot get hash of bucket stray');
  });
});
