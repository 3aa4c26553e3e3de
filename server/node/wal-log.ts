// The member's Raft log: the WAL on disk (storage/wal.ts, the source of
// truth) and its in-memory twin the core reads (MemoryStorage). Every write
// goes to both at once; the WAL's is durable only once a sync called back
// (the node loop keeps count of what is).
import { hardStateToPb, type Entry, type HardState, type MemoryStorage, type Snapshot } from '../raft/index.js';
import type { Wal } from '../storage/wal.js';
import { entryToPbShared, snapshotMetadataToPb } from '../transport/wire.js';
import type { LogStorage } from './loop.js';
import type { Clock } from '../clock.js';
import type { NodeObserver } from './observer.js';

export class WalLog implements LogStorage {
  /** `wal` and `storage` hold the same log, as read back at start. */
  constructor(
    private readonly wal: Wal,
    readonly storage: MemoryStorage,
    private readonly clock: Clock,
    private readonly observer: NodeObserver,
  ) {}

  write(entries: readonly Entry[], hardState: HardState | undefined): void {
    this.wal.append(entries.map(entryToPbShared), hardState === undefined ? undefined : hardStateToPb(hardState));
    this.storage.append(entries);
    if (hardState !== undefined) this.storage.setHardState(hardState);
  }

  sync(done: (error?: Error) => void): void {
    const startMs = this.clock.nowMs();
    this.wal.sync().then(
      () => {
        this.observer.walSynced(this.clock.nowMs() - startMs);
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
  }
}
