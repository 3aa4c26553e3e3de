// Test helper (not used by the server): etcd 3.4 backends written by hand
// with bolt-fixture.ts, record by record, for the unit tests of the etcd
// snapshot reader, its status and the restore from it.
import { createHash } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { StoredLease } from '../../../proto/gen/cairnpb/internal.js';
import { KeyValue } from '../../../proto/gen/mvccpb/kv.js';
import { revisionToBytes } from '../../mvcc/revision.js';
import { boltFile, bucketValue, inlineBucketValue, leafPage, type LeafEntry } from './bolt-fixture.js';

/** A put at revision `main` of bucket "key". */
export const put = (main: number, key: string, value: string, createRevision: number, version: number, lease = 0n): LeafEntry => ({
  key: revisionToBytes({ main, sub: 0 }),
  value: Buffer.from(KeyValue.encode(KeyValue.fromPartial({
    key: Buffer.from(key), value: Buffer.from(value), createRevision: BigInt(createRevision), modRevision: BigInt(main), version: BigInt(version), lease,
  })).finish()),
});

/** A delete (tombstone) at revision `main` of bucket "key". */
export const del = (main: number, key: string): LeafEntry => ({
  key: revisionToBytes({ main, sub: 0 }, true),
  value: Buffer.from(KeyValue.encode(KeyValue.fromPartial({ key: Buffer.from(key) })).finish()),
});

/** A lease of bucket "lease". */
export const lease = (id: bigint, ttl: bigint): LeafEntry => {
  const key = Buffer.alloc(8);
  key.writeBigInt64BE(id);
  return { key, value: Buffer.from(StoredLease.encode({ ID: id, TTL: ttl }).finish()) };
};

/** Meta "consistent_index". */
export const consistentIndex = (index: number): LeafEntry => {
  const value = Buffer.alloc(8);
  value.writeBigUInt64BE(BigInt(index));
  return { key: 'consistent_index', value };
};

/** A meta record of a compaction revision ("finishedCompactRev", "scheduledCompactRev"). */
export const compactRevision = (name: string, main: number): LeafEntry => ({ key: name, value: revisionToBytes({ main, sub: 0 }) });

/** An inline top-level bucket named `name` holding `entries`. */
export const inlineBucket = (name: string, entries: readonly LeafEntry[]): LeafEntry => ({ key: name, value: inlineBucketValue(entries), bucket: true });

/** An etcd backend: "key" at page 3, "lease", "meta" and the `others` top-level buckets inline. */
export function backend(records: LeafEntry[], meta: LeafEntry[], leases: LeafEntry[] = [], others: LeafEntry[] = []): Buffer {
  const buckets = [{ key: 'key', value: bucketValue(3), bucket: true }, inlineBucket('lease', leases), inlineBucket('meta', meta), ...others];
  buckets.sort((a, b) => Buffer.compare(Buffer.from(a.key), Buffer.from(b.key)));
  return boltFile({ rootPageId: 2, pages: new Map([[2, leafPage(2, buckets)], [3, leafPage(3, records)]]) });
}

/** `image` followed by its SHA-256, as `etcdctl snapshot save` writes it. */
export const withTrailer = (image: Buffer): Buffer => Buffer.concat([image, createHash('sha256').update(image).digest()]);

/** Writes `bytes` to the file `name` in `dir`; returns its path. */
export function saveFixture(dir: string, name: string, bytes: Buffer): string {
  const path = join(dir, name);
  writeFileSync(path, bytes);
  return path;
}
