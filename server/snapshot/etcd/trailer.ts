// The SHA-256 trailer of an etcd snapshot file. `etcdctl snapshot save`
// writes the backend image as the server streams it, then the 32-byte
// SHA-256 of that image. etcd 3.4's restore (clientv3/snapshot/v3_snapshot.go)
// tells a file with a trailer from a bare backend file (member/snap/db) by its
// size alone: a bbolt file is a whole number of pages, so its size is a
// multiple of 512, and a trailer makes it 32 more. We decide as it does, with
// its messages.
import { createHash } from 'node:crypto';
import { EtcdSnapshotHashMismatchError, EtcdSnapshotHashMissingError } from './errors.js';

export const sha256Bytes = 32;
/** The disk sector size etcd reasons with: images are multiples of it. */
const sectorBytes = 512;

/** True when a file of `sizeBytes` ends with a SHA-256 trailer (etcd's hasChecksum). */
export function hasSha256Trailer(sizeBytes: number): boolean {
  return sizeBytes % sectorBytes === sha256Bytes;
}

/**
 * The backend image of snapshot `file`: the file without its trailer, whose
 * hash is checked unless `skipHashCheck`. Without a trailer the whole file is
 * the image, accepted only with `skipHashCheck` (EtcdSnapshotHashMissingError
 * otherwise). Throws EtcdSnapshotHashMismatchError when the hash differs.
 * The image is a view of `file`, not a copy.
 */
export function backendImage(file: Buffer, skipHashCheck: boolean): Buffer {
  if (!hasSha256Trailer(file.length)) {
    if (!skipHashCheck) throw new EtcdSnapshotHashMissingError();
    return file;
  }
  const image = file.subarray(0, file.length - sha256Bytes);
  if (!skipHashCheck) {
    const expected = file.subarray(file.length - sha256Bytes);
    const actual = createHash('sha256').update(image).digest();
    if (!actual.equals(expected)) throw new EtcdSnapshotHashMismatchError(Buffer.from(expected), actual);
  }
  return image;
}
