// Which program wrote a snapshot file, told by its first pages: cairn's
// files are lmdb images (magic 0xBEEFC0DE in the meta page at the start),
// etcd's are bbolt databases (magic 0xED0CDAED in a meta page). `cairn
// snapshot status|restore` open either through openSnapshotFile and handle
// both alike; a file that is neither gets one message saying so.
import { createHash } from 'node:crypto';
import { closeSync, fstatSync } from 'node:fs';
import { CairnSnapshotSource } from './cairn-source.js';
import { isBoltFile } from './etcd/etcd-snapshot.js';
import { EtcdSnapshotSource } from './etcd-source.js';
import { SnapshotHashMismatchError, UnknownSnapshotFormatError } from './errors.js';
import { hasSha256Trailer, openSnapshot, readChunk, sha256Bytes, type HashCheck } from './file.js';
import { hasLmdbMagic, lmdbHeadBytes } from './lmdb-image.js';

export type SnapshotFormat = 'cairn' | 'etcd';

/** An open snapshot file, with the source that reads it. */
export type OpenedSnapshot =
  | { readonly format: 'cairn'; readonly source: CairnSnapshotSource }
  | { readonly format: 'etcd'; readonly source: EtcdSnapshotSource };

/** Bytes hashed per read when an unknown file's trailer is checked. */
const hashChunkBytes = 1024 * 1024;

/**
 * Opens the snapshot file at `path` with the reader of its format, checking
 * its trailer as `check` says. `stagingDir` (which must not exist) holds a
 * cairn image while its source is open. Throws UnknownSnapshotFormatError
 * for a file of neither format — or SnapshotHashMismatchError when its
 * trailer is checked and wrong, since a damaged snapshot is then the likelier
 * story — and what each reader throws.
 */
export async function openSnapshotFile(path: string, stagingDir: string, check: HashCheck): Promise<OpenedSnapshot> {
  const format = snapshotFormat(path, check);
  return format === 'etcd'
    ? { format, source: await EtcdSnapshotSource.open(path, check) }
    : { format, source: CairnSnapshotSource.open(path, stagingDir, check) };
}

/** The format of the file at `path`, from its first lmdbHeadBytes (see openSnapshotFile for the errors). */
export function snapshotFormat(path: string, check: HashCheck): SnapshotFormat {
  const file = openSnapshot(path);
  try {
    const fileBytes = fstatSync(file).size;
    const head = Buffer.alloc(Math.min(fileBytes, lmdbHeadBytes));
    for (let at = 0; at < head.length; ) {
      const read = readChunk(file, path, head.subarray(at), head.length - at, at);
      if (read === 0) break;
      at += read;
    }
    if (hasLmdbMagic(head)) return 'cairn';
    if (isBoltFile(head)) return 'etcd';
    if (check !== 'skip' && hasSha256Trailer(fileBytes)) checkTrailer(file, path, fileBytes);
    throw new UnknownSnapshotFormatError(path);
  } finally {
    closeSync(file);
  }
}

/** Throws SnapshotHashMismatchError unless the last 32 bytes of `file` are the SHA-256 of the rest. */
function checkTrailer(file: number, path: string, fileBytes: number): void {
  const imageBytes = fileBytes - sha256Bytes;
  const hash = createHash('sha256');
  const chunk = Buffer.allocUnsafe(hashChunkBytes);
  for (let at = 0; at < imageBytes; ) {
    const read = readChunk(file, path, chunk, Math.min(hashChunkBytes, imageBytes - at), at);
    if (read === 0) break;
    hash.update(chunk.subarray(0, read));
    at += read;
  }
  const trailer = Buffer.alloc(sha256Bytes);
  readChunk(file, path, trailer, sha256Bytes, imageBytes);
  const digest = hash.digest();
  if (!trailer.equals(digest)) throw new SnapshotHashMismatchError(trailer, digest);
}
