// An etcd 3.4 snapshot file (`etcdctl snapshot save` against etcd) as a
// SnapshotSource: what `cairn snapshot restore` migrates from etcd. The file
// is read by server/snapshot/etcd/ (whole, into memory); this class maps its
// records to the source's, and its errors to the snapshot commands' (the
// texts etcdctl prints for the same file).
//
// A compaction etcd had scheduled but not finished when the snapshot was
// taken (its records are removed in batches after the apply) is finished
// here, as etcd's own restore finishes it: revisions() leaves out what a
// compaction at that revision removes, so the restored member holds exactly
// what etcd would have kept.
import { statSync } from 'node:fs';
import type { StoredAuth } from '../../proto/gen/cairnpb/internal.js';
import { revisionKey } from '../mvcc/key-index.js';
import { BoltFormatError, EtcdSnapshotHashMismatchError, EtcdSnapshotHashMissingError, EtcdSnapshotLayoutError } from './etcd/errors.js';
import { readEtcdSnapshot, type EtcdSnapshot } from './etcd/etcd-snapshot.js';
import { hasSha256Trailer } from './etcd/trailer.js';
import { InvalidSnapshotError, SnapshotFileUnreadableError, SnapshotHashMismatchError, SnapshotMissingHashError } from './errors.js';
import type { HashCheck } from './file.js';
import type { LeaseRecord, RevisionRecord, SnapshotSource } from './source.js';

export class EtcdSnapshotSource implements SnapshotSource {
  readonly revision: number;
  readonly compactRevision: number;
  readonly revisionCount: number;
  private readonly authStore: StoredAuth | undefined;
  /** Revisions (revisionKey) at or below a pending compaction that it removes; empty when none is pending. */
  private readonly compactedAway: ReadonlySet<string>;

  private constructor(readonly snapshot: EtcdSnapshot) {
    const pending = snapshot.scheduledCompactRevision;
    const compacted = Math.max(pending, snapshot.compactRevision);
    // etcd's reader says 0 for "never compacted", the source -1.
    this.compactRevision = compacted > 0 ? compacted : -1;
    this.revision = Math.max(snapshot.revision, pending);
    this.compactedAway = pending > 0 ? removedByCompaction(snapshot, pending) : new Set();
    this.revisionCount = snapshot.revisionCount - this.compactedAway.size;
    // Read now, so that a damaged auth bucket stops the restore before it writes anything.
    this.authStore = snapshot.auth();
  }

  /**
   * Reads the etcd snapshot at `path`, checking its SHA-256 trailer as
   * `check` says (file.ts). Throws the SnapshotCommandError etcdctl's words
   * fit: SnapshotMissingHashError, SnapshotHashMismatchError,
   * SnapshotFileUnreadableError, InvalidSnapshotError for a file that is not
   * a readable etcd backend.
   */
  static async open(path: string, check: HashCheck): Promise<EtcdSnapshotSource> {
    try {
      const skipHashCheck = check === 'skip' || (check === 'if-present' && !hasSha256Trailer(statSync(path).size));
      return new EtcdSnapshotSource(await readEtcdSnapshot(path, { skipHashCheck }));
    } catch (error) {
      throw commandError(error, path);
    }
  }

  *revisions(): Generator<RevisionRecord> {
    for (const record of this.snapshot.revisions()) {
      if (!this.compactedAway.has(revisionKey(record.revision))) yield record;
    }
  }

  leases(): Iterable<LeaseRecord> {
    return this.snapshot.leases();
  }

  auth(): StoredAuth | undefined {
    return this.authStore;
  }

  /** Nothing to release: the file was read into memory and closed. */
  async close(): Promise<void> {}
}

/**
 * The records a compaction at `revision` removes (etcd's keyIndex.compact):
 * of each key, every record at or below it except the last, and the last
 * too when it is a delete.
 */
function removedByCompaction(snapshot: EtcdSnapshot, revision: number): Set<string> {
  const removed = new Set<string>();
  const lastOfKey = new Map<string, { at: string; tombstone: boolean }>();
  for (const record of snapshot.revisions()) {
    if (record.revision.main > revision) break;
    const name = record.kv.key.toString('latin1');
    const previous = lastOfKey.get(name);
    if (previous !== undefined) removed.add(previous.at);
    lastOfKey.set(name, { at: revisionKey(record.revision), tombstone: record.tombstone });
  }
  for (const last of lastOfKey.values()) if (last.tombstone) removed.add(last.at);
  return removed;
}

/** The snapshot command's error for what reading the etcd file threw; other errors pass unchanged. */
function commandError(error: unknown, path: string): unknown {
  if (error instanceof EtcdSnapshotHashMissingError) return new SnapshotMissingHashError();
  if (error instanceof EtcdSnapshotHashMismatchError) return new SnapshotHashMismatchError(error.expected, error.actual);
  if (error instanceof BoltFormatError || error instanceof EtcdSnapshotLayoutError) return new InvalidSnapshotError(error.message);
  const code = (error as NodeJS.ErrnoException).code;
  if (typeof code === 'string' && code.startsWith('E')) return new SnapshotFileUnreadableError('open', path, error as NodeJS.ErrnoException);
  return error;
}
