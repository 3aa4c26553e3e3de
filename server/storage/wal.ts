// The write-ahead log: append-only segment files of CRC-framed records. It is
// the Raft log; a write is acknowledged only after its record is fsynced.
//
// Segments are named <seq>-<first index>.wal (16 hex digits each) and a new
// one starts when the current one passes segmentBytesMax. A segment is
// preallocated to segmentBytesMax when it is created (a sparse ftruncate, as
// etcd preallocates with fallocate): records are written into it at the end
// of the data, so the file's size does not change with each write and an
// fdatasync has only the data to flush. The zeros after the last record are
// that preallocated space, in any segment.
//
// On open, a torn record at the tail of the last segment (a crash during a
// write: a record that does not decode, with nothing but zeros after it, or
// running past the end of the file) is cut off; a bad record anywhere else is
// corruption and opening fails.
//
// A snapshot record marks where the log starts over: entries at or below its
// index are in the backend. Segments wholly below the latest snapshot are
// removed by purge() once the backend is durable.
import { closeSync, fdatasync, fdatasyncSync, fstatSync, fsyncSync, mkdirSync, openSync, readdirSync, readFileSync, ftruncateSync, rmSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { Entry, HardState, SnapshotRecord } from '../../proto/gen/raftpb/raft.js';
import { encodeMessage, lendEncoded } from '../codec.js';
import { syncPath } from './fsync.js';
import { decodeRecord, isZeroFrom, nonZeroEnd, recordBytes, recordHeaderBytes, RecordType, writeRecord } from './record.js';

export const segmentBytesMax = 64 * 1024 * 1024;

export class WalCorruptError extends Error {
  override readonly name = 'WalCorruptError';
}

export interface WalContents {
  /** Entries after the snapshot's index, in order. */
  entries: Entry[];
  /** The latest snapshot record, if the log ever started over. */
  snapshot: SnapshotRecord | undefined;
  hardState: HardState | undefined;
  /** Bytes cut off a torn tail, 0 when the log ended cleanly. */
  tornBytes: number;
}

interface Segment {
  name: string;
  sequence: number;
  /** The index the log was at when the segment started (its first entry's, unless entries were overwritten). */
  firstIndex: number;
}

export class Wal {
  private fd = -1;
  /** Where the current segment's data ends: the next record is written here. */
  private writeOffset = 0;
  private sequence = 0;
  private lastIndex = 0;
  /** Index of the latest snapshot record and the segment holding it. */
  private snapshotIndex = 0;
  private snapshotSequence = -1;

  private constructor(private readonly dir: string) {}

  /** Opens (or creates) the log in `dir` and reads back everything in it. */
  static open(dir: string): { wal: Wal; contents: WalContents } {
    mkdirSync(dir, { recursive: true });
    const wal = new Wal(dir);
    const contents = wal.readAll();
    return { wal, contents };
  }

  get lastEntryIndex(): number {
    return this.lastIndex;
  }

  /**
   * Writes entries (and optionally a hard state) to the current segment.
   * The first entry may overwrite a suffix of the log (Raft replaces
   * conflicting uncommitted entries); a reader keeps the later version.
   * They are durable only once `sync()` resolves.
   */
  append(entries: Entry[], hardState?: HardState): void {
    const head = entries[0];
    const first = head !== undefined ? Number(head.index) : this.lastIndex + 1;
    if (first > this.lastIndex + 1 || first <= this.snapshotIndex) {
      throw new Error(`wal: append index ${first} after ${this.lastIndex} (snapshot ${this.snapshotIndex})`);
    }
    for (const [i, entry] of entries.entries()) {
      const index = Number(entry.index);
      if (index !== first + i) throw new Error(`wal: append index ${index} after ${first + i - 1}`);
    }
    // The hard state's bytes are its own, encoded first: the entries' are lent (codec.ts) and copied by write() before anything else is encoded.
    const hardStateBytes = hardState === undefined ? undefined : encodeMessage(HardState, hardState);
    const { bytes, ends } = lendEncoded(Entry, entries);
    const payloads: Array<[RecordType, Uint8Array]> = ends.map((end, i) => [RecordType.entry, bytes.subarray(ends[i - 1] ?? 0, end)]);
    if (hardStateBytes !== undefined) payloads.push([RecordType.hardState, hardStateBytes]);
    this.write(payloads);
    const tail = entries[entries.length - 1];
    if (tail !== undefined) this.lastIndex = Number(tail.index);
  }

  /**
   * Records a snapshot. A local one (reset false) marks entries up to its
   * index as covered by the backend; one received from the leader (reset
   * true) voids the whole log before it, and the log continues after its index.
   */
  appendSnapshot(record: SnapshotRecord): void {
    const index = Number(record.metadata?.index ?? 0n);
    if (index <= this.snapshotIndex) throw new Error(`wal: snapshot ${index} is not after ${this.snapshotIndex}`);
    if (!record.reset && index > this.lastIndex) throw new Error(`wal: local snapshot ${index} beyond the log's last index ${this.lastIndex}`);
    // A reset starts a segment of its own, named by the index the log continues from.
    if (record.reset) this.rotate(index + 1);
    this.write([[RecordType.snapshot, encodeMessage(SnapshotRecord, record)]]);
    this.snapshotIndex = index;
    this.snapshotSequence = this.sequence;
    if (record.reset) this.lastIndex = index;
  }

  /**
   * Removes the oldest segments whose entries are all covered by the latest
   * snapshot. Call only once the backend holding that snapshot is durable.
   * Returns how many segments were removed.
   */
  purge(): number {
    const segments = this.listSegments();
    let removed = 0;
    for (const [i, segment] of segments.entries()) {
      const next = segments[i + 1];
      if (next === undefined || segment.sequence >= this.snapshotSequence || next.firstIndex > this.snapshotIndex + 1) break;
      rmSync(join(this.dir, segment.name));
      removed++;
    }
    if (removed > 0) syncPath(this.dir);
    return removed;
  }

  private write(payloads: Array<[RecordType, Uint8Array]>): void {
    let total = 0;
    for (const [, payload] of payloads) total += recordBytes(payload);
    // Rotate before the batch, so the new segment is named by the batch's first index.
    if (this.writeOffset >= segmentBytesMax) this.rotate(this.lastIndex + 1);
    const bytes = Buffer.allocUnsafe(total);
    let offset = 0;
    for (const [type, payload] of payloads) offset = writeRecord(bytes, offset, type, payload);
    let written = 0;
    while (written < bytes.length) written += writeSync(this.fd, bytes, written, bytes.length - written, this.writeOffset + written);
    this.writeOffset += bytes.length;
  }

  /** fdatasync of the current segment: everything appended before it is durable. */
  sync(): Promise<void> {
    return new Promise((resolve, reject) => fdatasync(this.fd, (error) => (error === null ? resolve() : reject(error))));
  }

  close(): void {
    if (this.fd >= 0) closeSync(this.fd);
    this.fd = -1;
  }

  private readAll(): WalContents {
    const segments = this.listSegments();
    let entries: Entry[] = [];
    let hardState: HardState | undefined;
    let snapshot: SnapshotRecord | undefined;
    let tornBytes = 0;
    let dataEnd = 0;
    for (const [position, segment] of segments.entries()) {
      const path = join(this.dir, segment.name);
      const bytes = readFileSync(path);
      const isLast = position === segments.length - 1;
      let offset = 0;
      for (;;) {
        const outcome = decodeRecord(bytes, offset);
        if (outcome.kind === 'end' || (outcome.kind !== 'record' && isZeroFrom(bytes, offset))) break;
        if (outcome.kind !== 'record') {
          if (!isLast || !isTornTail(bytes, offset)) {
            throw new WalCorruptError(outcome.kind === 'corrupt' ? `wal: ${outcome.reason} in ${segment.name} at offset ${outcome.offset}` : `wal: truncated record in ${segment.name} at offset ${offset}`);
          }
          tornBytes = nonZeroEnd(bytes) - offset;
          this.cut(path, offset);
          break;
        }
        offset = outcome.next;
        if (outcome.record.type === RecordType.entry) {
          const entry = Entry.decode(outcome.record.payload);
          // Its own copy: a view would keep the whole segment (preallocated space and all) in memory.
          entry.data = Buffer.from(entry.data);
          // A later entry at an index already seen replaces the suffix (Raft log overwrite).
          for (let last = entries.at(-1); last !== undefined && last.index >= entry.index; last = entries.at(-1)) entries.pop();
          entries.push(entry);
        } else if (outcome.record.type === RecordType.snapshot) {
          snapshot = SnapshotRecord.decode(outcome.record.payload);
          if (snapshot.reset) entries = [];
          this.snapshotSequence = segment.sequence;
        } else {
          hardState = HardState.decode(outcome.record.payload);
        }
      }
      dataEnd = offset;
    }
    this.snapshotIndex = Number(snapshot?.metadata?.index ?? 0n);
    entries = entries.filter((entry) => Number(entry.index) > this.snapshotIndex);
    const lastEntry = entries[entries.length - 1];
    this.lastIndex = lastEntry !== undefined ? Number(lastEntry.index) : this.snapshotIndex;
    const last = segments[segments.length - 1];
    if (last === undefined) {
      this.createSegment(0, this.lastIndex + 1);
    } else {
      this.sequence = last.sequence;
      this.fd = openSync(join(this.dir, last.name), 'r+');
      this.writeOffset = dataEnd;
      // A segment written before segments were preallocated is preallocated now.
      if (fstatSync(this.fd).size < segmentBytesMax) this.preallocate();
    }
    return { entries, snapshot, hardState, tornBytes };
  }

  /** Drops the torn bytes from `offset` on; what follows stays preallocated (zeros). */
  private cut(path: string, offset: number): void {
    const fd = openSync(path, 'r+');
    try {
      const size = fstatSync(fd).size;
      ftruncateSync(fd, offset);
      ftruncateSync(fd, Math.max(size, segmentBytesMax));
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
  }

  private rotate(firstIndex: number): void {
    // The closed segment may hold appends not yet synced: make them durable first.
    fdatasyncSync(this.fd);
    this.close();
    this.createSegment(this.sequence + 1, firstIndex);
  }

  private createSegment(sequence: number, firstIndex: number): void {
    this.sequence = sequence;
    const name = `${hex16(sequence)}-${hex16(firstIndex)}.wal`;
    this.fd = openSync(join(this.dir, name), 'w+');
    this.writeOffset = 0;
    this.preallocate();
    syncPath(this.dir);
  }

  /** Sizes the current segment to segmentBytesMax (a hole: no block is written) and makes the size durable. */
  private preallocate(): void {
    ftruncateSync(this.fd, segmentBytesMax);
    fsyncSync(this.fd);
  }

  private listSegments(): Segment[] {
    return readdirSync(this.dir)
      .filter((name) => /^[0-9a-f]{16}-[0-9a-f]{16}\.wal$/.test(name))
      .sort()
      .map((name) => ({ name, sequence: parseInt(name.slice(0, 16), 16), firstIndex: parseInt(name.slice(17, 33), 16) }));
  }
}

/**
 * Whether the bad record at `offset` is a torn write: the last thing written,
 * with nothing but zeros (preallocated space) after the bytes its header
 * claims, or a header or record that runs past the end of the file.
 */
function isTornTail(bytes: Buffer, offset: number): boolean {
  if (bytes.length - offset < recordHeaderBytes) return true;
  const claimedEnd = offset + recordHeaderBytes + bytes.readUInt32LE(offset);
  return claimedEnd >= bytes.length || isZeroFrom(bytes, claimedEnd);
}

function hex16(value: number): string {
  return value.toString(16).padStart(16, '0');
}

