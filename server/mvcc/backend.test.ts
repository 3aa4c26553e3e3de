import { expect } from 'chai';
import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Backend } from './backend.js';
import { openTempStore, type TempStore } from '../testing/temp-store.js';

const valueBytes = 100 * 1024;
/** lmdb's page on the machines cairn runs on. */
const pageBytes = 4096;

describe('Backend size', () => {
  let temp: TempStore;
  const put = (key: string): number => temp.write((txn) => void txn.put(Buffer.from(key), Buffer.alloc(valueBytes), 0n));

  beforeEach(() => {
    temp = openTempStore();
  });

  afterEach(async () => {
    await temp.remove();
  });

  it('is the pages handed out as of the last commit: it grows by each large value\'s pages', () => {
    const empty = temp.backend.sizeBytes();
    expect(empty % pageBytes).to.equal(0);
    put('a');
    const one = temp.backend.sizeBytes();
    expect(one - empty).to.be.at.least(valueBytes);
    expect(one - empty).to.be.below(valueBytes + 8 * pageBytes);
    for (const key of ['b', 'c', 'd']) put(key);
    expect(temp.backend.sizeBytes() - one).to.be.at.least(3 * valueBytes);
  });

  it('matches the data file on Linux, where lmdb extends the file only as it writes pages', function () {
    if (process.platform !== 'linux') this.skip();
    put('a');
    const file = statSync(join(temp.dir, 'db-0', 'data.mdb')).size;
    expect(temp.backend.sizeBytes()).to.equal(file);
  });

  it('does not shrink on compaction (freed pages are reused, not returned), but does on defragmentation', async () => {
    for (const key of ['a', 'b', 'c', 'd']) put(key);
    put('a');
    temp.write((txn) => void txn.deleteRange({ start: 'b', end: 'e' }));
    const full = temp.backend.sizeBytes();
    const inUseBefore = temp.backend.sizeInUseBytes();
    await temp.compact(temp.store.currentRevision);
    expect(temp.backend.sizeBytes()).to.be.at.least(full);
    expect(temp.backend.sizeInUseBytes(), 'the history it held is free now').to.be.below(inUseBefore - 3 * valueBytes);
    await temp.backend.defragment();
    expect(temp.backend.sizeBytes()).to.be.below(full - 3 * valueBytes);
    expect(temp.backend.sizeInUseBytes()).to.be.at.most(temp.backend.sizeBytes());
  });
});

describe('Backend writes of lent bytes', () => {
  let dir: string;
  let backend: Backend;

  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'cairn-backend-lent-'));
    backend = new Backend(dir);
  });

  afterEach(async () => {
    await backend.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('inside a transaction, lmdb has copied a value by the time putRevision returns: the caller may reuse its bytes', () => {
    const reused = Buffer.alloc(64, 1);
    backend.transaction(() => {
      backend.putRevision(Buffer.from([0, 1]), reused, true);
      reused.fill(2);
      backend.putRevision(Buffer.from([0, 2]), reused, true);
      reused.fill(3);
    });
    expect(backend.getRevision(Buffer.from([0, 1]))?.equals(Buffer.alloc(64, 1))).to.equal(true);
    expect(backend.getRevision(Buffer.from([0, 2]))?.equals(Buffer.alloc(64, 2))).to.equal(true);
  });

  it('refuses lent bytes outside a transaction, where lmdb would read them only when its write thread commits', () => {
    expect(() => backend.putRevision(Buffer.from([0, 3]), Buffer.alloc(8), true)).to.throw('backend: a lent value written outside a write transaction');
    backend.transaction(() => undefined);
    expect(() => backend.putRevision(Buffer.from([0, 3]), Buffer.alloc(8), true), 'nor after one ended').to.throw('outside a write transaction');
  });
});

describe('Backend close', () => {
  it('waits for a sync in flight: closing under lmdb\'s sync thread would crash the process', async () => {
    for (let round = 0; round < 40; round++) {
      const dir = mkdtempSync(join(tmpdir(), 'cairn-backend-close-'));
      try {
        const backend = new Backend(dir);
        backend.transaction(() => backend.putRevision(Buffer.from([0, 1]), Buffer.from('v')));
        const synced = backend.sync();
        await backend.close();
        await synced;
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
    }
  });
});
