import { expect } from 'chai';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { writeSnapshotFile } from '../testing/snapshot-file.js';
import { InvalidSnapshotError, SnapshotFileUnreadableError, SnapshotHashMismatchError, SnapshotMissingHashError } from './errors.js';
import { extractImage, hasSha256Trailer } from './file.js';

describe('snapshot file: trailer and image', () => {
  let dir = '';
  let snapshot = '';
  let image: Buffer;

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'cairn-snapshot-file-'));
    snapshot = await writeSnapshotFile(join(dir, 'good.db'), (temp) => void temp.write((txn) => void txn.put(Buffer.from('a'), Buffer.from('1'), 0n)));
    image = readFileSync(snapshot).subarray(0, readFileSync(snapshot).length - 32);
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  const variant = (name: string, bytes: Buffer): string => {
    const path = join(dir, name);
    writeFileSync(path, bytes);
    return path;
  };
  const target = (name: string): string => join(dir, `${name}.mdb`);

  it('tells a trailer by the size alone, as etcd: whole sectors and 32 bytes', () => {
    expect(hasSha256Trailer(4096 + 32)).to.equal(true);
    expect(hasSha256Trailer(4096)).to.equal(false);
    expect(hasSha256Trailer(10_000)).to.equal(false);
  });

  it('copies the image without its trailer once the trailer matches', () => {
    const extracted = extractImage(snapshot, target('good'), 'required');
    expect(extracted).to.include({ imageBytes: image.length, hasHash: true });
    expect(readFileSync(target('good')).equals(image)).to.equal(true);
  });

  it('refuses a damaged image with both digests, and leaves no copy', () => {
    const damaged = Buffer.from(readFileSync(snapshot));
    damaged[100] = (damaged[100] ?? 0) ^ 1;
    for (const check of ['required', 'if-present'] as const) {
      expect(() => extractImage(variant('damaged.db', damaged), target('damaged'), check)).to.throw(SnapshotHashMismatchError, /^expected sha256 \[(\d+ ){31}\d+\], got \[(\d+ ){31}\d+\]$/);
      expect(existsSync(target('damaged'))).to.equal(false);
    }
    extractImage(variant('damaged.db', damaged), target('skipped'), 'skip');
    expect(readFileSync(target('skipped')).length).to.equal(image.length);
  });

  it('a file without a trailer: refused by restore, read as is by status', () => {
    const bare = variant('bare.db', image);
    expect(() => extractImage(bare, target('bare-required'), 'required')).to.throw(SnapshotMissingHashError, 'snapshot missing hash but --skip-hash-check=false');
    expect(extractImage(bare, target('bare'), 'if-present')).to.include({ imageBytes: image.length, hasHash: false });
  });

  it('refuses a file cut short, a file that is no lmdb image, and a missing file, in Go\'s words', () => {
    expect(() => extractImage(variant('cut.db', image.subarray(0, 3 * 4096)), target('cut'), 'skip')).to.throw(InvalidSnapshotError, 'invalid database');
    expect(() => extractImage(variant('text.db', Buffer.alloc(20_001, 'x')), target('text'), 'if-present')).to.throw(InvalidSnapshotError);
    expect(() => extractImage(join(dir, 'missing.db'), target('missing'), 'required')).to.throw(SnapshotFileUnreadableError, `open ${join(dir, 'missing.db')}: no such file or directory`);
  });
});
