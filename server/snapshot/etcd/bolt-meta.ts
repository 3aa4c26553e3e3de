// bbolt's two meta pages: which one describes the database, and whether the
// file can hold what it describes. Facts from bbolt's db.go (v1.3.6); the
// code is ours.
//
// Pages 0 and 1 are both meta pages. A commit writes the meta of its
// transaction over the older of the two, so the valid one with the higher
// txid is the database; the other is the previous commit (a commit torn by a
// crash leaves one invalid meta, and the other still opens). A meta page is
// the 16-byte page header, then (little-endian):
//
//   magic u32 | version u32 | pageSize u32 | flags u32 | root page id u64 | root sequence u64
//   | freelist page id u64 | high-water page id u64 | txid u64 | checksum u64
//
// The checksum is FNV-64a of the 56 bytes before it. The high-water page id
// is the number of pages in use: every page a tree reaches lies below it.
import { BoltMetaError } from './errors.js';
import { pageHeaderBytes } from './bolt-page.js';

export const boltMagic = 0xed0cdaed;
export const boltVersion = 2;
/** The smallest and largest page size this reader accepts: the range in which bbolt looks for the second meta page. */
export const pageSizeBytesMin = 1024;
export const pageSizeBytesMax = 16 * 1024 * 1024;

const metaChecksummedBytes = 56;
const metaBytes = 64;

export interface BoltMeta {
  readonly pageSize: number;
  /** Page of the root bucket, whose entries are the top-level buckets. */
  readonly rootPageId: bigint;
  /** Pages in use: every valid page id is below it. */
  readonly highWaterPageId: bigint;
  readonly txid: bigint;
}

/**
 * The meta that describes `file`: the valid one with the higher txid.
 * Throws BoltMetaError, naming both reasons, when neither is valid.
 */
export function readMeta(file: Buffer): BoltMeta {
  const meta0 = tryMeta(file, 0);
  // Page 1 starts one page in: at meta 0's page size when meta 0 is valid;
  // otherwise at the first candidate size where a valid meta lies (as bbolt ≥ 1.3.7 looks for it).
  const meta1 = typeof meta0 === 'string' ? findSecondMeta(file) : tryMeta(file, meta0.pageSize);
  if (typeof meta0 === 'string' && typeof meta1 === 'string') {
    throw new BoltMetaError(`bbolt: no valid meta page: meta 0: ${meta0}; meta 1: ${meta1}`);
  }
  if (typeof meta0 === 'string') return meta1 as BoltMeta;
  if (typeof meta1 === 'string') return meta0;
  return meta1.txid > meta0.txid ? meta1 : meta0;
}

/** True when a meta page (page 0, or page 1 at any candidate size) carries bbolt's magic: enough to tell a bbolt file from another format. */
export function hasBoltMagic(file: Buffer): boolean {
  for (const offset of [0, ...candidatePageSizes(file)]) {
    const at = offset + pageHeaderBytes;
    if (at + 4 <= file.length && file.readUInt32LE(at) === boltMagic) return true;
  }
  return false;
}

/** FNV-64a of `bytes` (Go's hash/fnv New64a), the meta page's checksum. */
export function fnv64a(bytes: Uint8Array): bigint {
  let hash = 0xcbf29ce484222325n;
  for (const byte of bytes) hash = ((hash ^ BigInt(byte)) * 0x100000001b3n) & 0xffffffffffffffffn;
  return hash;
}

function findSecondMeta(file: Buffer): BoltMeta | string {
  // The reason worth giving is that of a page that was a meta page (had the magic) but failed a check.
  let reason = `no meta page with bbolt's magic at any page size from ${pageSizeBytesMin} to ${pageSizeBytesMax}`;
  let sawMagic = false;
  for (const pageSize of candidatePageSizes(file)) {
    const meta = tryMeta(file, pageSize);
    if (typeof meta !== 'string' && meta.pageSize === pageSize) return meta;
    if (!sawMagic && file.readUInt32LE(pageSize + pageHeaderBytes) === boltMagic) {
      sawMagic = true;
      reason = `at ${pageSize}: ${typeof meta === 'string' ? meta : `its page size ${meta.pageSize} is not its offset`}`;
    }
  }
  return reason;
}

/** The page sizes at which a whole second meta page would fit in `file`. */
function candidatePageSizes(file: Buffer): number[] {
  const sizes: number[] = [];
  for (let size = pageSizeBytesMin; size <= pageSizeBytesMax && size + pageHeaderBytes + metaBytes <= file.length; size *= 2) sizes.push(size);
  return sizes;
}

/** The meta page at byte `offset`, or why it is not valid. */
function tryMeta(file: Buffer, offset: number): BoltMeta | string {
  const at = offset + pageHeaderBytes;
  if (at + metaBytes > file.length) return `the file ends at ${file.length}, before its end at ${at + metaBytes}`;
  const magic = file.readUInt32LE(at);
  if (magic !== boltMagic) return `magic 0x${magic.toString(16)} is not bbolt's 0x${boltMagic.toString(16)}`;
  const version = file.readUInt32LE(at + 4);
  if (version !== boltVersion) return `version ${version} is not ${boltVersion}`;
  const checksum = file.readBigUInt64LE(at + metaChecksummedBytes);
  // bbolt accepts a zero checksum (files written before it had one); so do we, to open what bbolt opens.
  if (checksum !== 0n && checksum !== fnv64a(file.subarray(at, at + metaChecksummedBytes))) return 'checksum mismatch';
  const meta: BoltMeta = {
    pageSize: file.readUInt32LE(at + 8),
    rootPageId: file.readBigUInt64LE(at + 16),
    highWaterPageId: file.readBigUInt64LE(at + 40),
    txid: file.readBigUInt64LE(at + 48),
  };
  return checkBounds(meta, file.length) ?? meta;
}

/** Why `meta` cannot describe a file of `fileBytes`, or undefined when it can. */
function checkBounds(meta: BoltMeta, fileBytes: number): string | undefined {
  const { pageSize, rootPageId, highWaterPageId } = meta;
  if (pageSize < pageSizeBytesMin || pageSize > pageSizeBytesMax || (pageSize & (pageSize - 1)) !== 0) {
    return `page size ${pageSize} is not a power of two in [${pageSizeBytesMin}, ${pageSizeBytesMax}]`;
  }
  // Pages 0 and 1 are the metas: a database has at least them and the root bucket's page.
  if (highWaterPageId < 3n) return `high-water page id ${highWaterPageId} leaves no page for the root bucket`;
  if (highWaterPageId * BigInt(pageSize) > BigInt(fileBytes)) {
    return `the file is truncated: ${highWaterPageId} pages of ${pageSize} bytes need ${highWaterPageId * BigInt(pageSize)} bytes, it has ${fileBytes}`;
  }
  if (rootPageId < 2n || rootPageId >= highWaterPageId) {
    return `root page id ${rootPageId} is outside [2, ${highWaterPageId})`;
  }
  return undefined;
}
