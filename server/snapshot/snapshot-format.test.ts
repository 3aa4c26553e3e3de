import { expect } from 'chai';
import { createHash } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { writeSnapshotFile } from '../testing/snapshot-file.js';
import { backend, put, withTrailer, saveFixture } from './etcd/etcd-fixture.js';
import { SnapshotFileUnreadableError, SnapshotHashMismatchError, UnknownSnapshotFormatError } from './errors.js';
import { snapshotFormat } from './snapshot-format.js';

describe('snapshot file format', () => {
  let dir = '';
  const file = (name: string, bytes: Buffer): string => saveFixture(dir, name, bytes);
  const thrown = (path: string, check: 'required' | 'skip'): unknown => {
    try {
      return snapshotFormat(path, check);
    } catch (error) {
      return error;
    }
  };

  before(() => (dir = mkdtempSync(join(tmpdir(), 'cairn-snapshot-format-'))));
  after(() => rmSync(dir, { recursive: true, force: true }));

  it("tells cairn's lmdb images from etcd's bbolt files by their first pages", async () => {
    const cairn = await writeSnapshotFile(join(dir, 'cairn.db'), (temp) => void temp.write((txn) => void txn.put(Buffer.from('a'), Buffer.from('1'), 0n)));
    expect(snapshotFormat(cairn, 'required')).to.equal('cairn');
    expect(snapshotFormat(file('etcd.db', withTrailer(backend([put(2, 'a', '1', 2, 1)], []))), 'required')).to.equal('etcd');
  });

  it('refuses a file of neither format with one message, or as damaged when its trailer is checked and wrong', () => {
    const garbage = Buffer.alloc(4 * 512, 0x42);
    const unknown = file('unknown.db', garbage);
    const message = `${unknown} is not a snapshot file: it is neither an etcd snapshot (a bbolt database) nor a cairn snapshot (an lmdb image)`;
    expect(thrown(unknown, 'required')).to.be.instanceOf(UnknownSnapshotFormatError).with.property('message', message);
    const sealed = file('sealed.db', Buffer.concat([garbage, createHash('sha256').update(garbage).digest()]));
    expect(thrown(sealed, 'required'), 'a right trailer').to.be.instanceOf(UnknownSnapshotFormatError);
    const broken = file('broken.db', Buffer.concat([garbage, Buffer.alloc(32)]));
    expect(thrown(broken, 'required'), 'a wrong trailer').to.be.instanceOf(SnapshotHashMismatchError);
    expect(thrown(broken, 'skip'), 'a wrong trailer, skipped').to.be.instanceOf(UnknownSnapshotFormatError);
    expect(thrown(file('empty.db', Buffer.alloc(0)), 'required')).to.be.instanceOf(UnknownSnapshotFormatError);
    expect(thrown(join(dir, 'missing.db'), 'required')).to.be.instanceOf(SnapshotFileUnreadableError);
  });
});
