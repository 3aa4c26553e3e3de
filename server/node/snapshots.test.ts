import { expect } from 'chai';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { realClock } from '../clock.js';
import { silentLog } from '../log.js';
import { Membership } from '../membership/membership.js';
import { Backend } from '../mvcc/backend.js';
import { MvccStore } from '../mvcc/store.js';
import { EntryType, MemoryStorage, type Entry } from '../raft/index.js';
import { Wal } from '../storage/wal.js';
import { entryToPbShared } from '../transport/wire.js';
import { Snapshots } from './snapshots.js';

const confState = { voters: [1], learners: [] };

function entries(from: number, to: number): Entry[] {
  return Array.from({ length: to - from + 1 }, (_, offset) => ({ type: EntryType.Normal, term: 1, index: from + offset, data: new Uint8Array(8) }));
}

describe('node snapshots: the in-memory log between recorded snapshots', () => {
  let dir: string;
  let wal: Wal;
  let backend: Backend;
  let storage: MemoryStorage;
  let neededFrom: number;
  const fatal: Error[] = [];

  const snapshots = (snapshotCount: number, snapshotCatchUpEntries: number) => new Snapshots(
    { wal, storage, backend, store: new MvccStore(backend, realClock), membership: new Membership(backend) },
    { snapshotCount, snapshotCatchUpEntries },
    { neededFrom: () => neededFrom, snapshotInstalled: () => undefined, fatal: (error) => fatal.push(error), log: silentLog },
  );

  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'cairn-snapshots-'));
    wal = Wal.open(join(dir, 'wal')).wal;
    backend = new Backend(join(dir, 'backend'));
    storage = new MemoryStorage([1]);
    const log = entries(1, 40_000);
    wal.append(log.map(entryToPbShared), undefined);
    storage.append(log);
    neededFrom = Infinity;
    fatal.length = 0;
  });
  afterEach(async () => {
    wal.close();
    await backend.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('lets applied entries go in steps of the catch-up tail, keeping the tail, without recording a snapshot', () => {
    const taken = snapshots(100_000, 5_000);
    taken.maybeTake(9_999, confState, () => false);
    expect(storage.firstIndex()).to.equal(1);
    taken.maybeTake(10_000, confState, () => false);
    expect(storage.firstIndex()).to.equal(5_001);
    expect(storage.snapshot().metadata).to.deep.include({ index: 10_000, term: 1 });
    expect(taken.index).to.equal(0, 'no snapshot is recorded in the WAL');
    taken.maybeTake(14_999, confState, () => false);
    expect(storage.firstIndex()).to.equal(5_001);
    taken.maybeTake(15_000, confState, () => false);
    expect(storage.firstIndex()).to.equal(10_001);
    expect(storage.lastIndex()).to.equal(40_000, 'entries not yet applied stay');
    expect(storage.entries(10_001, 10_003, Infinity).map((entry) => entry.index)).to.deep.equal([10_001, 10_002]);
  });

  it('keeps what the slowest follower still needs', () => {
    const taken = snapshots(100_000, 5_000);
    neededFrom = 3_001;
    taken.maybeTake(30_000, confState, () => false);
    expect(storage.firstIndex()).to.equal(1, 'a follower at match 3,000 holds the whole log');
    neededFrom = 15_001;
    taken.maybeTake(30_001, confState, () => false);
    expect(storage.firstIndex()).to.equal(10_001, 'the tail is kept behind what the follower needs');
    expect(storage.snapshot().metadata.index).to.equal(30_001);
  });

  it('records a snapshot at the index a trim already made the core’s snapshot (a trim while the last one was being recorded)', async () => {
    const taken = snapshots(20_000, 5_000);
    taken.maybeTake(20_000, confState, () => false);
    expect(taken.index).to.equal(20_000);
    taken.maybeTake(40_000, confState, () => false); // still recording the first: a trim only
    expect(storage.snapshot().metadata.index).to.equal(40_000);
    expect(storage.firstIndex()).to.equal(35_001);
    await taken.settled();
    taken.maybeTake(40_000, confState, () => false);
    expect(taken.index).to.equal(40_000);
    await taken.settled();
    expect(fatal).to.deep.equal([]);
    wal.close();
    const recorded = Wal.open(join(dir, 'wal'));
    wal = recorded.wal;
    expect(recorded.contents.snapshot?.metadata?.index).to.equal(40_000n);
  });

  it('with a small --snapshot-count only recorded snapshots compact the log (the tail is min(5,000, count))', async () => {
    const taken = snapshots(200, 200);
    taken.maybeTake(399, confState, () => false);
    expect(taken.index).to.equal(399);
    expect(storage.firstIndex()).to.equal(200);
    await taken.settled();
  });
});
