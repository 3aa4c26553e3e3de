// An etcd 3.4 snapshot file (`etcdctl snapshot save`) read for migration:
// the revisions of bucket "key", the live state they sum to, the leases, the
// auth store, and the revision bookkeeping of bucket "meta". The layers
// below: trailer.ts (SHA-256), bbolt.ts (the B+trees), etcd-records.ts and
// etcd-auth.ts (etcd's records).
import { constants as bufferConstants } from 'node:buffer';
import { open } from 'node:fs/promises';
import type { StoredAuth } from '../../../proto/gen/cairnpb/internal.js';
import type { KeyValue } from '../../../proto/gen/mvccpb/kv.js';
import type { Revision } from '../../mvcc/revision.js';
import { BoltFile, type BoltBucket } from './bbolt.js';
import { hasBoltMagic } from './bolt-meta.js';
import { readEtcdAuth } from './etcd-auth.js';
import { EtcdSnapshotLayoutError, EtcdSnapshotTooLargeError } from './errors.js';
import { decodeConsistentIndex, decodeKeyValue, decodeLease, decodeRevisionKey, type EtcdLease } from './etcd-records.js';
import { backendImage } from './trailer.js';

export type { EtcdLease } from './etcd-records.js';

export interface ReadEtcdSnapshotOptions {
  /** As etcdctl's --skip-hash-check: accept a file without a SHA-256 trailer, and do not check the trailer it has. */
  readonly skipHashCheck?: boolean;
}

/** One record of bucket "key". */
export interface EtcdRevisionRecord {
  readonly revision: Revision;
  /** The key was deleted at `revision`; `kv` then carries only the key, as etcd stores it. */
  readonly tombstone: boolean;
  readonly kv: KeyValue;
}

/** Reads are chunked: fs.readFile stops at 2 GiB, below etcd's default 2 GiB quota plus growth. */
const readChunkBytes = 64 * 1024 * 1024;

/**
 * Reads the etcd snapshot at `path` into memory, checks its SHA-256 trailer
 * (unless skipped), its bbolt meta pages and every page and revision key of
 * bucket "key". Errors: EtcdSnapshotHashMissingError,
 * EtcdSnapshotHashMismatchError (etcd's messages), BoltFormatError and its
 * subclasses, EtcdSnapshotLayoutError, EtcdSnapshotTooLargeError (a file past
 * buffer.constants.MAX_LENGTH, 4 GiB on Node 20), and the file system's.
 */
export async function readEtcdSnapshot(path: string, options: ReadEtcdSnapshotOptions = {}): Promise<EtcdSnapshot> {
  const handle = await open(path, 'r');
  try {
    const { size } = await handle.stat();
    if (size > bufferConstants.MAX_LENGTH) throw new EtcdSnapshotTooLargeError(size, bufferConstants.MAX_LENGTH);
    const file = Buffer.allocUnsafe(size);
    for (let at = 0; at < size;) {
      const { bytesRead } = await handle.read(file, at, Math.min(readChunkBytes, size - at), at);
      if (bytesRead === 0) throw new EtcdSnapshotLayoutError(`${path} ended at ${at} of its ${size} bytes while being read`);
      at += bytesRead;
    }
    return EtcdSnapshot.fromBuffer(file, options);
  } finally {
    await handle.close();
  }
}

/** True when `file` starts as a bbolt database (etcd's backend or snapshot) does: tells it from cairn's lmdb images. */
export function isBoltFile(file: Buffer): boolean {
  return hasBoltMagic(file);
}

/** An etcd snapshot held in memory. Iterators are lazy and may be run any number of times. */
export class EtcdSnapshot {
  private constructor(
    /** The bbolt database (the file without its trailer), for what reads every bucket (etcd-status.ts). */
    readonly bolt: BoltFile,
    private readonly keyBucket: BoltBucket,
    private readonly leaseBucket: BoltBucket | undefined,
    /** The latest main revision: the last one of bucket "key", or the compaction revision when it is higher (as etcd restores it). */
    readonly revision: number,
    /** The revision of the last finished compaction; 0 when none. */
    readonly compactRevision: number,
    /** A compaction etcd had scheduled and not finished (it finishes it on restore); 0 when none. */
    readonly scheduledCompactRevision: number,
    /** The Raft index of the last entry the backend applied. */
    readonly consistentIndex: number,
    /** Records of bucket "key": how many revisions() yields. */
    readonly revisionCount: number,
  ) {}

  /** As readEtcdSnapshot, over a file already in memory (the caller's; it must not change). */
  static fromBuffer(file: Buffer, options: ReadEtcdSnapshotOptions = {}): EtcdSnapshot {
    const bolt = BoltFile.fromBuffer(backendImage(file, options.skipHashCheck === true));
    const root = bolt.root();
    const keyBucket = requireBucket(root, 'key');
    const meta = requireBucket(root, 'meta');
    const compactRevision = metaRevision(meta, 'finishedCompactRev');
    const scheduled = metaRevision(meta, 'scheduledCompactRev');
    const consistentIndexBytes = meta.value('consistent_index');
    const { lastMain, count } = walkRevisionKeys(keyBucket);
    return new EtcdSnapshot(
      bolt,
      keyBucket,
      root.bucket('lease'),
      Math.max(lastMain, compactRevision),
      compactRevision,
      scheduled > compactRevision ? scheduled : 0,
      consistentIndexBytes === undefined ? 0 : decodeConsistentIndex(consistentIndexBytes),
      count,
    );
  }

  /** Every record of bucket "key" in revision order (the file's order), tombstones included. */
  *revisions(): Generator<EtcdRevisionRecord> {
    for (const entry of this.keyBucket.entries()) {
      if (entry.kind !== 'value') throw new EtcdSnapshotLayoutError(`bucket "key" holds a bucket ${entry.key.toString('hex')}`);
      const { revision, tombstone } = decodeRevisionKey(entry.key, 'bucket "key"');
      const kv = decodeKeyValue(entry.value, revision);
      if (!tombstone && kv.modRevision !== BigInt(revision.main)) {
        throw new EtcdSnapshotLayoutError(`revision ${revision.main}.${revision.sub}: the KeyValue says mod_revision ${kv.modRevision}`);
      }
      yield { revision, tombstone, kv };
    }
  }

  /**
   * The live keys at `revision`, in key order (bytewise), as a range of the
   * whole key space would return them. Holds the latest record of every key
   * in memory while it reads the revisions.
   */
  *live(): Generator<KeyValue> {
    const latest = new Map<string, EtcdRevisionRecord>();
    for (const record of this.revisions()) latest.set(record.kv.key.toString('latin1'), record);
    const kvs = [...latest.values()].filter((record) => !record.tombstone).map((record) => record.kv);
    yield* kvs.sort((a, b) => Buffer.compare(a.key, b.key));
  }

  /** Users, roles and whether auth is enabled (etcd-auth.ts); undefined when the file has no bucket "auth". */
  auth(): StoredAuth | undefined {
    return readEtcdAuth(this.bolt.root());
  }

  /** The leases of bucket "lease", in ID order (big-endian keys); none when etcd never created the bucket. */
  *leases(): Generator<EtcdLease> {
    if (this.leaseBucket === undefined) return;
    for (const entry of this.leaseBucket.entries()) {
      if (entry.kind !== 'value') throw new EtcdSnapshotLayoutError(`bucket "lease" holds a bucket ${entry.key.toString('hex')}`);
      yield decodeLease(entry.key, entry.value);
    }
  }
}

function requireBucket(root: BoltBucket, name: string): BoltBucket {
  const bucket = root.bucket(name);
  if (bucket === undefined) throw new EtcdSnapshotLayoutError(`no bucket "${name}": not an etcd backend`);
  return bucket;
}

function metaRevision(meta: BoltBucket, name: string): number {
  const bytes = meta.value(name);
  return bytes === undefined ? 0 : decodeRevisionKey(bytes, `meta "${name}"`).revision.main;
}

/**
 * The main revision of the last key of bucket "key" (0 when it is empty) and
 * the number of its keys. Walks the whole tree, so that every page and
 * revision key is checked before a caller starts to restore from it.
 */
function walkRevisionKeys(keyBucket: BoltBucket): { lastMain: number; count: number } {
  let lastMain = 0;
  let count = 0;
  for (const entry of keyBucket.entries()) {
    lastMain = decodeRevisionKey(entry.key, 'bucket "key"').revision.main;
    count++;
  }
  return { lastMain, count };
}
