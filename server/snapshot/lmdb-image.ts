// A look at an lmdb data file before lmdb opens it. lmdb maps the file into
// memory and trusts its meta pages: a file cut short (a truncated snapshot
// copied with --skip-hash-check) makes a read past its end, which the kernel
// answers with SIGBUS — the process dies with no message and no try/catch can
// stop it. So the meta pages are read here first, and a file shorter than
// the pages they name is refused as bbolt refuses a file it cannot use.
//
// The layout is that of the lmdb the `lmdb` package builds (64-bit, its
// page header carries a txnid): every page starts with a 24-byte header;
// pages 0 and 1 are meta pages, the valid one with the larger txnid is
// current. lmdb-image.test.ts checks these offsets against a file the
// installed lmdb writes, so an lmdb upgrade that moves them fails a test
// instead of passing bad files.
//
//   offset in a meta page   field
//   24                      mm_magic     u32  0xBEEFC0DE
//   48                      mm_psize     u32  page size (mm_dbs[FREE_DBI].md_pad)
//   144                     mm_last_pg   u64  last page in use
//   152                     mm_txnid     u64  transaction that wrote this meta page
import { InvalidSnapshotError } from './errors.js';

const magic = 0xbeefc0de;
const magicOffset = 24;
const pageSizeOffset = 48;
const lastPageOffset = 144;
const txnIdOffset = 152;
const metaBytes = txnIdOffset + 8;
/** lmdb's page sizes are powers of two in this range. */
const pageSizeMin = 256;
const pageSizeMax = 65_536;

export interface LmdbImageShape {
  pageSize: number;
  /** Bytes the current meta page says the data occupies: (last page + 1) × page size. */
  usedBytes: number;
}

/**
 * Checks that `head` (the file's first two pages, or all of it if shorter)
 * is the start of an lmdb data file whose pages all lie within `fileBytes`.
 * Throws InvalidSnapshotError saying what is wrong.
 */
export function checkLmdbImage(head: Buffer, fileBytes: number): LmdbImageShape {
  if (head.length < metaBytes) throw new InvalidSnapshotError(`the file has ${fileBytes} bytes, too few for an lmdb meta page`);
  if (head.readUInt32LE(magicOffset) !== magic) throw new InvalidSnapshotError('the file does not start with an lmdb meta page');
  const pageSize = head.readUInt32LE(pageSizeOffset);
  if (pageSize < pageSizeMin || pageSize > pageSizeMax || (pageSize & (pageSize - 1)) !== 0) {
    throw new InvalidSnapshotError(`the lmdb meta page gives a page size of ${pageSize}`);
  }
  if (head.length < pageSize + metaBytes) throw new InvalidSnapshotError(`the file has ${fileBytes} bytes, too few for lmdb's two meta pages`);
  const metas = [0, pageSize].map((start) => ({
    valid: head.readUInt32LE(start + magicOffset) === magic,
    lastPage: head.readBigUInt64LE(start + lastPageOffset),
    txnId: head.readBigUInt64LE(start + txnIdOffset),
  }));
  const current = metas.filter((meta) => meta.valid).sort((a, b) => (a.txnId > b.txnId ? -1 : a.txnId < b.txnId ? 1 : 0))[0];
  if (current === undefined) throw new InvalidSnapshotError('neither lmdb meta page is valid');
  const usedBytes = (current.lastPage + 1n) * BigInt(pageSize);
  if (usedBytes > BigInt(fileBytes)) {
    throw new InvalidSnapshotError(`the lmdb data needs ${usedBytes} bytes but the file has ${fileBytes}: it was cut short`);
  }
  return { pageSize, usedBytes: Number(usedBytes) };
}

/** True when `head` starts with an lmdb meta page (its magic): enough to tell a cairn image from another format. */
export function hasLmdbMagic(head: Buffer): boolean {
  return head.length >= magicOffset + 4 && head.readUInt32LE(magicOffset) === magic;
}

/** How many bytes of the file checkLmdbImage needs to see. */
export const lmdbHeadBytes = 2 * pageSizeMax;
