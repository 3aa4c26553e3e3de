// A read-only reader of bbolt database files (the format of etcd's backend),
// over a Buffer holding the whole file. Facts from bbolt's page.go, bucket.go,
// cursor.go and db.go (v1.3.6, the version etcd 3.4 uses); the code is ours.
//
// A bbolt file is a set of B+trees, one per bucket, in pages of `pageSize`
// bytes. The meta page (bolt-meta.ts) names the root bucket's page; the root
// bucket's entries are the top-level buckets; any bucket may nest buckets.
// An entry whose leaf flag says "bucket" holds a 16-byte bucket header
// (root page id u64 | sequence u64): a root page id of 0 means the bucket is
// "inline", its whole (small) leaf page stored right after the header, inside
// the value.
//
// Worked example: etcd's backend with 3 keys in bucket "key", one of them large:
//
//   page 0, 1   meta (txid 8, txid 7) → root bucket at page 3
//   page 3      leaf: "key" → bucket{root 4}, "lease" → bucket{root 0, inline leaf page: …},
//                     "meta" → bucket{root 0, inline leaf page: "consistent_index" → 8 bytes}
//   page 4      branch: [rev 1 → page 5], [rev 3 → page 6]
//   page 5      leaf: rev 1 → KeyValue, rev 2 → KeyValue
//   page 6, 7   leaf with overflow 1: rev 3 → a 6 KiB KeyValue, continued on page 7
//   page 2      freelist (ignored: a reader needs only the pages trees reach)
//
// Reading bucket "key" in order visits pages 3, 4, 5, 6(+7) and yields revs 1, 2, 3.
//
// Every read is bounded: a page id outside [2, high water), a page whose
// overflow passes the high water, elements pointing outside their page, a
// page reached twice in one walk (a cycle), keys out of order, a tree deeper
// than `treeDepthMax` or buckets nested deeper than `bucketDepthMax` are
// BoltPageErrors. A walk therefore visits each page at most once.
import { BoltPageError } from './errors.js';
import { readMeta, type BoltMeta } from './bolt-meta.js';
import {
  bucketLeafFlag, branchElements, leafElements, pageHeaderBytes, PageFlag, readPageHeader, type LeafElement, type PageHeader,
} from './bolt-page.js';

/** Deeper trees than this are corrupt: a B+tree of 2^32 keys with 2 keys a page is 32 deep. */
export const treeDepthMax = 64;
/** Buckets nested deeper than this are corrupt (or a loop of buckets); etcd nests none. */
export const bucketDepthMax = 64;

const bucketHeaderBytes = 16;

/** One entry of a bucket, in key order: a value or a nested bucket. */
export type BoltEntry =
  | { readonly kind: 'value'; readonly key: Buffer; readonly value: Buffer }
  | { readonly kind: 'bucket'; readonly key: Buffer; readonly bucket: BoltBucket };

/** A page's bytes (overflow included) and header, checked against the file. */
export interface Page {
  readonly id: bigint;
  readonly header: PageHeader;
  readonly bytes: Buffer;
}

/**
 * A bbolt file. Opening validates the meta pages only; pages are read and
 * checked as walks reach them. The Buffer is the caller's and must not change
 * while the file is read: entries are views into it, not copies.
 */
export class BoltFile {
  private constructor(private readonly bytes: Buffer, readonly meta: BoltMeta) {}

  /** Throws BoltMetaError when neither meta page is valid. */
  static fromBuffer(bytes: Buffer): BoltFile {
    return new BoltFile(bytes, readMeta(bytes));
  }

  /** The root bucket: its entries are the top-level buckets. */
  root(): BoltBucket {
    return new BoltBucket(this, { kind: 'page', rootPageId: this.meta.rootPageId }, 0);
  }

  /** Page `id` with its overflow; BoltPageError when it is not a page of this file. */
  page(id: bigint): Page {
    const { pageSize, highWaterPageId } = this.meta;
    if (id < 2n || id >= highWaterPageId) throw new BoltPageError(id, `page id is outside [2, ${highWaterPageId})`);
    // Safe: id < high water, and the meta checked that high water × pageSize fits the file.
    const start = Number(id) * pageSize;
    const header = readPageHeader(this.bytes.subarray(start, start + pageSize), id);
    if (header.id !== id) throw new BoltPageError(id, `the page's header says it is page ${header.id}`);
    if (id + BigInt(header.overflow) >= highWaterPageId) {
      throw new BoltPageError(id, `its ${header.overflow} overflow pages pass the high-water page id ${highWaterPageId}`);
    }
    return { id, header, bytes: this.bytes.subarray(start, start + (header.overflow + 1) * pageSize) };
  }
}

/** Where a bucket's tree starts: a page of the file, or a leaf page inline in its parent's value. */
type BucketRoot = { readonly kind: 'page'; readonly rootPageId: bigint } | { readonly kind: 'inline'; readonly page: Buffer };

/** State of one walk over a bucket's tree. */
interface Walk {
  readonly visited: Set<bigint>;
  previousKey: Buffer | undefined;
}

export class BoltBucket {
  /** Use BoltFile.root() and the entries of buckets. */
  constructor(private readonly file: BoltFile, private readonly root: BucketRoot, private readonly depth: number) {}

  /**
   * The bucket's entries in key order (bytewise). Lazy: pages are read as the
   * iteration reaches them, so a BoltPageError may come after some entries.
   */
  *entries(): Generator<BoltEntry> {
    const walk: Walk = { visited: new Set(), previousKey: undefined };
    if (this.root.kind === 'inline') {
      yield* this.leaf({ id: 0n, header: readPageHeader(this.root.page, 0n), bytes: this.root.page }, walk);
    } else {
      yield* this.visit(this.root.rootPageId, 0, walk);
    }
  }

  /** The entry `name`, or undefined when there is none. Reads entries up to `name` (etcd's buckets are found near the start of the root). */
  entry(name: string | Buffer): BoltEntry | undefined {
    const wanted = typeof name === 'string' ? Buffer.from(name) : name;
    for (const entry of this.entries()) {
      const order = Buffer.compare(entry.key, wanted);
      if (order === 0) return entry;
      if (order > 0) return undefined;
    }
    return undefined;
  }

  /** The value of entry `name`, or undefined when there is none or `name` is a nested bucket. */
  value(name: string | Buffer): Buffer | undefined {
    const found = this.entry(name);
    return found?.kind === 'value' ? found.value : undefined;
  }

  /** The nested bucket `name`, or undefined when there is none or `name` holds a value. */
  bucket(name: string | Buffer): BoltBucket | undefined {
    const found = this.entry(name);
    return found?.kind === 'bucket' ? found.bucket : undefined;
  }

  private *visit(pageId: bigint, treeDepth: number, walk: Walk): Generator<BoltEntry> {
    if (treeDepth >= treeDepthMax) throw new BoltPageError(pageId, `the tree is deeper than ${treeDepthMax} pages`);
    if (walk.visited.has(pageId)) throw new BoltPageError(pageId, 'reached twice in one bucket: the tree has a cycle');
    walk.visited.add(pageId);
    const page = this.file.page(pageId);
    if (page.header.flags === PageFlag.leaf) {
      yield* this.leaf(page, walk);
    } else if (page.header.flags === PageFlag.branch) {
      const children = branchElements(page.bytes, page.header, pageId);
      if (children.length === 0) throw new BoltPageError(pageId, 'a branch page with no elements');
      for (const child of children) yield* this.visit(child.childPageId, treeDepth + 1, walk);
    } else {
      throw new BoltPageError(pageId, `flags 0x${page.header.flags.toString(16)} make it no branch or leaf page`);
    }
  }

  private *leaf(page: Page, walk: Walk): Generator<BoltEntry> {
    if (page.header.flags !== PageFlag.leaf) {
      throw new BoltPageError(page.id, `flags 0x${page.header.flags.toString(16)} make it no leaf page`);
    }
    for (const element of leafElements(page.bytes, page.header, page.id)) {
      if (walk.previousKey !== undefined && Buffer.compare(walk.previousKey, element.key) >= 0) {
        throw new BoltPageError(page.id, `key ${element.key.toString('hex')} is not after the previous key ${walk.previousKey.toString('hex')}`);
      }
      walk.previousKey = element.key;
      yield (element.flags & bucketLeafFlag) === 0
        ? { kind: 'value', key: element.key, value: element.value }
        : { kind: 'bucket', key: element.key, bucket: this.nested(element, page.id) };
    }
  }

  private nested(element: LeafElement, pageId: bigint): BoltBucket {
    const { key, value } = element;
    if (this.depth + 1 >= bucketDepthMax) throw new BoltPageError(pageId, `buckets nest deeper than ${bucketDepthMax}`);
    if (value.length < bucketHeaderBytes) {
      throw new BoltPageError(pageId, `bucket ${key.toString('hex')}: ${value.length} bytes cannot hold a bucket header`);
    }
    const rootPageId = value.readBigUInt64LE(0);
    if (rootPageId !== 0n) return new BoltBucket(this.file, { kind: 'page', rootPageId }, this.depth + 1);
    const inline = value.subarray(bucketHeaderBytes);
    if (inline.length < pageHeaderBytes) {
      throw new BoltPageError(pageId, `inline bucket ${key.toString('hex')}: ${inline.length} bytes cannot hold a page header`);
    }
    return new BoltBucket(this.file, { kind: 'inline', page: inline }, this.depth + 1);
  }
}
