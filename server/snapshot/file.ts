// A snapshot file as `etcdctl snapshot save` writes it (etcd's or cairn's):
// the backend image, then 32 bytes of SHA-256 over the image. etcd tells a
// file with a trailer by its size alone: the image is whole 512-byte sectors
// (bbolt's and lmdb's pages are multiples of 512), so size % 512 == 32 means
// a trailer follows it. A file copied out of a data directory has none.
//
// extractImage copies the image into a file of its own (lmdb opens a data
// file it may write to; the snapshot stays untouched) and checks the trailer
// in the same pass, so a large file is read once.
import { createHash } from 'node:crypto';
import { closeSync, fstatSync, openSync, readSync, rmSync, writeSync } from 'node:fs';
import { SnapshotFileUnreadableError, SnapshotHashMismatchError, SnapshotMissingHashError } from './errors.js';
import { checkLmdbImage, lmdbHeadBytes, type LmdbImageShape } from './lmdb-image.js';

export const sha256Bytes = 32;
const sectorBytes = 512;
/** Bytes read and written per step of the copy. */
const copyChunkBytes = 1024 * 1024;

/**
 * How the trailer is treated:
 * - 'required': restore; a file without one, or with one that does not match, is refused;
 * - 'if-present': status; a trailer that does not match is refused, a file without one is read as is;
 * - 'skip': restore --skip-hash-check; a trailer is cut off unchecked.
 */
export type HashCheck = 'required' | 'if-present' | 'skip';

export interface SnapshotImage {
  /** Bytes of the image (the file without its trailer). */
  imageBytes: number;
  /** Whether the file ended with a trailer (checked unless 'skip'). */
  hasHash: boolean;
  shape: LmdbImageShape;
}

/** etcd's test (hasChecksum in clientv3/snapshot): a file of whole sectors and 32 bytes more ends with a SHA-256. */
export function hasSha256Trailer(fileBytes: number): boolean {
  return fileBytes % sectorBytes === sha256Bytes;
}

/**
 * Copies the image of the snapshot file at `path` into the new file
 * `target`, checking the trailer as `check` says and that the
 * image is an lmdb data file lmdb can map. On any error `target` is removed.
 * Throws the SnapshotCommandError etcdctl's words fit.
 */
export function extractImage(path: string, target: string, check: HashCheck): SnapshotImage {
  const source = openSnapshot(path);
  try {
    const fileBytes = fstatSync(source).size;
    const hasHash = hasSha256Trailer(fileBytes);
    if (!hasHash && check === 'required') throw new SnapshotMissingHashError();
    const imageBytes = hasHash ? fileBytes - sha256Bytes : fileBytes;
    try {
      const { digest, head } = copyPrefix(source, path, target, imageBytes);
      if (hasHash && check !== 'skip') {
        const trailer = Buffer.alloc(sha256Bytes);
        readSync(source, trailer, 0, sha256Bytes, imageBytes);
        if (!trailer.equals(digest)) throw new SnapshotHashMismatchError(trailer, digest);
      }
      return { imageBytes, hasHash, shape: checkLmdbImage(head, imageBytes) };
    } catch (error) {
      rmSync(target, { force: true });
      throw error;
    }
  } finally {
    closeSync(source);
  }
}

/** readSync, with a failure as the snapshot commands report it. */
export function readChunk(source: number, path: string, chunk: Buffer, length: number, offset: number): number {
  try {
    return readSync(source, chunk, 0, length, offset);
  } catch (error) {
    throw new SnapshotFileUnreadableError('read', path, error as NodeJS.ErrnoException);
  }
}

/** openSync for reading, with a failure as the snapshot commands report it. */
export function openSnapshot(path: string): number {
  try {
    return openSync(path, 'r');
  } catch (error) {
    throw new SnapshotFileUnreadableError('open', path, error as NodeJS.ErrnoException);
  }
}

/** Copies the first `length` bytes of `source` into the new file `target`; their SHA-256 and first lmdbHeadBytes. */
function copyPrefix(source: number, path: string, target: string, length: number): { digest: Buffer; head: Buffer } {
  const hash = createHash('sha256');
  const chunk = Buffer.allocUnsafe(copyChunkBytes);
  const heads: Buffer[] = [];
  let headBytes = 0;
  const out = openSync(target, 'wx', 0o600);
  try {
    for (let offset = 0; offset < length; ) {
      const read = readChunk(source, path, chunk, Math.min(copyChunkBytes, length - offset), offset);
      if (read === 0) throw new Error(`snapshot file: ended at byte ${offset} of ${length} while being read`);
      const bytes = chunk.subarray(0, read);
      hash.update(bytes);
      if (headBytes < lmdbHeadBytes) {
        heads.push(Buffer.from(bytes.subarray(0, lmdbHeadBytes - headBytes)));
        headBytes += Math.min(read, lmdbHeadBytes - headBytes);
      }
      for (let written = 0; written < read; ) written += writeSync(out, bytes, written, read - written);
      offset += read;
    }
  } finally {
    closeSync(out);
  }
  // Not fsynced: the copy is only read, by this process, and removed after.
  return { digest: hash.digest(), head: Buffer.concat(heads) };
}
