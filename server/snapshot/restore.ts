// `snapshot restore`: writes a data directory from which `cairn` starts a
// member of a NEW cluster holding the snapshot's keys (with their history:
// createRevision, modRevision, version), leases and auth store. The
// membership is the one the flags describe, not the snapshot's, as etcd's
// restore does.
//
// The directory is laid out exactly as a member that has just bootstrapped a
// new cluster leaves it, except that its backend already holds the data:
//
//   DIR/member/snap/db-0/data.mdb   the backend: the snapshot's revision
//                                   records, leases, auth and compaction
//                                   revision, and this member's identity —
//                                   no membership and no consistent index
//   DIR/member/wal/                 entries 1..n: one AddNode per founder,
//                                   committed at term 1 (bootstrapNewCluster)
//
// On start the member finds a log, so it restarts rather than bootstraps;
// its consistent index is 0, so it applies entries 1..n, which write the
// new membership — the path every new member takes after a crash right
// after bootstrapping. Every member restored with the same flags writes the
// same entries and IDs, so they form one cluster.
//
// Atomic: everything is written into a sibling directory, fsynced, then
// renamed to DIR. A crash leaves no DIR, or a complete one.
import { existsSync, mkdirSync, renameSync, rmSync } from 'node:fs';
import { basename, dirname, join, resolve } from 'node:path';
import { StoredAuth } from '../../proto/gen/cairnpb/internal.js';
import { KeyValue } from '../../proto/gen/mvccpb/kv.js';
import { metaAuth } from '../auth/store.js';
import type { Clock } from '../clock.js';
import { encodeMessage, lendEncodedOne } from '../codec.js';
import { LeaseTable } from '../lease/table.js';
import { Backend, metaCompactRevision, metaScheduledCompactRevision } from '../mvcc/backend.js';
import { compareRevisions, revisionToBytes, type Revision } from '../mvcc/revision.js';
import { bootstrapNewCluster, saveIdentity } from '../node/bootstrap.js';
import { syncPath } from '../storage/fsync.js';
import { Wal } from '../storage/wal.js';
import { DataDirExistsError, InvalidSnapshotError } from './errors.js';
import { RestoreProgress, type ProgressOptions } from './progress.js';
import type { RestorePlan } from './restore-plan.js';
import type { RevisionRecord, SnapshotSource } from './source.js';

/** Revision records written per backend transaction (and between progress checks). */
const recordsPerTransactionMax = 10_000;

export interface RestoreTarget {
  dataDir: string;
  /** --name: recorded as this member's name. */
  name: string;
  plan: RestorePlan;
}

export interface RestoreSummary {
  revisionRecords: number;
  leases: number;
}

/** Throws DataDirExistsError when `dataDir` exists: a restore never writes over one. */
export function refuseExistingDataDir(dataDir: string): void {
  if (existsSync(dataDir)) throw new DataDirExistsError(dataDir);
}

/**
 * Writes `target.dataDir` from `source` (see the file comment). `log` gets
 * progress lines for a long restore. Throws DataDirExistsError if the
 * directory exists (checked first and again just before the rename), and
 * InvalidSnapshotError for a source whose records are out of order; on any
 * error nothing is left behind.
 */
export async function restoreDataDir(source: SnapshotSource, target: RestoreTarget, clock: Clock, log: (line: string) => void, progressOptions?: ProgressOptions): Promise<RestoreSummary> {
  const dataDir = resolve(target.dataDir);
  refuseExistingDataDir(target.dataDir);
  const parent = dirname(dataDir);
  mkdirSync(parent, { recursive: true });
  const staging = join(parent, `.${basename(dataDir)}.restoring-${process.pid}`);
  rmSync(staging, { recursive: true, force: true });
  try {
    const progress = new RestoreProgress(source.revisionCount, clock, log, progressOptions);
    const summary = await writeBackend(join(staging, 'member', 'snap'), source, target, progress);
    await writeWal(join(staging, 'member', 'wal'), target.plan);
    for (const dir of [join(staging, 'member', 'snap'), join(staging, 'member'), staging]) syncPath(dir);
    // rename() would replace an empty directory created meanwhile: look again.
    refuseExistingDataDir(target.dataDir);
    renameSync(staging, dataDir);
    syncPath(parent);
    if (progress.spoke) log(`restored ${summary.revisionRecords} revision records in ${progress.elapsedSeconds()} s`);
    return summary;
  } catch (error) {
    rmSync(staging, { recursive: true, force: true });
    throw error;
  }
}

async function writeBackend(snapDir: string, source: SnapshotSource, target: RestoreTarget, progress: RestoreProgress): Promise<RestoreSummary> {
  const backend = new Backend(snapDir);
  try {
    const revisionRecords = writeRevisions(backend, source, progress);
    let leases = 0;
    backend.transaction(() => {
      // A minimum TTL of 0 keeps each lease's granted TTL as it was.
      const table = new LeaseTable(backend, 0n);
      for (const lease of source.leases()) {
        table.grant(lease.id, lease.ttlSeconds);
        leases++;
      }
      const auth = source.auth();
      if (auth !== undefined) backend.putMeta(metaAuth, encodeMessage(StoredAuth, auth));
      if (source.compactRevision > 0) {
        // Both records, as after a compaction whose removal finished: the source holds only what it kept.
        const compacted = revisionToBytes({ main: source.compactRevision, sub: 0 });
        backend.putMeta(metaScheduledCompactRevision, compacted);
        backend.putMeta(metaCompactRevision, compacted);
      }
    });
    saveIdentity(backend, target.name, { memberId: target.plan.self.id, clusterId: target.plan.clusterId });
    await backend.sync();
    return { revisionRecords, leases };
  } finally {
    await backend.close();
  }
}

/** Writes the source's history in transactions of recordsPerTransactionMax records; returns how many. */
function writeRevisions(backend: Backend, source: SnapshotSource, progress: RestoreProgress): number {
  let written = 0;
  let previous: Revision | undefined;
  let batch: RevisionRecord[] = [];
  const flush = (): void => {
    backend.transaction(() => {
      for (const record of batch) backend.putRevision(revisionToBytes(record.revision, record.tombstone), lendEncodedOne(KeyValue, record.kv), true);
    });
    written += batch.length;
    batch = [];
    progress.advanced(written);
  };
  for (const record of source.revisions()) {
    // The store rebuilds its index from the records in order; a source that breaks it would restore another history.
    if (previous !== undefined && compareRevisions(previous, record.revision) >= 0) {
      throw new InvalidSnapshotError(`revision ${record.revision.main}.${record.revision.sub} follows ${previous.main}.${previous.sub}: the history is out of order`);
    }
    if (record.revision.main > source.revision) throw new InvalidSnapshotError(`revision ${record.revision.main} is past the snapshot's revision ${source.revision}`);
    previous = record.revision;
    batch.push(record);
    if (batch.length >= recordsPerTransactionMax) flush();
  }
  if (batch.length > 0) flush();
  return written;
}

async function writeWal(walDir: string, plan: RestorePlan): Promise<void> {
  const { wal } = Wal.open(walDir);
  try {
    await bootstrapNewCluster(wal, plan.founders);
  } finally {
    wal.close();
  }
  syncPath(walDir);
}
