// What a restore needs from a snapshot, whatever wrote the file: the MVCC
// history (every revision record since the last compaction), the leases and
// the auth store. cairn's own files are read by cairn-source.ts; a reader of
// etcd's bbolt files implements the same interface and restore.ts writes a
// data directory from either without knowing which it was given.
//
// Membership, alarms, the consistent index and member identity are left out
// on purpose: they describe the cluster the snapshot came from, and a
// restore starts a new one (as etcd's restore drops "members" and
// "members_removed").
import type { StoredAuth } from '../../proto/gen/cairnpb/internal.js';
import type { KeyValue } from '../../proto/gen/mvccpb/kv.js';
import type { Revision } from '../mvcc/revision.js';

/**
 * One change of the history: a put (`kv` as written, with its
 * createRevision, modRevision, version and lease) or a delete (`tombstone`;
 * `kv` holds the key only), as etcd's "key" bucket stores them.
 */
export interface RevisionRecord {
  readonly revision: Revision;
  readonly tombstone: boolean;
  readonly kv: KeyValue;
}

export interface LeaseRecord {
  readonly id: bigint;
  /** The TTL it was granted (after the server's minimum); a restored member counts it afresh. */
  readonly ttlSeconds: bigint;
}

export interface SnapshotSource {
  /** The store revision at the snapshot: the last change, or the compaction if it removed every later record. */
  readonly revision: number;
  /** The revision of the last compaction; -1 if the store was never compacted. */
  readonly compactRevision: number;
  /** Number of revision records, for progress (revisions() yields exactly this many). */
  readonly revisionCount: number;
  /** Every revision record, in revision order (main, then sub). */
  revisions(): Iterable<RevisionRecord>;
  /** Every lease, in any order. */
  leases(): Iterable<LeaseRecord>;
  /** Users, roles and whether auth is enabled; undefined when the snapshot holds no auth store. */
  auth(): StoredAuth | undefined;
  /** Releases the files the source reads. Idempotent. */
  close(): Promise<void>;
}
