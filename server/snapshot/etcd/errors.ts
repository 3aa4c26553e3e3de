// Operating errors of reading an etcd snapshot. The file is input from
// outside (another program wrote it, a disk or a copy may have damaged it),
// so every way it can be wrong is one of these typed errors: never an
// out-of-range read, a crash or a loop.

/**
 * The file is not a readable bbolt database. The base of the bbolt errors,
 * so that a caller can catch "this is no bbolt file I can read" in one place.
 */
export class BoltFormatError extends Error {
  override readonly name: string = 'BoltFormatError';
}

/** Neither meta page is valid (magic, version, checksum, page size, bounds): the message gives both reasons. */
export class BoltMetaError extends BoltFormatError {
  override readonly name: string = 'BoltMetaError';
}

/**
 * A page reached from the valid meta is broken: out of the file, of the
 * wrong type, with elements out of its bounds, reached twice (a cycle), or
 * holding keys out of order. Page 0 (a meta page, never part of a tree)
 * names the leaf page of an inline bucket, which has no id of its own.
 */
export class BoltPageError extends BoltFormatError {
  override readonly name: string = 'BoltPageError';
  constructor(readonly pageId: bigint, detail: string) {
    super(`bbolt: page ${pageId}: ${detail}`);
  }
}

/** The file has no SHA-256 trailer (its size is not 32 more than a multiple of 512) and the check was not skipped. etcd's message. */
export class EtcdSnapshotHashMissingError extends Error {
  override readonly name = 'EtcdSnapshotHashMissingError';
  constructor() {
    super('snapshot missing hash but --skip-hash-check=false');
  }
}

/** The SHA-256 trailer is not the hash of the bytes before it. etcd's message (Go's %v of the two byte slices). */
export class EtcdSnapshotHashMismatchError extends Error {
  override readonly name = 'EtcdSnapshotHashMismatchError';
  constructor(readonly expected: Buffer, readonly actual: Buffer) {
    super(`expected sha256 [${[...expected].join(' ')}], got [${[...actual].join(' ')}]`);
  }
}

/** A valid bbolt file whose content is not etcd's layout: a bucket missing, a malformed revision key, an undecodable record. */
export class EtcdSnapshotLayoutError extends Error {
  override readonly name = 'EtcdSnapshotLayoutError';
  constructor(detail: string, options?: { cause?: unknown }) {
    super(`etcd snapshot: ${detail}`, options);
  }
}

/** The file is larger than one Buffer can hold; the reader keeps the whole file in memory. */
export class EtcdSnapshotTooLargeError extends Error {
  override readonly name = 'EtcdSnapshotTooLargeError';
  constructor(readonly sizeBytes: number, readonly sizeBytesMax: number) {
    super(`etcd snapshot: the file has ${sizeBytes} bytes, more than the ${sizeBytesMax} this reader can hold in memory`);
  }
}
