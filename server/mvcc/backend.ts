// The MVCC backend on lmdb: bucket "key" maps revision bytes to an encoded
// mvccpb.KeyValue; bucket "meta" holds the consistent index (the last log
// index applied) and the compaction revision.
//
// lmdb runs with noSync: the WAL is the source of truth and is fsynced before
// anything is applied. A crash of the process loses nothing lmdb committed
// (the pages are in the OS cache); after a restart the node replays the WAL
// from the consistent index stored here, in the same transaction as the data.
import { open, type Database, type RootDatabase } from 'lmdb';
import { mkdirSync, statSync } from 'node:fs';
import { join } from 'node:path';

export const metaConsistentIndex = 'consistent_index';
export const metaCompactRevision = 'finishedCompactRev';

export class Backend {
  private readonly root: RootDatabase;
  private readonly keys: Database<Buffer, Buffer>;
  private readonly meta: Database<Buffer, string>;

  constructor(readonly dir: string) {
    mkdirSync(dir, { recursive: true });
    this.root = open({ path: join(dir, 'db'), noSync: true, maxDbs: 4, noSubdir: false });
    this.keys = this.root.openDB<Buffer, Buffer>('key', { keyEncoding: 'binary', encoding: 'binary' });
    this.meta = this.root.openDB<Buffer, string>('meta', { keyEncoding: 'ordered-binary', encoding: 'binary' });
  }

  /** Runs `work` in one synchronous write transaction: all of it commits, or none. */
  transaction<T>(work: () => T): T {
    return this.root.transactionSync(work);
  }

  putRevision(revision: Buffer, value: Uint8Array): void {
    void this.keys.put(revision, Buffer.from(value.buffer, value.byteOffset, value.length));
  }

  removeRevision(revision: Buffer): void {
    void this.keys.remove(revision);
  }

  getRevision(revision: Buffer): Buffer | undefined {
    return this.keys.get(revision);
  }

  /** Revision records with start <= key < end, in order. */
  *revisions(start?: Buffer, end?: Buffer): Generator<{ key: Buffer; value: Buffer }> {
    for (const { key, value } of this.keys.getRange({ start, end })) yield { key, value };
  }

  getMeta(name: string): Buffer | undefined {
    return this.meta.get(name);
  }

  putMeta(name: string, value: Buffer): void {
    void this.meta.put(name, value);
  }

  /** Size of the data file in bytes. */
  sizeBytes(): number {
    try {
      return statSync(join(this.dir, 'db', 'data.mdb')).size;
    } catch {
      return 0;
    }
  }

  /** Bytes of pages in use (the rest of the file is free space lmdb reuses). */
  sizeInUseBytes(): number {
    const stats = this.root.getStats() as { pageSize: number; lastPageNumber: number; free?: { entryCount: number } };
    return stats.pageSize * (stats.lastPageNumber + 1);
  }

  /** Forces everything committed so far to disk. */
  async sync(): Promise<void> {
    await this.root.flushed;
  }

  async close(): Promise<void> {
    await this.root.close();
  }
}
