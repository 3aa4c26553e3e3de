// The member's Raft log: the WAL on disk (storage/wal.ts, the source of
// truth) and its in-memory twin the core reads (MemoryStorage). Every write
// goes to both at once; the WAL's is durable only once a sync called back.
import { hardStateToPb, type Entry, type HardState, type MemoryStorage, type Snapshot } from '../raft/index.js';
import type { Wal } from '../storage/wal.js';
import { entryToPbShared, snapshotMetadataToPb } from '../transport/wire.js';
import type { LogStorage } from './loop.js';

export class WalLog implements LogStorage {
  /** Last index written to the WAL (durable or not). */
  private writtenIndex: number;
  /** Last index a completed sync covered. */
  private durable: number;

  /** `wal` and `storage` hold the same log, all of it durable (as read back at start). */
  constructor(private readonly wal: Wal, readonly storage: MemoryStorage) {
    this.writtenIndex = storage.lastIndex();
    this.durable = this.writtenIndex;
  }

  durableIndex(): number {
    return this.durable;
  }

  write(entries: readonly Entry[], hardState: HardState | undefined): void {
    this.wal.append(entries.map(entryToPbShared), hardState === undefined ? undefined : hardStateToPb(hardState));
    this.storage.append(entries);
    if (hardState !== undefined) this.storage.setHardState(hardState);
    const first = entries[0];
    const last = entries[entries.length - 1];
    if (first === undefined || last === undefined) return;
    // Entries from `first` on replace what the log held there, durable or not.
    this.durable = Math.min(this.durable, first.index - 1);
    this.writtenIndex = last.index;
  }

  sync(done: (error?: Error) => void): void {
    const covered = this.writtenIndex;
    this.wal.sync().then(
      () => {
        this.durable = Math.max(this.durable, covered);
        done();
      },
      (error: Error) => done(error),
    );
  }

  installSnapshot(snapshot: Snapshot): void {
    const { metadata } = snapshot;
    this.wal.appendSnapshot({ metadata: snapshotMetadataToPb(metadata), reset: true });
    // The backend holds the image: the core's copy of the log keeps only the metadata.
    this.storage.applySnapshot({ metadata, data: new Uint8Array(0) });
    this.durable = Math.min(this.durable, metadata.index);
    this.writtenIndex = metadata.index;
  }
}
