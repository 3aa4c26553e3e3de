// Test helper (not used by the server): writes small bbolt files by hand, in
// the layout bolt-page.ts and bolt-meta.ts describe, so that unit tests can
// build both valid files and each kind of damage.
import { fnv64a } from './bolt-meta.js';
import { bucketLeafFlag, elementBytes, pageHeaderBytes, PageFlag } from './bolt-page.js';

export const fixturePageSize = 1024;

export interface LeafEntry {
  readonly key: Buffer | string;
  readonly value: Buffer | string;
  /** The value is a bucket header (bucketValue, inlineBucketValue). */
  readonly bucket?: boolean;
}

export interface BranchEntry {
  readonly key: Buffer | string;
  readonly childPageId: number;
}

const bytesOf = (data: Buffer | string): Buffer => (typeof data === 'string' ? Buffer.from(data) : data);

/** A leaf page with id `id` (0 for an inline page); longer than a page when its entries need it. */
export function leafPage(id: number, entries: readonly LeafEntry[]): Buffer {
  return elementPage(id, PageFlag.leaf, entries.map((entry) => {
    const key = bytesOf(entry.key);
    const value = bytesOf(entry.value);
    return {
      data: Buffer.concat([key, value]),
      write(element: Buffer, pos: number): void {
        element.writeUInt32LE(entry.bucket === true ? bucketLeafFlag : 0, 0);
        element.writeUInt32LE(pos, 4);
        element.writeUInt32LE(key.length, 8);
        element.writeUInt32LE(value.length, 12);
      },
    };
  }));
}

/** A branch page with id `id`. */
export function branchPage(id: number, entries: readonly BranchEntry[]): Buffer {
  return elementPage(id, PageFlag.branch, entries.map((entry) => {
    const key = bytesOf(entry.key);
    return {
      data: key,
      write(element: Buffer, pos: number): void {
        element.writeUInt32LE(pos, 0);
        element.writeUInt32LE(key.length, 4);
        element.writeBigUInt64LE(BigInt(entry.childPageId), 8);
      },
    };
  }));
}

/** One element of a page: its data, and how it writes its 16 bytes given `pos`, the distance from it to its data. */
interface FixtureElement {
  readonly data: Buffer;
  write(element: Buffer, pos: number): void;
}

/** A page of `elements`: the element table, then the data of each in order. */
function elementPage(id: number, flags: number, elements: readonly FixtureElement[]): Buffer {
  const tableEnd = pageHeaderBytes + elements.length * elementBytes;
  const table = Buffer.alloc(tableEnd);
  let dataAt = tableEnd;
  elements.forEach(({ data, write }, index) => {
    const at = pageHeaderBytes + index * elementBytes;
    write(table.subarray(at, at + elementBytes), dataAt - at);
    dataAt += data.length;
  });
  return withHeader(Buffer.concat([table, ...elements.map((element) => element.data)]), id, flags, elements.length);
}

/** The value of a bucket entry whose tree starts at page `rootPageId`. */
export function bucketValue(rootPageId: number): Buffer {
  const value = Buffer.alloc(16);
  value.writeBigUInt64LE(BigInt(rootPageId), 0);
  return value;
}

/** The value of an inline bucket holding `entries`. */
export function inlineBucketValue(entries: readonly LeafEntry[]): Buffer {
  return Buffer.concat([bucketValue(0), leafPage(0, entries)]);
}

export interface FixtureFile {
  /** The pages from id 2 on, by id (a longer one takes the following ids as overflow). */
  readonly pages: ReadonlyMap<number, Buffer>;
  readonly rootPageId: number;
  /** Meta 0 gets this txid, meta 1 one less (as bbolt's WriteTo writes them). */
  readonly txid?: number;
}

/** The bytes of a bbolt file of `fixturePageSize` pages. */
export function boltFile(fixture: FixtureFile): Buffer {
  const pageCount = Math.max(3, ...[...fixture.pages].map(([id, bytes]) => id + Math.ceil(bytes.length / fixturePageSize)));
  const file = Buffer.alloc(pageCount * fixturePageSize);
  for (const [id, bytes] of fixture.pages) bytes.copy(file, id * fixturePageSize);
  const txid = fixture.txid ?? 10;
  metaPage(pageCount, fixture.rootPageId, BigInt(txid)).copy(file, 0);
  metaPage(pageCount, fixture.rootPageId, BigInt(txid - 1), 1).copy(file, fixturePageSize);
  return file;
}

/** Offset of meta page `index`'s checksum in a fixture file, for tests that damage it. */
export function metaChecksumOffset(index: number): number {
  return index * fixturePageSize + pageHeaderBytes + 56;
}

/** Rewrites meta page `index` of `file` after `change` edited its fields (given the meta's 64 bytes): a valid checksum again. */
export function rewriteMeta(file: Buffer, index: number, change: (meta: Buffer) => void): void {
  const meta = file.subarray(index * fixturePageSize + pageHeaderBytes, index * fixturePageSize + pageHeaderBytes + 64);
  change(meta);
  meta.writeBigUInt64LE(fnv64a(meta.subarray(0, 56)), 56);
}

function metaPage(pageCount: number, rootPageId: number, txid: bigint, id = 0): Buffer {
  const page = withHeader(Buffer.alloc(pageHeaderBytes + 64), id, PageFlag.meta, 0);
  const meta = page.subarray(pageHeaderBytes);
  meta.writeUInt32LE(0xed0cdaed, 0);
  meta.writeUInt32LE(2, 4);
  meta.writeUInt32LE(fixturePageSize, 8);
  meta.writeBigUInt64LE(BigInt(rootPageId), 16);
  meta.writeBigUInt64LE(0xffffffffffffffffn, 32); // no freelist, as with bbolt's NoFreelistSync
  meta.writeBigUInt64LE(BigInt(pageCount), 40);
  meta.writeBigUInt64LE(txid, 48);
  meta.writeBigUInt64LE(fnv64a(meta.subarray(0, 56)), 56);
  return page;
}

/** `body` (whose first 16 bytes are left for it) with a page header; overflow counts the extra pages a long body needs. */
function withHeader(body: Buffer, id: number, flags: number, count: number): Buffer {
  body.writeBigUInt64LE(BigInt(id), 0);
  body.writeUInt16LE(flags, 8);
  body.writeUInt16LE(count, 10);
  body.writeUInt32LE(id === 0 ? 0 : Math.max(0, Math.ceil(body.length / fixturePageSize) - 1), 12);
  return body;
}
