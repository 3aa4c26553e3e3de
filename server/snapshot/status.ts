// `snapshot status`: what a snapshot file holds, in the four numbers etcdctl
// 3.4 prints for an etcd file — hash, revision, total keys, total size.
//
// For a cairn file:
// - hash: CRC-32C (Castagnoli, as etcd's) over, for each lmdb database in
//   turn (key, lease, meta), its name and then the key and value of each of
//   its records in key order (an empty database adds its name alone). It
//   tells files with the same content from files with different content,
//   nothing more: it is not comparable with the hash etcdctl prints for an
//   etcd file (that one runs over bbolt's buckets, whose names and records
//   differ).
// - revision: the store revision a member restored from the file starts at
//   (the last change; the compaction's when it removed a trailing delete).
// - total keys: the records of all three databases (etcd counts every
//   bucket's records too, so both grow by one per change kept in history).
// - total size: the bytes of the image (the file without its trailer).
import { crc32c } from '@node-rs/crc32';
import { backendDatabases } from '../mvcc/backend.js';
import type { CairnSnapshotSource } from './cairn-source.js';

/** etcd's snapshot.Status, with its JSON names. */
export interface SnapshotStatus {
  hash: number;
  revision: number;
  totalKey: number;
  totalSize: number;
}

export function snapshotStatus(source: CairnSnapshotSource): SnapshotStatus {
  let hash = 0;
  let totalKey = 0;
  for (const database of backendDatabases) {
    hash = crc32c(Buffer.from(database), hash);
    for (const { key, value } of source.records(database)) {
      hash = crc32c(value, crc32c(key, hash));
      totalKey++;
    }
  }
  return { hash: hash >>> 0, revision: source.revision, totalKey, totalSize: source.image.imageBytes };
}
