// The bytes of one bbolt page, decoded with every bound checked. Facts from
// bbolt's page.go (v1.3.6, the version etcd 3.4 uses); the code is ours.
//
// A page is `pageSize` bytes, or (1 + overflow) × pageSize when its content
// does not fit one page ("overflow pages": the following pages of the file
// continue it, they have no header of their own). All integers are
// little-endian: bbolt writes its structs in the machine's order, and every
// platform etcd ships for is little-endian.
//
//   header (16 bytes): id u64 | flags u16 | count u16 | overflow u32
//   then `count` elements of 16 bytes, then the keys and values they point at.
//
//   branch element: pos u32 | ksize u32 | child page id u64
//   leaf element:   flags u32 | pos u32 | ksize u32 | vsize u32
//
// `pos` counts from the start of the element itself, not of the page. A leaf
// element with flag 0x01 is a nested bucket: its value is a bucket header
// (see bbolt.ts), not user data.
//
// Worked example: a leaf page (id 5) holding "a" → "xy" and "b" → "z":
//
//   offset  0: 05 00 00 00 00 00 00 00 | 02 00 | 02 00 | 00 00 00 00   id 5, leaf, 2 elements, no overflow
//   offset 16: 00 00 00 00 | 20 00 00 00 | 01 00 00 00 | 02 00 00 00   element 0: pos 32 → offset 16+32 = 48
//   offset 32: 00 00 00 00 | 13 00 00 00 | 01 00 00 00 | 01 00 00 00   element 1: pos 19 → offset 32+19 = 51
//   offset 48: 61 78 79 | 62 7a                                        "a" "xy" | "b" "z"
//
// Element 0's key is bytes [48, 49), its value [49, 51); element 1's key [51, 52), its value [52, 53).
import { BoltPageError } from './errors.js';

export const pageHeaderBytes = 16;
export const elementBytes = 16;

/** bbolt's page flags (page.go). A page has exactly one of them. */
export const PageFlag = {
  branch: 0x01,
  leaf: 0x02,
  meta: 0x04,
  freelist: 0x10,
} as const;

/** A leaf element whose value is a nested bucket (bbolt's bucketLeafFlag). */
export const bucketLeafFlag = 0x01;

export interface PageHeader {
  readonly id: bigint;
  readonly flags: number;
  /** Number of elements. */
  readonly count: number;
  /** Number of pages after this one that continue it. */
  readonly overflow: number;
}

export interface BranchElement {
  readonly key: Buffer;
  readonly childPageId: bigint;
}

export interface LeafElement {
  readonly flags: number;
  readonly key: Buffer;
  readonly value: Buffer;
}

/** The header of the page whose bytes start `bytes`; `pageId` names it in errors. */
export function readPageHeader(bytes: Buffer, pageId: bigint): PageHeader {
  if (bytes.length < pageHeaderBytes) throw new BoltPageError(pageId, `${bytes.length} bytes cannot hold a page header`);
  return {
    id: bytes.readBigUInt64LE(0),
    flags: bytes.readUInt16LE(8),
    count: bytes.readUInt16LE(10),
    overflow: bytes.readUInt32LE(12),
  };
}

/** The elements of branch page `page` (all its bytes, overflow included), in file order. */
export function branchElements(page: Buffer, header: PageHeader, pageId: bigint): BranchElement[] {
  checkElementTable(page, header, pageId);
  const elements: BranchElement[] = [];
  for (let index = 0; index < header.count; index++) {
    const at = pageHeaderBytes + index * elementBytes;
    const key = slice(page, at, page.readUInt32LE(at), page.readUInt32LE(at + 4), pageId, index);
    elements.push({ key, childPageId: page.readBigUInt64LE(at + 8) });
  }
  return elements;
}

/** The elements of leaf page `page` (all its bytes, overflow included), in file order. */
export function leafElements(page: Buffer, header: PageHeader, pageId: bigint): LeafElement[] {
  checkElementTable(page, header, pageId);
  const elements: LeafElement[] = [];
  for (let index = 0; index < header.count; index++) {
    const at = pageHeaderBytes + index * elementBytes;
    const flags = page.readUInt32LE(at);
    const keyBytes = page.readUInt32LE(at + 8);
    const valueBytes = page.readUInt32LE(at + 12);
    // One slice for key and value, so that a single check bounds both.
    const both = slice(page, at, page.readUInt32LE(at + 4), keyBytes + valueBytes, pageId, index);
    elements.push({ flags, key: both.subarray(0, keyBytes), value: both.subarray(keyBytes) });
  }
  return elements;
}

function checkElementTable(page: Buffer, header: PageHeader, pageId: bigint): void {
  const tableEnd = pageHeaderBytes + header.count * elementBytes;
  if (tableEnd > page.length) {
    throw new BoltPageError(pageId, `${header.count} elements need ${tableEnd} bytes, the page has ${page.length}`);
  }
}

/** Bytes [elementAt + pos, elementAt + pos + length) of `page`, or a BoltPageError when they leave it. */
function slice(page: Buffer, elementAt: number, pos: number, length: number, pageId: bigint, index: number): Buffer {
  const start = elementAt + pos;
  const end = start + length;
  if (end > page.length) {
    throw new BoltPageError(pageId, `element ${index} points at bytes [${start}, ${end}), past the page's ${page.length}`);
  }
  return page.subarray(start, end);
}
