import { expect } from 'chai';
import { BoltFile, bucketDepthMax, type BoltBucket, type BoltEntry } from './bbolt.js';
import {
  boltFile, branchPage, bucketValue, fixturePageSize, inlineBucketValue, leafPage, metaChecksumOffset, rewriteMeta,
} from './bolt-fixture.js';
import { hasBoltMagic } from './bolt-meta.js';
import { BoltFormatError, BoltMetaError, BoltPageError } from './errors.js';

/** Every entry of `bucket`, nested buckets as nested arrays: [key, value | [...]]. */
function dump(bucket: BoltBucket): unknown[] {
  return [...bucket.entries()].map((entry: BoltEntry) => [entry.key.toString(), entry.kind === 'value' ? entry.value.toString() : dump(entry.bucket)]);
}

const big = 'v'.repeat(3 * fixturePageSize);

/**
 * root (page 2): "a" → bucket at page 3, "b" → inline bucket, "c" → value
 * page 3: branch → pages 4 and 5; page 5 has a value spanning overflow pages 6..8
 * page 4: leaf, with nested bucket "a2" at page 9
 */
function sampleFile(): Buffer {
  return boltFile({
    rootPageId: 2,
    pages: new Map([
      [2, leafPage(2, [
        { key: 'a', value: bucketValue(3), bucket: true },
        { key: 'b', value: inlineBucketValue([{ key: 'b1', value: 'one' }, { key: 'b2', value: 'two' }]), bucket: true },
        { key: 'c', value: 'plain' },
      ])],
      [3, branchPage(3, [{ key: 'a1', childPageId: 4 }, { key: 'a3', childPageId: 5 }])],
      [4, leafPage(4, [{ key: 'a1', value: 'x' }, { key: 'a2', value: bucketValue(9), bucket: true }])],
      [5, leafPage(5, [{ key: 'a3', value: big }])],
      [9, leafPage(9, [{ key: 'deep', value: 'y' }])],
    ]),
  });
}

/** A file whose root bucket "a" is the single page `page` (id 3), for damaged pages. */
function oneBucketFile(page: Buffer, more: Array<[number, Buffer]> = []): Buffer {
  return boltFile({
    rootPageId: 2,
    pages: new Map([[2, leafPage(2, [{ key: 'a', value: bucketValue(3), bucket: true }])], [3, page], ...more]),
  });
}

function readBucketA(file: Buffer): unknown[] {
  return dump(BoltFile.fromBuffer(file).root().bucket('a')!);
}

describe('bbolt reader', () => {
  it('walks branch, leaf and overflow pages, page and inline buckets, nested buckets, in key order', () => {
    expect(dump(BoltFile.fromBuffer(sampleFile()).root())).to.deep.equal([
      ['a', [['a1', 'x'], ['a2', [['deep', 'y']]], ['a3', big]]],
      ['b', [['b1', 'one'], ['b2', 'two']]],
      ['c', 'plain'],
    ]);
  });

  it('finds entries by name, and tells buckets from values', () => {
    const root = BoltFile.fromBuffer(sampleFile()).root();
    expect(root.bucket('b')).to.not.equal(undefined);
    expect(root.bucket('c'), 'a value is no bucket').to.equal(undefined);
    expect(root.bucket('zz')).to.equal(undefined);
    expect(root.entry('c')).to.deep.include({ kind: 'value' });
  });

  describe('meta pages', () => {
    it('uses the valid meta with the higher txid', () => {
      const file = sampleFile();
      expect(BoltFile.fromBuffer(file).meta.txid).to.equal(10n);
      rewriteMeta(file, 1, (meta) => meta.writeBigUInt64LE(11n, 48));
      expect(BoltFile.fromBuffer(file).meta.txid).to.equal(11n);
    });

    it('falls back to the other meta when the newer one fails its checksum', () => {
      const file = sampleFile();
      file[metaChecksumOffset(0)]! ^= 0xff;
      expect(BoltFile.fromBuffer(file).meta.txid).to.equal(9n);
    });

    it('finds meta 1 when meta 0 is damaged, by trying the page sizes', () => {
      const file = sampleFile();
      file.writeUInt32LE(0, 16);
      expect(BoltFile.fromBuffer(file).meta.pageSize).to.equal(fixturePageSize);
    });

    it('refuses a file whose metas have a bad magic, naming both', () => {
      const file = sampleFile();
      file.writeUInt32LE(0x12345678, 16);
      file.writeUInt32LE(0x12345678, fixturePageSize + 16);
      expect(() => BoltFile.fromBuffer(file)).to.throw(BoltMetaError, /meta 0: magic 0x12345678 is not bbolt's 0xed0cdaed; meta 1: .*magic/);
    });

    it('refuses a file whose metas both fail their checksum', () => {
      const file = sampleFile();
      file[metaChecksumOffset(0)]! ^= 1;
      file[metaChecksumOffset(1)]! ^= 1;
      expect(() => BoltFile.fromBuffer(file)).to.throw(BoltMetaError, /meta 0: checksum mismatch; meta 1: at 1024: checksum mismatch/);
    });

    it('refuses another format version', () => {
      const file = sampleFile();
      for (const index of [0, 1]) rewriteMeta(file, index, (meta) => meta.writeUInt32LE(1, 4));
      expect(() => BoltFile.fromBuffer(file)).to.throw(BoltMetaError, /version 1 is not 2/);
    });

    it('refuses a truncated file', () => {
      const file = sampleFile();
      expect(() => BoltFile.fromBuffer(file.subarray(0, file.length - 1))).to.throw(BoltMetaError, /truncated/);
      expect(() => BoltFile.fromBuffer(file.subarray(0, 40))).to.throw(BoltMetaError, /the file ends at 40/);
      expect(() => BoltFile.fromBuffer(Buffer.alloc(0))).to.throw(BoltMetaError);
    });

    it('refuses a page size that is no power of two, and a root page out of range', () => {
      const file = sampleFile();
      for (const index of [0, 1]) rewriteMeta(file, index, (meta) => meta.writeUInt32LE(3000, 8));
      expect(() => BoltFile.fromBuffer(file)).to.throw(BoltMetaError, /page size 3000/);
      const rooted = sampleFile();
      for (const index of [0, 1]) rewriteMeta(rooted, index, (meta) => meta.writeBigUInt64LE(1n, 16));
      expect(() => BoltFile.fromBuffer(rooted)).to.throw(BoltMetaError, /root page id 1 is outside/);
    });

    it('tells a bbolt file by its magic', () => {
      expect(hasBoltMagic(sampleFile())).to.equal(true);
      expect(hasBoltMagic(Buffer.alloc(8192))).to.equal(false);
      expect(hasBoltMagic(Buffer.alloc(3))).to.equal(false);
    });
  });

  describe('damaged pages', () => {
    it('refuses a page id out of range', () => {
      const file = oneBucketFile(branchPage(3, [{ key: 'k', childPageId: 99 }]));
      expect(() => readBucketA(file)).to.throw(BoltPageError, /page 99: page id is outside \[2, 4\)/);
      const meta = oneBucketFile(branchPage(3, [{ key: 'k', childPageId: 1 }]));
      expect(() => readBucketA(meta), 'the meta pages are no tree pages').to.throw(BoltPageError, /page 1: page id is outside/);
    });

    it('refuses a cycle', () => {
      const file = oneBucketFile(branchPage(3, [{ key: 'k', childPageId: 3 }]));
      expect(() => readBucketA(file)).to.throw(BoltPageError, /page 3: reached twice in one bucket/);
    });

    it('refuses elements that point past their page', () => {
      const page = leafPage(3, [{ key: 'k', value: 'v' }]);
      page.writeUInt32LE(fixturePageSize, 16 + 12); // vsize
      expect(() => readBucketA(oneBucketFile(page))).to.throw(BoltPageError, /element 0 points at bytes \[32, 1057\), past the page's 1024/);
      const count = leafPage(3, [{ key: 'k', value: 'v' }]);
      count.writeUInt16LE(100, 10);
      expect(() => readBucketA(oneBucketFile(count))).to.throw(BoltPageError, /100 elements need 1616 bytes/);
    });

    it('refuses overflow past the high-water page', () => {
      const page = leafPage(3, [{ key: 'k', value: 'v' }]);
      page.writeUInt32LE(5, 12);
      expect(() => readBucketA(oneBucketFile(page))).to.throw(BoltPageError, /its 5 overflow pages pass/);
    });

    it('refuses keys out of order, across pages too', () => {
      const file = oneBucketFile(branchPage(3, [{ key: 'a', childPageId: 4 }, { key: 'b', childPageId: 5 }]), [
        [4, leafPage(4, [{ key: 'm', value: '1' }])],
        [5, leafPage(5, [{ key: 'c', value: '2' }])],
      ]);
      expect(() => readBucketA(file)).to.throw(BoltPageError, /page 5: key 63 is not after the previous key 6d/);
    });

    it('refuses a page of the wrong type, or whose header names another page', () => {
      const free = leafPage(3, []);
      free.writeUInt16LE(0x10, 8);
      expect(() => readBucketA(oneBucketFile(free))).to.throw(BoltPageError, /flags 0x10 make it no branch or leaf page/);
      expect(() => readBucketA(oneBucketFile(leafPage(7, [])))).to.throw(BoltPageError, /page 3: the page's header says it is page 7/);
      expect(() => readBucketA(oneBucketFile(branchPage(3, [])))).to.throw(BoltPageError, /a branch page with no elements/);
    });

    it('refuses a bucket value too short for its header', () => {
      const file = boltFile({ rootPageId: 2, pages: new Map([[2, leafPage(2, [{ key: 'a', value: 'short', bucket: true }])]]) });
      expect(() => dump(BoltFile.fromBuffer(file).root())).to.throw(BoltPageError, /5 bytes cannot hold a bucket header/);
    });

    it('stops a loop of buckets at the nesting limit', () => {
      // Bucket "a" has the root page as its tree: "a" holds "a" holds "a"…
      const file = boltFile({ rootPageId: 2, pages: new Map([[2, leafPage(2, [{ key: 'a', value: bucketValue(2), bucket: true }])]]) });
      let bucket: BoltBucket | undefined = BoltFile.fromBuffer(file).root();
      const descend = (): void => {
        for (let depth = 0; depth <= bucketDepthMax && bucket !== undefined; depth++) bucket = bucket.bucket('a');
      };
      expect(descend).to.throw(BoltPageError, /buckets nest deeper than 64/);
    });

    it('all its errors are BoltFormatErrors', () => {
      expect(new BoltPageError(3n, 'x')).to.be.instanceOf(BoltFormatError);
      expect(new BoltMetaError('x')).to.be.instanceOf(BoltFormatError);
    });
  });
});
