import { expect } from 'chai';
import { readFileSync, rmSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { writeSnapshotFile } from '../testing/snapshot-file.js';
import { InvalidSnapshotError } from './errors.js';
import { checkLmdbImage, lmdbHeadBytes } from './lmdb-image.js';

describe('lmdb image check', () => {
  let image: Buffer;

  before(async () => {
    const dir = mkdtempSync(join(tmpdir(), 'cairn-lmdb-image-'));
    try {
      // Enough data for the image to span many pages.
      const path = await writeSnapshotFile(join(dir, 's.db'), (temp) => {
        for (let i = 0; i < 200; i++) temp.write((txn) => void txn.put(Buffer.from(`k${i}`), Buffer.alloc(1000, i), 0n));
      });
      const file = readFileSync(path);
      image = file.subarray(0, file.length - 32);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('reads the page size and the pages in use from what the installed lmdb writes (its meta page layout)', () => {
    const shape = checkLmdbImage(image.subarray(0, lmdbHeadBytes), image.length);
    expect(shape.pageSize).to.be.oneOf([4096, 8192, 16384, 65536]);
    // Backend.copyTo compacts: the image is exactly the pages in use.
    expect(shape.usedBytes).to.equal(image.length);
  });

  it('refuses an image cut short, before lmdb maps it (a read past its end would kill the process)', () => {
    const cut = image.subarray(0, image.length - 4096);
    expect(() => checkLmdbImage(cut.subarray(0, lmdbHeadBytes), cut.length)).to.throw(InvalidSnapshotError, 'invalid database').with.property('detail').that.matches(/cut short/);
  });

  it('refuses what has no lmdb meta page', () => {
    expect(() => checkLmdbImage(Buffer.alloc(100), 100)).to.throw(InvalidSnapshotError);
    expect(() => checkLmdbImage(Buffer.alloc(20_000, 7), 20_000)).to.throw(InvalidSnapshotError).with.property('detail').that.matches(/meta page/);
  });
});
