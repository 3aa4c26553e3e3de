import { expect } from 'chai';
import { closeSync, mkdtempSync, openSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync, writeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Entry, HardState } from '../../proto/gen/raftpb/raft.js';
import { must } from '../../test/harness/must.js';
import { encodeRecord, recordHeaderBytes, RecordType } from './record.js';
import { segmentBytesMax, Wal, WalCorruptError, type WalContents } from './wal.js';

function entry(index: number, data = `entry ${index}`, term = 1): Entry {
  return Entry.fromPartial({ index: BigInt(index), term: BigInt(term), data: Buffer.from(data) });
}

function entryRecord(index: number, data?: string, term?: number): Buffer {
  return encodeRecord(RecordType.entry, Entry.encode(entry(index, data, term)).finish());
}

/** XORs the byte at `offset` with `mask` (readUInt8 throws if offset is outside the buffer). */
function flipBits(bytes: Buffer, offset: number, mask: number): void {
  bytes.writeUInt8(bytes.readUInt8(offset) ^ mask, offset);
}

function indexes(contents: WalContents): number[] {
  return contents.entries.map((found) => Number(found.index));
}

/** Writes `bytes` into the file at `path` at `offset`, as a write into a preallocated segment does. */
function writeAt(path: string, offset: number, bytes: Buffer): void {
  const fd = openSync(path, 'r+');
  try {
    writeSync(fd, bytes, 0, bytes.length, offset);
  } finally {
    closeSync(fd);
  }
}

/** Bytes the records take together. */
function recordsLength(...records: Buffer[]): number {
  return records.reduce((total, record) => total + record.length, 0);
}

/** Whether the file holds only zeros from `offset` on. */
function zerosFrom(path: string, offset: number): boolean {
  return readFileSync(path).subarray(offset).every((byte) => byte === 0);
}

const firstSegment = '0000000000000000-0000000000000001.wal';
const secondSegment = '0000000000000001-0000000000000003.wal';

describe('Wal', () => {
  let root: string;
  let dir: string;
  const opened: Wal[] = [];

  /** Opens the log in `dir`; the wal is closed after the test. */
  const open = (): { wal: Wal; contents: WalContents } => {
    const result = Wal.open(dir);
    opened.push(result.wal);
    return result;
  };
  /** Opens, appends, closes. */
  const appendAndClose = (entries: Entry[], hardState?: HardState): void => {
    const { wal } = open();
    wal.append(entries, hardState);
    wal.close();
  };
  const segments = (): string[] => readdirSync(dir).sort();
  const segmentPath = (name = firstSegment): string => join(dir, name);

  beforeEach(() => {
    root = mkdtempSync(join(tmpdir(), 'cairn-wal-test-'));
    dir = root;
  });

  afterEach(() => {
    for (const wal of opened.splice(0)) wal.close();
    rmSync(root, { recursive: true, force: true });
  });

  it('opens an empty directory as an empty log with one segment starting at index 1', () => {
    const { wal, contents } = open();
    expect(contents).to.deep.equal({ entries: [], snapshot: undefined, hardState: undefined, tornBytes: 0 });
    expect(wal.lastEntryIndex).to.equal(0);
    expect(segments()).to.deep.equal([firstSegment]);
    expect(statSync(segmentPath()).size).to.equal(segmentBytesMax, 'preallocated');
    expect(zerosFrom(segmentPath(), 0)).to.equal(true);
  });

  it('writes into the preallocated segment: its size stays, the records start at offset 0, zeros follow', () => {
    appendAndClose([entry(1), entry(2)]);
    expect(statSync(segmentPath()).size).to.equal(segmentBytesMax);
    const end = recordsLength(entryRecord(1), entryRecord(2));
    expect(readFileSync(segmentPath()).subarray(0, end)).to.deep.equal(Buffer.concat([entryRecord(1), entryRecord(2)]));
    expect(zerosFrom(segmentPath(), end)).to.equal(true);
  });

  it('reads a segment written before preallocation (ending with its last record), then preallocates and appends after it', () => {
    writeFileSync(segmentPath(), Buffer.concat([entryRecord(1), entryRecord(2)]));
    const { wal, contents } = open();
    expect(indexes(contents)).to.deep.equal([1, 2]);
    expect(contents.tornBytes).to.equal(0);
    expect(statSync(segmentPath()).size).to.equal(segmentBytesMax);
    wal.append([entry(3)]);
    wal.close();
    expect(indexes(open().contents)).to.deep.equal([1, 2, 3]);
  });

  it('keeps an entry whose data ends in zero bytes (zeros inside a record are data, not the preallocated tail)', () => {
    appendAndClose([entry(1), Entry.fromPartial({ index: 2n, term: 1n, data: Buffer.alloc(100) })]);
    const { contents } = open();
    expect(indexes(contents)).to.deep.equal([1, 2]);
    expect(must(contents.entries[1], 'entry 2').data).to.deep.equal(Buffer.alloc(100));
    expect(contents.tornBytes).to.equal(0);
  });

  it('creates the directory when it does not exist', () => {
    dir = join(root, 'nested', 'wal');
    const { contents } = open();
    expect(contents.entries).to.deep.equal([]);
    expect(segments()).to.deep.equal([firstSegment]);
  });

  it('reads back every entry in order and the last hard state after a reopen', async () => {
    const { wal } = open();
    wal.append([entry(1), entry(2)], HardState.fromPartial({ term: 1n, vote: 1n, commit: 1n }));
    wal.append([entry(3, '')]);
    wal.append([], HardState.fromPartial({ term: 2n, vote: 1n, commit: 3n }));
    wal.append([entry(4, 'x'.repeat(10_000), 2)]);
    await wal.sync();
    expect(wal.lastEntryIndex).to.equal(4);
    wal.close();

    const { wal: reopened, contents } = open();
    expect(contents.entries).to.deep.equal([entry(1), entry(2), entry(3, ''), entry(4, 'x'.repeat(10_000), 2)]);
    expect(contents.hardState).to.deep.equal(HardState.fromPartial({ term: 2n, vote: 1n, commit: 3n }));
    expect(contents.tornBytes).to.equal(0);
    expect(reopened.lastEntryIndex).to.equal(4);
  });

  it('continues appending after a reopen', () => {
    appendAndClose([entry(1), entry(2)]);
    appendAndClose([entry(3)]);
    const { contents } = open();
    expect(indexes(contents)).to.deep.equal([1, 2, 3]);
    expect(segments()).to.deep.equal([firstSegment]);
  });

  it('rejects a sync after close instead of claiming durability', async () => {
    const { wal } = open();
    wal.append([entry(1)]);
    await wal.sync();
    wal.close();
    let failure: unknown;
    await wal.sync().catch((error: unknown) => (failure = error));
    // The closed descriptor is -1: Node refuses it before the system call.
    expect(failure).to.be.instanceOf(Error);
  });

  describe('append', () => {
    it('refuses an entry that leaves a gap or precedes the log, and writes nothing', () => {
      const { wal } = open();
      wal.append([entry(1)]);
      expect(() => wal.append([entry(3)])).to.throw('wal: append index 3 after 1');
      expect(() => wal.append([entry(0)])).to.throw('wal: append index 0 after 1');
      expect(() => wal.append([entry(2), entry(4)])).to.throw('wal: append index 4 after 2');
      expect(wal.lastEntryIndex).to.equal(1);
      wal.close();
      expect(indexes(open().contents)).to.deep.equal([1]);
    });

    it('refuses a batch with a gap inside it as a whole: nothing written, last index unchanged', () => {
      const { wal } = open();
      wal.append([entry(1)]);
      expect(() => wal.append([entry(2), entry(4)])).to.throw('wal: append index 4 after 2');
      expect(wal.lastEntryIndex).to.equal(1);
      // The refused batch left no trace: the next entry is still 2.
      wal.append([entry(2)]);
      wal.close();
      expect(indexes(open().contents)).to.deep.equal([1, 2]);
    });

    it('refuses the first entry of a new log unless it is index 1', () => {
      const { wal } = open();
      expect(() => wal.append([entry(2)])).to.throw('wal: append index 2 after 0');
    });
  });

  describe('torn tail', () => {
    // A crash during a write leaves part of the last batch on disk: in a preallocated segment the
    // bytes that did not make it read as zeros.
    it('cuts off a record whose last bytes did not reach the disk, and appends after it', () => {
      appendAndClose([entry(1), entry(2), entry(3)]);
      const end = recordsLength(entryRecord(1), entryRecord(2), entryRecord(3));
      writeAt(segmentPath(), end - 3, Buffer.alloc(3));
      const kept = recordsLength(entryRecord(1), entryRecord(2));

      const { wal, contents } = open();
      expect(indexes(contents)).to.deep.equal([1, 2]);
      expect(contents.tornBytes).to.equal(entryRecord(3).length - 3);
      expect(zerosFrom(segmentPath(), kept)).to.equal(true);
      expect(statSync(segmentPath()).size).to.equal(segmentBytesMax);
      expect(wal.lastEntryIndex).to.equal(2);
      wal.append([entry(3, 'again')]);
      wal.close();

      const reopened = open().contents;
      expect(reopened.entries).to.deep.equal([entry(1), entry(2), entry(3, 'again')]);
      expect(reopened.tornBytes).to.equal(0);
    });

    it('cuts off a partial header', () => {
      appendAndClose([entry(1), entry(2)]);
      writeAt(segmentPath(), recordsLength(entryRecord(1), entryRecord(2)), entryRecord(3).subarray(0, recordHeaderBytes - 2));
      const { contents } = open();
      expect(indexes(contents)).to.deep.equal([1, 2]);
      expect(contents.tornBytes).to.equal(recordHeaderBytes - 2);
    });

    it('cuts off a record truncated at the end of a segment that is not preallocated (written before)', () => {
      writeFileSync(segmentPath(), Buffer.concat([entryRecord(1), entryRecord(2).subarray(0, 5)]));
      const { contents } = open();
      expect(indexes(contents)).to.deep.equal([1]);
      expect(contents.tornBytes).to.equal(5);
    });

    it('takes zeros after the last record for the preallocated space, not a torn write', () => {
      writeFileSync(segmentPath(), Buffer.concat([entryRecord(1), Buffer.alloc(4096)]));
      const { wal, contents } = open();
      expect(indexes(contents)).to.deep.equal([1]);
      expect(contents.tornBytes).to.equal(0);
      wal.append([entry(2)]);
      wal.close();
      expect(indexes(open().contents)).to.deep.equal([1, 2]);
    });

    it('cuts off garbage whose length field runs past the end of the file', () => {
      appendAndClose([entry(1)]);
      writeAt(segmentPath(), entryRecord(1).length, Buffer.from('garbage!garbage!garbage!'));
      const { wal, contents } = open();
      expect(indexes(contents)).to.deep.equal([1]);
      expect(contents.tornBytes).to.equal(24);
      wal.append([entry(2)]);
      wal.close();
      expect(indexes(open().contents)).to.deep.equal([1, 2]);
    });

    it('cuts off a whole last record with a bad CRC (nothing but zeros after it)', () => {
      appendAndClose([entry(1), entry(2)]);
      const end = recordsLength(entryRecord(1), entryRecord(2));
      const bytes = readFileSync(segmentPath());
      flipBits(bytes, end - 1, 0xff);
      writeFileSync(segmentPath(), bytes);
      const { contents } = open();
      expect(indexes(contents)).to.deep.equal([1]);
      expect(contents.tornBytes).to.equal(entryRecord(2).length);
    });

    it('refuses a bad record with data after the bytes it claims (not a torn tail), and leaves the file alone', () => {
      appendAndClose([entry(1), entry(2)]);
      const end = recordsLength(entryRecord(1), entryRecord(2));
      writeAt(segmentPath(), entryRecord(1).length, Buffer.alloc(recordHeaderBytes)); // entry 2's header lost
      writeAt(segmentPath(), end + 4096, entryRecord(3)); // a later page of the same write persisted
      const before = readFileSync(segmentPath());
      expect(() => Wal.open(dir)).to.throw(WalCorruptError, `wal: bad record length 0 in ${firstSegment} at offset ${entryRecord(1).length}`);
      expect(readFileSync(segmentPath())).to.deep.equal(before);
    });
  });

  describe('corruption', () => {
    it('refuses to open a log with a bad CRC before valid records, and leaves the file alone', () => {
      appendAndClose([entry(1), entry(2), entry(3)]);
      const bytes = readFileSync(segmentPath());
      flipBits(bytes, entryRecord(1).length + recordHeaderBytes + 2, 0x01); // inside entry 2's payload
      writeFileSync(segmentPath(), bytes);
      expect(() => Wal.open(dir)).to.throw(
        WalCorruptError,
        `wal: crc mismatch in ${firstSegment} at offset ${entryRecord(1).length}`,
      );
      expect(readFileSync(segmentPath())).to.deep.equal(bytes);
    });

    it('refuses to open a log with an unknown record type before valid records', () => {
      writeFileSync(segmentPath(), Buffer.concat([entryRecord(1), encodeRecord(9 as RecordType, Buffer.from('?')), entryRecord(2)]));
      expect(() => Wal.open(dir)).to.throw(WalCorruptError, 'unknown record type 9');
    });

    it('names the error WalCorruptError', () => {
      writeFileSync(segmentPath(), Buffer.concat([entryRecord(1), encodeRecord(9 as RecordType, Buffer.from('?')), entryRecord(2)]));
      try {
        Wal.open(dir);
        expect.fail('Wal.open should have thrown');
      } catch (error) {
        expect(error).to.be.instanceOf(WalCorruptError);
        expect((error as Error).name).to.equal('WalCorruptError');
      }
    });
  });

  describe('segments', () => {
    it('reads segments in sequence order', () => {
      writeFileSync(segmentPath(firstSegment), Buffer.concat([entryRecord(1), entryRecord(2)]));
      writeFileSync(segmentPath(secondSegment), Buffer.concat([entryRecord(3), entryRecord(4)]));
      writeFileSync(join(dir, 'not-a-segment.txt'), 'ignored');
      const { wal, contents } = open();
      expect(indexes(contents)).to.deep.equal([1, 2, 3, 4]);
      expect(wal.lastEntryIndex).to.equal(4);
      wal.append([entry(5)]);
      wal.close();
      // Appends go to the last segment.
      expect(indexes(open().contents)).to.deep.equal([1, 2, 3, 4, 5]);
      expect(statSync(segmentPath(firstSegment)).size).to.equal(entryRecord(1).length + entryRecord(2).length);
    });

    it('refuses a bad CRC at the end of a segment that is not the last', () => {
      const first = Buffer.concat([entryRecord(1), entryRecord(2)]);
      flipBits(first, first.length - 1, 0xff);
      writeFileSync(segmentPath(firstSegment), first);
      writeFileSync(segmentPath(secondSegment), entryRecord(3));
      expect(() => Wal.open(dir)).to.throw(WalCorruptError, `wal: crc mismatch in ${firstSegment} at offset ${entryRecord(1).length}`);
      expect(readFileSync(segmentPath(firstSegment))).to.deep.equal(first);
    });

    it('refuses a truncated record at the end of a segment that is not the last', () => {
      const first = Buffer.concat([entryRecord(1), entryRecord(2)]);
      writeFileSync(segmentPath(firstSegment), first.subarray(0, first.length - 2));
      writeFileSync(segmentPath(secondSegment), entryRecord(3));
      expect(() => Wal.open(dir)).to.throw(WalCorruptError, `wal: truncated record in ${firstSegment} at offset ${entryRecord(1).length}`);
    });

    it('lets a later entry at an index already seen replace the suffix (a Raft log overwrite)', () => {
      writeFileSync(segmentPath(firstSegment), Buffer.concat([entryRecord(1), entryRecord(2), entryRecord(3)]));
      writeFileSync(segmentPath(secondSegment), Buffer.concat([entryRecord(2, 'new', 2), entryRecord(3, 'new', 2)]));
      const { wal, contents } = open();
      expect(contents.entries).to.deep.equal([entry(1), entry(2, 'new', 2), entry(3, 'new', 2)]);
      expect(wal.lastEntryIndex).to.equal(3);
    });

    it('rotates to a new segment, named by its sequence and first index, once the current one is full', function () {
      this.timeout(10_000);
      const { wal } = open();
      const big = Buffer.alloc(segmentBytesMax - 1024, 0x61);
      wal.append([Entry.fromPartial({ index: 1n, term: 1n, data: big })]);
      wal.append([entry(2, 'y'.repeat(2048))]); // the segment passes segmentBytesMax
      expect(segments()).to.deep.equal([firstSegment]);
      wal.append([entry(3), entry(4)]);
      wal.append([entry(5)]);
      wal.close();
      expect(segments()).to.have.length(2);
      expect(segments()[0]).to.equal(firstSegment);
      const { contents } = open();
      expect(indexes(contents)).to.deep.equal([1, 2, 3, 4, 5]);
      expect(must(contents.entries[0], 'entry 1').data.equals(big)).to.equal(true);
      // Entry 3 is the first entry of the second segment.
      expect(segments()[1]).to.equal('0000000000000001-0000000000000003.wal');
    });
  });

  describe('overwrites and snapshots', () => {
    it('keeps the later version of an overwritten suffix (Raft replaces conflicting entries)', () => {
      const { wal } = open();
      wal.append([entry(1), entry(2), entry(3)]);
      wal.append([entry(2, 'new 2', 2)]);
      expect(wal.lastEntryIndex).to.equal(2);
      wal.close();
      const { contents } = open();
      expect(indexes(contents)).to.deep.equal([1, 2]);
      expect(must(contents.entries[1], 'entry 2').data.toString()).to.equal('new 2');
    });

    it('a local snapshot record hides the entries it covers, not the ones after it', () => {
      const { wal } = open();
      wal.append([entry(1), entry(2), entry(3)]);
      wal.appendSnapshot({ metadata: { index: 2n, term: 1n, confState: { voters: [1n], learners: [] } }, reset: false });
      wal.append([entry(4)]);
      wal.close();
      const { contents } = open();
      expect(Number(contents.snapshot?.metadata?.index)).to.equal(2);
      expect(indexes(contents)).to.deep.equal([3, 4]);
    });

    it('refuses a local snapshot beyond the last entry, or one older than the last snapshot', () => {
      const { wal } = open();
      wal.append([entry(1), entry(2)]);
      expect(() => wal.appendSnapshot({ metadata: { index: 3n, term: 1n, confState: undefined }, reset: false })).to.throw('beyond');
      wal.appendSnapshot({ metadata: { index: 2n, term: 1n, confState: undefined }, reset: false });
      expect(() => wal.appendSnapshot({ metadata: { index: 1n, term: 1n, confState: undefined }, reset: false })).to.throw('is not after 2');
    });

    it('a snapshot from the leader voids the whole log before it; the log continues after its index', () => {
      const { wal } = open();
      wal.append([entry(1), entry(2), entry(3)]);
      wal.appendSnapshot({ metadata: { index: 10n, term: 3n, confState: undefined }, reset: true });
      expect(wal.lastEntryIndex).to.equal(10);
      wal.append([entry(11, 'after', 3)]);
      wal.close();
      const { contents } = open();
      expect(contents.snapshot?.reset).to.equal(true);
      expect(indexes(contents)).to.deep.equal([11]);
    });

    it('purge removes the segments wholly below the latest snapshot and nothing the log still needs', () => {
      const { wal } = open();
      wal.append([entry(1), entry(2), entry(3)]);
      expect(wal.purge()).to.equal(0); // no snapshot yet
      wal.appendSnapshot({ metadata: { index: 10n, term: 3n, confState: undefined }, reset: true });
      wal.append([entry(11, 'after', 3)]);
      expect(segments()).to.have.length(2);
      expect(wal.purge()).to.equal(1);
      expect(segments()).to.deep.equal(['0000000000000001-000000000000000b.wal']);
      wal.close();
      const { contents } = open();
      expect(Number(contents.snapshot?.metadata?.index)).to.equal(10);
      expect(indexes(contents)).to.deep.equal([11]);
    });
  });
});
