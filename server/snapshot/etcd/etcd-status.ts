// What `etcdctl snapshot status` (etcd 3.4, clientv3/snapshot's Status)
// prints for an etcd file, computed the way it computes it, so that
// `cairn snapshot status` prints the same four numbers for the same file:
//
// - hash: CRC-32C (Castagnoli) over, for each top-level bucket in key order,
//   its name, then the key and value of each of its entries in key order
//   (bbolt's ForEach gives a nested bucket a nil value: its key alone).
// - revision: the main revision of the last key of bucket "key", 0 when it
//   is empty. Not the compaction revision, even when a compaction removed
//   later records: the revision a restored member starts at may be higher.
// - total keys: the entries of every top-level bucket, etcd's bookkeeping
//   ("meta", "members", "cluster", "auth*", …) included.
// - total size: bbolt's tx.Size(), the pages in use (high-water page id ×
//   page size), which leaves out the trailer.
//
// etcdctl also runs bbolt's consistency check (tx.Check) first; cairn's
// reader checks every page it walks instead (see bbolt.ts), which covers
// every tree but not the freelist.
import { crc32c } from '@node-rs/crc32';
import type { SnapshotStatus } from '../status.js';
import type { BoltFile } from './bbolt.js';
import { EtcdSnapshotLayoutError } from './errors.js';
import { decodeRevisionKey } from './etcd-records.js';

export function etcdSnapshotStatus(bolt: BoltFile): SnapshotStatus {
  let hash = 0;
  let revision = 0;
  let totalKey = 0;
  for (const top of bolt.root().entries()) {
    // etcd's words when a top-level entry is no bucket.
    if (top.kind !== 'bucket') throw new EtcdSnapshotLayoutError(`cannot get hash of bucket ${top.key.toString()}`);
    const isKeyBucket = top.key.toString() === 'key';
    hash = crc32c(top.key, hash);
    for (const entry of top.bucket.entries()) {
      hash = crc32c(entry.key, hash);
      if (entry.kind === 'value') hash = crc32c(entry.value, hash);
      if (isKeyBucket) revision = decodeRevisionKey(entry.key, 'bucket "key"').revision.main;
      totalKey++;
    }
  }
  const totalSize = Number(bolt.meta.highWaterPageId) * bolt.meta.pageSize;
  return { hash: hash >>> 0, revision, totalKey, totalSize };
}
