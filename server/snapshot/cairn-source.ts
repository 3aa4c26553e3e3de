// cairn's own snapshot files as a SnapshotSource: the image (an lmdb
// environment written by Backend.copyTo) is copied into a staging directory
// laid out as a backend directory (db-0/data.mdb) and opened there with
// Backend, so it is read exactly as a member reads its own backend.
import { mkdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { StoredAuth, StoredLease } from '../../proto/gen/cairnpb/internal.js';
import { KeyValue } from '../../proto/gen/mvccpb/kv.js';
import { metaAuth } from '../auth/store.js';
import { Backend, metaCompactRevision, metaScheduledCompactRevision, type BackendDatabase } from '../mvcc/backend.js';
import { bytesToRevision, isTombstoneBytes } from '../mvcc/revision.js';
import { InvalidSnapshotError } from './errors.js';
import { extractImage, type HashCheck, type SnapshotImage } from './file.js';
import type { LeaseRecord, RevisionRecord, SnapshotSource } from './source.js';

export class CairnSnapshotSource implements SnapshotSource {
  readonly revision: number;
  readonly compactRevision: number;
  readonly revisionCount: number;
  private closed = false;

  private constructor(
    private readonly backend: Backend,
    /** What extractImage found: the image's size and shape. */
    readonly image: SnapshotImage,
    private readonly stagingDir: string,
  ) {
    // As MvccStore.restore: a compaction still removing records counts as done.
    const compacted = backend.getMeta(metaScheduledCompactRevision) ?? backend.getMeta(metaCompactRevision);
    this.compactRevision = compacted === undefined ? -1 : bytesToRevision(compacted).main;
    const last = backend.lastRevision();
    // A compaction at a delete removes its tombstone: the revision is then the compaction's.
    this.revision = Math.max(last === undefined ? 1 : bytesToRevision(last).main, this.compactRevision, 1);
    this.revisionCount = backend.revisionCount();
  }

  /**
   * Opens the snapshot file at `path`, checking its trailer as `check` says.
   * `stagingDir` must not exist; it holds the copy of the image until
   * close() removes it. Throws a SnapshotCommandError for a file that cannot
   * be used.
   */
  static open(path: string, stagingDir: string, check: HashCheck): CairnSnapshotSource {
    mkdirSync(join(stagingDir, 'db-0'), { recursive: true });
    try {
      const image = extractImage(path, join(stagingDir, 'db-0', 'data.mdb'), check);
      let backend: Backend;
      try {
        backend = new Backend(stagingDir);
      } catch (error) {
        throw new InvalidSnapshotError(`lmdb cannot open the image: ${(error as Error).message}`);
      }
      return new CairnSnapshotSource(backend, image, stagingDir);
    } catch (error) {
      rmSync(stagingDir, { recursive: true, force: true });
      throw error;
    }
  }

  *revisions(): Generator<RevisionRecord> {
    for (const { key, value } of this.backend.revisions()) {
      yield { revision: bytesToRevision(key), tombstone: isTombstoneBytes(key), kv: KeyValue.decode(value) };
    }
  }

  *leases(): Generator<LeaseRecord> {
    for (const bytes of this.backend.leases()) {
      const stored = StoredLease.decode(bytes);
      yield { id: stored.ID, ttlSeconds: stored.TTL };
    }
  }

  auth(): StoredAuth | undefined {
    const stored = this.backend.getMeta(metaAuth);
    return stored === undefined ? undefined : StoredAuth.decode(stored);
  }

  /** Every record of one database of the image, in key order: what status counts and hashes. */
  records(database: BackendDatabase): Iterable<{ key: Buffer; value: Buffer }> {
    return this.backend.records(database);
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    try {
      await this.backend.close();
    } finally {
      rmSync(this.stagingDir, { recursive: true, force: true });
    }
  }
}
