import { expect } from 'chai';
import { existsSync } from 'node:fs';
import type { KeyValue } from '../../proto/gen/mvccpb/kv.js';
import { openTempStore, type TempStore } from '../testing/temp-store.js';
import { CompactedError, FutureRevisionError } from './errors.js';
import { bytesToRevision, isTombstoneBytes, revisionToBytes } from './revision.js';
import type { KeyRange } from './tree-index.js';
import { readBatchRecordsMax } from './store.js';

const b = (text: string): Buffer => Buffer.from(text);

async function expectRejected(promise: Promise<unknown>, type: new (...args: never[]) => Error): Promise<void> {
  const outcome = await promise.then(() => undefined, (error: unknown) => error);
  expect(outcome).to.be.instanceOf(type);
}

/** The revisions of the records in the backend, as "main.sub" (+ "t" for a tombstone). */
function records(temp: TempStore): string[] {
  return [...temp.backend.revisions()].map(({ key }) => {
    const revision = bytesToRevision(key);
    return `${revision.main}.${revision.sub}${isTombstoneBytes(key) ? 't' : ''}`;
  });
}

/** key, value, create/mod revision, version and lease of a kv, for comparing. */
function summary(kv: KeyValue): { key: string; value: string; create: number; mod: number; version: number; lease: bigint } {
  return {
    key: kv.key.toString(),
    value: kv.value.toString(),
    create: Number(kv.createRevision),
    mod: Number(kv.modRevision),
    version: Number(kv.version),
    lease: kv.lease,
  };
}

describe('MvccStore', () => {
  let temp: TempStore;
  const put = (key: string, value: string, lease = 0n): number => temp.write((txn) => void txn.put(b(key), b(value), lease));
  const del = (range: KeyRange): number => temp.write((txn) => void txn.deleteRange(range));
  const read = (range: KeyRange, revision?: number) => temp.store.range(range, { revision }).kvs.map(summary);
  const all: KeyRange = { start: '', end: '' };

  beforeEach(() => {
    temp = openTempStore();
  });

  afterEach(async () => {
    const dir = temp.dir;
    await temp.remove();
    expect(existsSync(dir)).to.equal(false);
  });

  describe('revisions', () => {
    it('starts at revision 1 with no compaction and no applied entry', () => {
      expect(temp.store.currentRevision).to.equal(1);
      expect(temp.store.compactRevision).to.equal(-1);
      expect(temp.store.consistentIndex).to.equal(0);
      expect(temp.store.range(all)).to.deep.equal({ kvs: [], count: 0, revision: 1 });
    });

    it('advances by exactly one per write transaction, however many changes it makes', () => {
      expect(put('a', '1')).to.equal(2);
      const revision = temp.write((txn) => {
        expect(txn.revision).to.equal(2);
        expect(txn.put(b('b'), b('1'), 0n)).to.equal(3);
        expect(txn.put(b('c'), b('1'), 0n)).to.equal(3);
        expect(txn.deleteRange({ start: 'a' })).to.equal(1);
        expect(txn.changes).to.equal(3);
        expect(txn.revision).to.equal(3);
      });
      expect(revision).to.equal(3);
      expect(temp.store.currentRevision).to.equal(3);
      expect(records(temp)).to.deep.equal(['2.0', '3.0', '3.1', '3.2t']);
      expect(read(all).map((kv) => kv.mod)).to.deep.equal([3, 3]);
    });

    it('does not advance for a transaction that changes nothing', () => {
      put('a', '1');
      expect(temp.write(() => undefined)).to.equal(2);
      expect(del({ start: 'missing' })).to.equal(2);
      expect(del({ start: 'b', end: '' })).to.equal(2);
      expect(temp.store.currentRevision).to.equal(2);
      expect(records(temp)).to.deep.equal(['2.0']);
    });
  });

  describe('create revision, mod revision and version', () => {
    it('keeps the creation revision and counts versions across puts', () => {
      put('foo', 'v1', 7n);
      put('other', 'x');
      put('foo', 'v2');
      expect(read({ start: 'foo' })).to.deep.equal([{ key: 'foo', value: 'v2', create: 2, mod: 4, version: 2, lease: 0n }]);
      expect(read({ start: 'foo' }, 2)).to.deep.equal([{ key: 'foo', value: 'v1', create: 2, mod: 2, version: 1, lease: 7n }]);
    });

    it('resets the version and creation revision after a delete', () => {
      put('foo', 'v1');
      put('foo', 'v2');
      expect(temp.write((txn) => expect(txn.deleteRange({ start: 'foo' })).to.equal(1))).to.equal(4);
      expect(read({ start: 'foo' })).to.deep.equal([]);
      put('foo', 'v3');
      expect(read({ start: 'foo' })).to.deep.equal([{ key: 'foo', value: 'v3', create: 5, mod: 5, version: 1, lease: 0n }]);
    });

    it('counts two puts of one key in one transaction as two versions at one revision', () => {
      put('foo', 'v1');
      temp.write((txn) => {
        txn.put(b('foo'), b('v2'), 0n);
        txn.put(b('foo'), b('v3'), 0n);
      });
      expect(read({ start: 'foo' })).to.deep.equal([{ key: 'foo', value: 'v3', create: 2, mod: 3, version: 3, lease: 0n }]);
    });
  });

  describe('reads', () => {
    beforeEach(() => {
      put('a', 'a2'); // 2
      put('b', 'b3'); // 3
      put('a', 'a4'); // 4
      del({ start: 'b' }); // 5
      put('c', 'c6'); // 6
    });

    it('read every revision as it was', () => {
      const at = (revision: number) => read(all, revision).map((kv) => `${kv.key}=${kv.value}`);
      expect(at(1)).to.deep.equal([]);
      expect(at(2)).to.deep.equal(['a=a2']);
      expect(at(3)).to.deep.equal(['a=a2', 'b=b3']);
      expect(at(4)).to.deep.equal(['a=a4', 'b=b3']);
      expect(at(5)).to.deep.equal(['a=a4']);
      expect(at(6)).to.deep.equal(['a=a4', 'c=c6']);
      expect(at(0)).to.deep.equal(['a=a4', 'c=c6']);
      expect(at(-1)).to.deep.equal(['a=a4', 'c=c6']);
    });

    it('report the current revision, not the one read at', () => {
      expect(temp.store.range(all, { revision: 3 }).revision).to.equal(6);
    });

    it('cut to `limit` but count every match, and count only when asked', () => {
      const limited = temp.store.range(all, { limit: 1 });
      expect(limited.kvs.map(summary).map((kv) => kv.key)).to.deep.equal(['a']);
      expect(limited.count).to.equal(2);
      expect(temp.store.range(all, { countOnly: true })).to.deep.equal({ kvs: [], count: 2, revision: 6 });
      expect(temp.store.range(all, { countOnly: true, revision: 4 })).to.deep.equal({ kvs: [], count: 2, revision: 6 });
    });

    it('fail with FutureRevisionError above the current revision', () => {
      expect(() => temp.store.range(all, { revision: 7 })).to.throw(FutureRevisionError, 'mvcc: required revision is a future revision');
      expect(read(all, 6)).to.have.length(2);
    });

    it('work at the compaction revision and fail with CompactedError below it', async () => {
      await temp.compact(4);
      expect(temp.store.compactRevision).to.equal(4);
      expect(read(all, 4).map((kv) => `${kv.key}=${kv.value}`)).to.deep.equal(['a=a4', 'b=b3']);
      expect(() => read(all, 3)).to.throw(CompactedError, 'mvcc: required revision has been compacted');
      expect(() => read(all, 1)).to.throw(CompactedError);
      expect(read(all, 0)).to.have.length(2);
    });

    it('inside a write transaction see its own changes', () => {
      temp.write((txn) => {
        txn.put(b('a'), b('a7'), 0n);
        txn.deleteRange({ start: 'c' });
        const seen = txn.range(all).kvs.map(summary);
        expect(seen).to.deep.equal([{ key: 'a', value: 'a7', create: 2, mod: 7, version: 3, lease: 0n }]);
        expect(txn.range(all).revision).to.equal(7);
        // Reads at earlier revisions still see the past.
        expect(txn.range(all, { revision: 6 }).kvs.map((kv) => kv.value.toString())).to.deep.equal(['a4', 'c6']);
      });
    });

    it('inside a write transaction see each key\'s latest change among deletes and puts mixed', () => {
      temp.write((txn) => {
        txn.put(b('a'), b('first'), 0n);
        txn.deleteRange({ start: 'c' });
        txn.put(b('c'), b('again'), 0n);
        txn.put(b('a'), b('second'), 0n);
        expect(txn.range(all).kvs.map((kv) => `${kv.key}=${kv.value}@${kv.modRevision}`)).to.deep.equal(['a=second@7', 'c=again@7']);
      });
      expect(temp.store.range(all).kvs.map((kv) => `${kv.key}=${kv.value}`), 'and so does a read after it').to.deep.equal(['a=second', 'c=again']);
    });

    it('inside a write transaction may not read past it', () => {
      temp.write((txn) => {
        expect(() => txn.range(all, { revision: 7 })).to.throw(FutureRevisionError);
        txn.put(b('x'), b('1'), 0n);
        expect(txn.range({ start: 'x' }, { revision: 7 }).kvs).to.have.length(1);
        expect(() => txn.range(all, { revision: 8 })).to.throw(FutureRevisionError);
      });
    });

    it('fail loudly when the index names a record the backend lacks', () => {
      temp.backend.transaction(() => temp.backend.removeRevision(revisionToBytes({ main: 6, sub: 0 })));
      expect(() => read({ start: 'c' })).to.throw('store: revision 6.0 missing from backend');
    });
  });

  describe('compact', () => {
    it('removes the records no read at or after the compaction needs and keeps the newest per key', async () => {
      put('foo', '1'); // 2
      put('foo', '2'); // 3
      put('bar', '1'); // 4
      del({ start: 'bar' }); // 5
      put('foo', '3'); // 6
      put('baz', '1'); // 7
      await temp.compact(5);
      expect(records(temp)).to.deep.equal(['3.0', '6.0', '7.0']);
      expect(temp.store.index.size).to.equal(2);
      expect(read(all, 5).map((kv) => `${kv.key}=${kv.value}`)).to.deep.equal(['foo=2']);
      expect(read(all).map((kv) => `${kv.key}=${kv.value}`)).to.deep.equal(['baz=1', 'foo=3']);
      expect(read({ start: 'foo' })).to.deep.equal([{ key: 'foo', value: '3', create: 2, mod: 6, version: 3, lease: 0n }]);
    });

    it('keeps a tombstone above the compaction and the put it ends', async () => {
      put('foo', '1'); // 2
      put('foo', '2'); // 3
      del({ start: 'foo' }); // 4
      await temp.compact(3);
      expect(records(temp)).to.deep.equal(['3.0', '4.0t']);
      expect(read({ start: 'foo' }, 3)).to.have.length(1);
      expect(read({ start: 'foo' })).to.deep.equal([]);
    });

    it('may compact at the current revision', async () => {
      put('foo', '1');
      del({ start: 'foo' });
      await temp.compact(3);
      expect(records(temp)).to.deep.equal([]);
      expect(temp.store.index.size).to.equal(0);
      expect(temp.store.range(all)).to.deep.equal({ kvs: [], count: 0, revision: 3 });
    });

    it('refuses a revision at or below the last compaction, and changes nothing', async () => {
      put('foo', '1'); // 2
      put('foo', '2'); // 3
      put('foo', '3'); // 4
      await temp.compact(3);
      expect(() => temp.store.compact(3)).to.throw(CompactedError);
      expect(() => temp.store.compact(2)).to.throw(CompactedError);
      expect(temp.store.compactRevision).to.equal(3);
      expect(records(temp)).to.deep.equal(['3.0', '4.0']);
    });

    it('refuses a revision above the current one, and changes nothing', () => {
      put('foo', '1'); // 2
      put('foo', '2'); // 3
      expect(() => temp.store.compact(4)).to.throw(FutureRevisionError);
      expect(temp.store.compactRevision).to.equal(-1);
      expect(records(temp)).to.deep.equal(['2.0', '3.0']);
    });
  });

  describe('restart', () => {
    it('restores the index, the current revision and the consistent index', async () => {
      put('a', '1'); // 2
      put('b', '1'); // 3
      put('a', '2'); // 4
      del({ start: 'b' }); // 5
      temp.backend.transaction(() => temp.store.setConsistentIndex(42));
      await temp.restart();
      expect(temp.store.currentRevision).to.equal(5);
      expect(temp.store.compactRevision).to.equal(-1);
      expect(temp.store.consistentIndex).to.equal(42);
      expect(read(all)).to.deep.equal([{ key: 'a', value: '2', create: 2, mod: 4, version: 2, lease: 0n }]);
      expect(read(all, 3).map((kv) => kv.key)).to.deep.equal(['a', 'b']);
      // The next write continues the history.
      expect(put('b', '2')).to.equal(6);
      expect(read({ start: 'b' })).to.deep.equal([{ key: 'b', value: '2', create: 6, mod: 6, version: 1, lease: 0n }]);
    });

    it('stores the consistent index with its transaction: an aborted one leaves the stored index', async () => {
      temp.backend.transaction(() => temp.store.setConsistentIndex(7));
      expect(temp.store.consistentIndex).to.equal(7);
      expect(() =>
        temp.backend.transaction(() => {
          temp.store.setConsistentIndex(8);
          throw new Error('abort');
        }),
      ).to.throw('abort');
      await temp.restart();
      expect(temp.store.consistentIndex).to.equal(7);
    });

    it('restores a fresh store at revision 1', async () => {
      await temp.restart();
      expect(temp.store.currentRevision).to.equal(1);
      expect(temp.store.compactRevision).to.equal(-1);
      expect(temp.store.consistentIndex).to.equal(0);
    });

    it('keeps version and create revision of a key whose creation was compacted away', async () => {
      put('foo', '1'); // 2
      put('foo', '2'); // 3
      put('bar', '1'); // 4
      await temp.compact(4);
      expect(records(temp)).to.deep.equal(['3.0', '4.0']);
      await temp.restart();
      expect(temp.store.compactRevision).to.equal(4);
      expect(temp.store.currentRevision).to.equal(4);
      expect(read({ start: 'foo' })).to.deep.equal([{ key: 'foo', value: '2', create: 2, mod: 3, version: 2, lease: 0n }]);
      put('foo', '3'); // 5
      expect(read({ start: 'foo' })).to.deep.equal([{ key: 'foo', value: '3', create: 2, mod: 5, version: 3, lease: 0n }]);
      expect(() => read(all, 3)).to.throw(CompactedError);
      expect(() => temp.store.compact(4)).to.throw(CompactedError);
    });

    it('keeps the compaction revision as current when compaction removed the newest records', async () => {
      put('foo', '1'); // 2
      del({ start: 'foo' }); // 3
      await temp.compact(3);
      await temp.restart();
      expect(temp.store.currentRevision).to.equal(3);
      expect(temp.store.index.size).to.equal(0);
      expect(put('foo', '2')).to.equal(4);
      expect(read({ start: 'foo' })).to.deep.equal([{ key: 'foo', value: '2', create: 4, mod: 4, version: 1, lease: 0n }]);
    });

    it('restores a key whose kept put and tombstone straddle the compaction', async () => {
      put('foo', '1'); // 2
      put('foo', '2'); // 3
      del({ start: 'foo' }); // 4
      await temp.compact(3);
      await temp.restart();
      expect(temp.store.currentRevision).to.equal(4);
      expect(read({ start: 'foo' }, 3)).to.deep.equal([{ key: 'foo', value: '2', create: 2, mod: 3, version: 2, lease: 0n }]);
      expect(read({ start: 'foo' })).to.deep.equal([]);
      put('foo', '3'); // 5
      expect(read({ start: 'foo' })).to.deep.equal([{ key: 'foo', value: '3', create: 5, mod: 5, version: 1, lease: 0n }]);
    });

    it('restores a key deleted and re-created inside one transaction', async () => {
      put('foo', '1'); // 2
      temp.write((txn) => {
        txn.deleteRange({ start: 'foo' });
        txn.put(b('foo'), b('2'), 0n);
      }); // 3
      const before = read({ start: 'foo' });
      expect(before).to.deep.equal([{ key: 'foo', value: '2', create: 3, mod: 3, version: 1, lease: 0n }]);
      await temp.restart();
      expect(read({ start: 'foo' })).to.deep.equal(before);
      await temp.compact(3);
      expect(records(temp)).to.deep.equal(['3.1']);
      await temp.restart();
      expect(read({ start: 'foo' })).to.deep.equal(before);
    });

    it('restores a deleted-then-recreated key with its generations', async () => {
      put('foo', '1'); // 2
      del({ start: 'foo' }); // 3
      put('foo', '2'); // 4
      put('foo', '3'); // 5
      await temp.restart();
      expect(read({ start: 'foo' }, 2)).to.deep.equal([{ key: 'foo', value: '1', create: 2, mod: 2, version: 1, lease: 0n }]);
      expect(read({ start: 'foo' }, 3)).to.deep.equal([]);
      expect(read({ start: 'foo' })).to.deep.equal([{ key: 'foo', value: '3', create: 4, mod: 5, version: 2, lease: 0n }]);
    });
  });

  describe('hashKV', () => {
    const history = (target: TempStore): void => {
      target.write((txn) => void txn.put(b('a'), b('1'), 0n));
      target.write((txn) => void txn.put(b('b'), b('1'), 0n));
      target.write((txn) => void txn.put(b('a'), b('2'), 0n));
      target.write((txn) => void txn.deleteRange({ start: 'b' }));
      target.write((txn) => void txn.put(b('c'), b('1'), 0n));
    };

    it('is the same for the same history and differs after a change', async () => {
      const twin = openTempStore();
      try {
        history(temp);
        history(twin);
        const hash = await temp.store.hashKV(0);
        expect(hash).to.deep.equal({ hash: (await twin.store.hashKV(0)).hash, currentRevision: 6, compactRevision: -1 });
        expect(await temp.store.hashKV(6)).to.deep.equal(hash);
        twin.write((txn) => void txn.put(b('c'), b('2'), 0n));
        expect((await twin.store.hashKV(0)).hash).to.not.equal(hash.hash);
        // The hash at an older revision does not change with later writes.
        expect((await twin.store.hashKV(6)).hash).to.equal(hash.hash);
      } finally {
        await twin.remove();
      }
    });

    it('differs between revisions', async () => {
      history(temp);
      const hashes = await Promise.all([2, 3, 4, 5, 6].map(async (revision) => (await temp.store.hashKV(revision)).hash));
      expect(new Set(hashes).size).to.equal(5);
    });

    it('is the same across a restart, also after a compaction', async () => {
      history(temp);
      const before = await temp.store.hashKV(0);
      await temp.restart();
      expect(await temp.store.hashKV(0)).to.deep.equal(before);
      await temp.compact(4);
      const compacted = await temp.store.hashKV(0);
      const compactedAt5 = await temp.store.hashKV(5);
      expect(compacted.compactRevision).to.equal(4);
      await temp.restart();
      expect(await temp.store.hashKV(0)).to.deep.equal(compacted);
      expect(await temp.store.hashKV(5)).to.deep.equal(compactedAt5);
    });

    it('reads many records in batches from one snapshot: writes and a compaction made between batches change nothing', async () => {
      const keys = readBatchRecordsMax * 2 + 17;
      temp.backend.transaction(() => {
        for (let i = 0; i < keys; i++) {
          const txn = temp.store.write();
          txn.put(b(`many/${String(i).padStart(6, '0')}`), b(`v${i}`), 0n);
          txn.end();
        }
      });
      const quiet = await temp.store.hashKV(0);
      const hashing = temp.store.hashKV(0);
      const ranging = temp.store.rangeBatched({ start: 'many/', end: 'many0' });
      // Between the batches: overwrite every key, then compact away the first versions.
      await new Promise((resolve) => setImmediate(resolve));
      temp.write((txn) => {
        for (let i = 0; i < keys; i++) txn.put(b(`many/${String(i).padStart(6, '0')}`), b('later'), 0n);
      });
      temp.backend.transaction(() => temp.store.compact(temp.store.currentRevision));
      expect(await hashing).to.deep.equal(quiet);
      const read = await ranging;
      expect(read.kvs).to.have.length(keys);
      expect(read.kvs.every((kv, i) => kv.value.toString() === `v${i}`)).to.equal(true);
      expect(read.count).to.equal(keys);
    });

    it('a removal of compacted records cut short by a restart is finished by the restarted store', async () => {
      const keys = readBatchRecordsMax + 100;
      for (const value of ['old', 'new']) {
        temp.backend.transaction(() => {
          for (let i = 0; i < keys; i++) {
            const txn = temp.store.write();
            txn.put(b(`cut/${String(i).padStart(6, '0')}`), b(value), 0n);
            txn.end();
          }
        });
      }
      const at = temp.store.currentRevision;
      temp.backend.transaction(() => temp.store.compact(at));
      // One batch goes, then the process "stops".
      await new Promise((resolve) => setImmediate(resolve));
      const leftOver = records(temp).length;
      expect(leftOver, 'the removal was cut short').to.be.within(keys + 1, 2 * keys - 1);
      await temp.restart();
      expect(temp.store.compactRevision).to.equal(at);
      await temp.store.compacted();
      expect(records(temp)).to.have.length(keys);
      const read = await temp.store.rangeBatched({ start: 'cut/', end: 'cut0' });
      expect(read.kvs.every((kv) => kv.value.toString() === 'new')).to.equal(true);
      await temp.restart();
      expect(records(temp)).to.have.length(keys);
    });

    it('fails at or below the compaction revision and above the current one', async () => {
      history(temp);
      await temp.compact(4);
      await expectRejected(temp.store.hashKV(4), CompactedError);
      await expectRejected(temp.store.hashKV(2), CompactedError);
      await expectRejected(temp.store.hashKV(7), FutureRevisionError);
      expect((await temp.store.hashKV(5)).currentRevision).to.equal(6);
    });

    it('hashes no revision at a negative revision, as etcd, however negative', async () => {
      history(temp);
      const none = await temp.store.hashKV(-1);
      expect(none.hash).to.not.equal((await temp.store.hashKV(0)).hash);
      for (const revision of [-2, -1000, Number.MIN_SAFE_INTEGER]) expect(await temp.store.hashKV(revision)).to.deep.equal(none);
    });
  });
});
