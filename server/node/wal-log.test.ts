import { expect } from 'chai';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { EntryType, MemoryStorage, RawNode, SeededRandom, type Entry } from '../raft/index.js';
import { Wal } from '../storage/wal.js';
import { storageFromWal } from './bootstrap.js';
import { WalLog } from './wal-log.js';
import { realClock } from '../clock.js';
import { unobserved } from './observer.js';

const entry = (index: number, term = 1): Entry => ({ type: EntryType.Normal, term, index, data: new TextEncoder().encode(`e${index}`) });

describe('WalLog', () => {
  let dir: string;
  const opened: Wal[] = [];

  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'cairn-wal-log-'));
  });

  afterEach(() => {
    for (const wal of opened.splice(0)) wal.close();
    rmSync(dir, { recursive: true, force: true });
  });

  const open = (): WalLog => {
    const { wal, contents } = Wal.open(dir);
    opened.push(wal);
    return new WalLog(wal, storageFromWal(contents), realClock, unobserved);
  };

  const reopen = (): MemoryStorage => {
    for (const wal of opened.splice(0)) wal.close();
    const { wal, contents } = Wal.open(dir);
    opened.push(wal);
    return storageFromWal(contents);
  };

  it('a write reaches the core at once and, once synced, the WAL a restart reads', async () => {
    const log = open();
    log.write([entry(1), entry(2)], { term: 1, vote: 0, commit: 1 });
    expect(log.storage.lastIndex()).to.equal(2);
    await new Promise<void>((resolve, reject) => log.sync((error) => (error === undefined ? resolve() : reject(error))));
    const restarted = reopen();
    expect(restarted.lastIndex()).to.equal(2);
    expect(restarted.initialState().hardState.commit).to.equal(1);
  });

  it('entries that replace a suffix replace it in the core and in the WAL', async () => {
    const log = open();
    log.write([entry(1), entry(2), entry(3)], { term: 1, vote: 0, commit: 1 });
    log.write([entry(2, 2)], { term: 2, vote: 0, commit: 1 });
    expect(log.storage.lastIndex()).to.equal(2);
    await new Promise<void>((resolve) => log.sync(() => resolve()));
    const restarted = reopen();
    expect(restarted.lastIndex()).to.equal(2);
    expect(restarted.term(2)).to.equal(2);
  });

  it('a restart after a crash that kept a snapshot from the leader but not the hard state after it starts (commit raised to the snapshot)', async () => {
    const log = open();
    log.write([entry(1), entry(2)], { term: 1, vote: 0, commit: 2 });
    await new Promise<void>((resolve) => log.sync(() => resolve()));
    // The leader's snapshot at 10: its record reaches the disk, the hard state that follows it never does.
    log.installSnapshot({ metadata: { index: 10, term: 1, confState: { voters: [1], learners: [] } }, data: new Uint8Array(0) });
    await new Promise<void>((resolve) => log.sync(() => resolve()));
    for (const wal of opened.splice(0)) wal.close();

    const { wal, contents } = Wal.open(dir);
    opened.push(wal);
    const storage: MemoryStorage = storageFromWal(contents);
    expect(storage.initialState().hardState.commit).to.equal(10);
    const node = new RawNode({ id: 1, storage, electionTicks: 10, heartbeatTicks: 1, random: new SeededRandom(1), applied: 10 });
    expect(node.raft.log.committed).to.equal(10);
  });
});
