import { expect } from 'chai';
import { KeyIndex, revisionKey } from './key-index.js';
import type { Revision } from './revision.js';

function rev(main: number, sub = 0): Revision {
  return { main, sub };
}

/**
 * The worked example of key-index.ts (and etcd's key_index.go):
 * put 1.0, put 2.0, delete 3.0, put 4.0, delete 5.0.
 */
function workedExample(): KeyIndex {
  const index = new KeyIndex('foo');
  index.put(rev(1));
  index.put(rev(2));
  index.tombstone(rev(3));
  index.put(rev(4));
  index.tombstone(rev(5));
  return index;
}

/** Compacts a fresh copy of the worked example; returns the index and what it kept. */
function compactedExample(atMain: number): { index: KeyIndex; available: string[] } {
  const index = workedExample();
  const available = new Set<string>();
  index.compact(atMain, available);
  return { index, available: [...available].sort() };
}

describe('KeyIndex', () => {
  describe('put and get', () => {
    it('counts versions within a generation and keeps the creation revision', () => {
      const index = new KeyIndex('foo');
      index.put(rev(2));
      index.put(rev(4));
      index.put(rev(6));
      expect(index.get(2)).to.deep.equal({ modified: rev(2), created: rev(2), version: 1 });
      expect(index.get(3)).to.deep.equal({ modified: rev(2), created: rev(2), version: 1 });
      expect(index.get(4)).to.deep.equal({ modified: rev(4), created: rev(2), version: 2 });
      expect(index.get(6)).to.deep.equal({ modified: rev(6), created: rev(2), version: 3 });
      expect(index.get(100)).to.deep.equal({ modified: rev(6), created: rev(2), version: 3 });
    });

    it('finds nothing before the key was created', () => {
      const index = new KeyIndex('foo');
      index.put(rev(5));
      expect(index.get(0)).to.equal(undefined);
      expect(index.get(4)).to.equal(undefined);
    });

    it('finds nothing in an index that never saw a put', () => {
      const index = new KeyIndex('foo');
      expect(index.get(1)).to.equal(undefined);
      expect(index.isEmpty()).to.equal(true);
      expect(index.isLive()).to.equal(false);
      expect(index.since(0)).to.deep.equal([]);
    });

    it('returns the last sub of a main revision and counts every sub as a version', () => {
      const index = new KeyIndex('foo');
      index.put(rev(3, 0));
      index.put(rev(3, 1));
      index.put(rev(3, 2));
      expect(index.get(3)).to.deep.equal({ modified: rev(3, 2), created: rev(3, 0), version: 3 });
      index.put(rev(4, 0));
      expect(index.get(3)).to.deep.equal({ modified: rev(3, 2), created: rev(3, 0), version: 3 });
      expect(index.get(4)).to.deep.equal({ modified: rev(4, 0), created: rev(3, 0), version: 4 });
    });

    it('refuses a put that is not after the last modification', () => {
      const index = new KeyIndex('foo');
      index.put(rev(5, 1));
      expect(() => index.put(rev(5, 1))).to.throw('key index: put at 5.1 is not after 5.1');
      expect(() => index.put(rev(5, 0))).to.throw('key index: put at 5.0 is not after 5.1');
      expect(() => index.put(rev(4, 9))).to.throw('key index: put at 4.9 is not after 5.1');
      // The refused puts changed nothing.
      expect(index.get(10)).to.deep.equal({ modified: rev(5, 1), created: rev(5, 1), version: 1 });
    });
  });

  describe('tombstone', () => {
    it('ends the generation: the key is gone at and after the tombstone, still there before it', () => {
      const index = new KeyIndex('foo');
      index.put(rev(2));
      index.put(rev(3));
      index.tombstone(rev(4));
      expect(index.isLive()).to.equal(false);
      expect(index.isEmpty()).to.equal(false);
      expect(index.get(3)).to.deep.equal({ modified: rev(3), created: rev(2), version: 2 });
      expect(index.get(4)).to.equal(undefined);
      expect(index.get(9)).to.equal(undefined);
    });

    it('starts a new generation on the next put: version 1 and a new creation revision', () => {
      const index = new KeyIndex('foo');
      index.put(rev(2));
      index.tombstone(rev(3));
      index.put(rev(5));
      expect(index.isLive()).to.equal(true);
      expect(index.get(5)).to.deep.equal({ modified: rev(5), created: rev(5), version: 1 });
      expect(index.get(4)).to.equal(undefined);
      expect(index.get(2)).to.deep.equal({ modified: rev(2), created: rev(2), version: 1 });
    });

    it('allows a delete and a re-create inside one main revision', () => {
      const index = new KeyIndex('foo');
      index.put(rev(2, 0));
      index.tombstone(rev(3, 0));
      index.put(rev(3, 1));
      expect(index.get(3)).to.deep.equal({ modified: rev(3, 1), created: rev(3, 1), version: 1 });
      expect(index.get(2)).to.deep.equal({ modified: rev(2, 0), created: rev(2, 0), version: 1 });
    });

    it('refuses a tombstone on an index that never saw a put', () => {
      expect(() => new KeyIndex('foo').tombstone(rev(1))).to.throw('key index: tombstone on empty index of foo');
    });

    it('refuses a tombstone on a key that is already deleted, and changes nothing', () => {
      const index = new KeyIndex('foo');
      index.put(rev(2));
      index.tombstone(rev(3));
      expect(() => index.tombstone(rev(4))).to.throw('key index: tombstone on deleted key foo');
      expect(index.since(0)).to.deep.equal([rev(2), rev(3)]);
      // The refused tombstone did not move `modified`: a put at 4 is still accepted.
      index.put(rev(4));
      expect(index.get(4)).to.deep.equal({ modified: rev(4), created: rev(4), version: 1 });
    });

    it('refuses a tombstone that is not after the last modification', () => {
      const index = new KeyIndex('foo');
      index.put(rev(5));
      expect(() => index.tombstone(rev(5))).to.throw('key index: put at 5.0 is not after 5.0');
      expect(index.isLive()).to.equal(true);
    });
  });

  describe('the worked example (put 1, put 2, delete 3, put 4, delete 5)', () => {
    it('reads each revision as etcd does', () => {
      const index = workedExample();
      expect(index.get(0)).to.equal(undefined);
      expect(index.get(1)).to.deep.equal({ modified: rev(1), created: rev(1), version: 1 });
      expect(index.get(2)).to.deep.equal({ modified: rev(2), created: rev(1), version: 2 });
      expect(index.get(3)).to.equal(undefined);
      expect(index.get(4)).to.deep.equal({ modified: rev(4), created: rev(4), version: 1 });
      expect(index.get(5)).to.equal(undefined);
      expect(index.get(6)).to.equal(undefined);
      expect(index.isLive()).to.equal(false);
      expect(index.since(0)).to.deep.equal([rev(1), rev(2), rev(3), rev(4), rev(5)]);
    });

    it('compacting at 1 keeps 1.0 and everything after it', () => {
      const { index, available } = compactedExample(1);
      expect(available).to.deep.equal(['1_0']);
      expect(index.since(0)).to.deep.equal([rev(1), rev(2), rev(3), rev(4), rev(5)]);
      expect(index.get(1)).to.deep.equal({ modified: rev(1), created: rev(1), version: 1 });
    });

    it('compacting at 2 drops 1.0 and keeps the first generation as [2.0 3.0]', () => {
      const { index, available } = compactedExample(2);
      expect(available).to.deep.equal(['2_0']);
      expect(index.since(0)).to.deep.equal([rev(2), rev(3), rev(4), rev(5)]);
      // Version and creation survive the loss of 1.0.
      expect(index.get(2)).to.deep.equal({ modified: rev(2), created: rev(1), version: 2 });
      expect(index.get(1)).to.equal(undefined);
      expect(index.get(4)).to.deep.equal({ modified: rev(4), created: rev(4), version: 1 });
    });

    it('compacting at 3 drops the lone tombstone with its generation', () => {
      const { index, available } = compactedExample(3);
      expect(available).to.deep.equal([]);
      expect(index.since(0)).to.deep.equal([rev(4), rev(5)]);
      expect(index.get(2)).to.equal(undefined);
      expect(index.get(4)).to.deep.equal({ modified: rev(4), created: rev(4), version: 1 });
      expect(index.isEmpty()).to.equal(false);
    });

    it('compacting at 4 keeps 4.0 of the second generation', () => {
      const { index, available } = compactedExample(4);
      expect(available).to.deep.equal(['4_0']);
      expect(index.since(0)).to.deep.equal([rev(4), rev(5)]);
      expect(index.isEmpty()).to.equal(false);
    });

    for (const atMain of [5, 6]) {
      it(`compacting at ${atMain} drops everything and leaves the index empty`, () => {
        const { index, available } = compactedExample(atMain);
        expect(available).to.deep.equal([]);
        expect(index.isEmpty()).to.equal(true);
        expect(index.since(0)).to.deep.equal([]);
        expect(index.get(atMain)).to.equal(undefined);
      });
    }

    it('compacts step by step to the same result as compacting at once', () => {
      const index = workedExample();
      const available = new Set<string>();
      index.compact(2, available);
      expect([...available]).to.deep.equal(['2_0']);
      available.clear();
      index.compact(3, available);
      expect([...available]).to.deep.equal([]);
      expect(index.since(0)).to.deep.equal([rev(4), rev(5)]);
      index.compact(4, available);
      expect([...available]).to.deep.equal(['4_0']);
      available.clear();
      index.compact(5, available);
      expect([...available]).to.deep.equal([]);
      expect(index.isEmpty()).to.equal(true);
    });

    for (const [atMain, kept] of [
      [1, ['1_0']],
      [2, ['2_0']],
      [3, []],
      [4, ['4_0']],
      [5, []],
      [6, []],
    ] as const) {
      it(`keep(${atMain}) reports what compact(${atMain}) keeps and changes nothing`, () => {
        const index = workedExample();
        const available = new Set<string>();
        index.keep(atMain, available);
        expect([...available].sort()).to.deep.equal(kept);
        expect([...available].sort()).to.deep.equal(compactedExample(atMain).available);
        expect(index.since(0)).to.deep.equal([rev(1), rev(2), rev(3), rev(4), rev(5)]);
        expect(index.get(2)).to.deep.equal({ modified: rev(2), created: rev(1), version: 2 });
      });
    }
  });

  describe('compact', () => {
    it('keeps the newest revision at or below the compaction on a live key, with its version', () => {
      const index = new KeyIndex('foo');
      for (const main of [2, 3, 4, 6]) index.put(rev(main));
      const available = new Set<string>();
      index.compact(5, available);
      expect([...available]).to.deep.equal(['4_0']);
      expect(index.since(0)).to.deep.equal([rev(4), rev(6)]);
      expect(index.get(5)).to.deep.equal({ modified: rev(4), created: rev(2), version: 3 });
      expect(index.get(6)).to.deep.equal({ modified: rev(6), created: rev(2), version: 4 });
      expect(index.get(3)).to.equal(undefined);
    });

    it('keeps the last sub revision of the compacted main', () => {
      const index = new KeyIndex('foo');
      index.put(rev(2, 0));
      index.put(rev(2, 1));
      index.put(rev(3, 0));
      const available = new Set<string>();
      index.compact(2, available);
      expect([...available]).to.deep.equal(['2_1']);
      expect(index.since(0)).to.deep.equal([rev(2, 1), rev(3)]);
      expect(index.get(3)).to.deep.equal({ modified: rev(3), created: rev(2, 0), version: 3 });
    });

    it('keeps the only revision of a live key however far the compaction goes', () => {
      const index = new KeyIndex('foo');
      index.put(rev(2));
      const available = new Set<string>();
      index.compact(100, available);
      expect([...available]).to.deep.equal(['2_0']);
      expect(index.isEmpty()).to.equal(false);
      expect(index.get(100)).to.deep.equal({ modified: rev(2), created: rev(2), version: 1 });
    });

    it('changes nothing when compacting below the first revision', () => {
      const index = new KeyIndex('foo');
      index.put(rev(5));
      index.put(rev(6));
      const available = new Set<string>();
      index.compact(4, available);
      expect([...available]).to.deep.equal([]);
      expect(index.since(0)).to.deep.equal([rev(5), rev(6)]);
    });

    it('keeps a tombstone while the put before it is kept', () => {
      const index = new KeyIndex('foo');
      index.put(rev(2));
      index.put(rev(3));
      index.tombstone(rev(4));
      const available = new Set<string>();
      index.compact(3, available);
      expect([...available]).to.deep.equal(['3_0']);
      expect(index.since(0)).to.deep.equal([rev(3), rev(4)]);
      expect(index.get(4)).to.equal(undefined);
    });

    it('removes a generation that ended before the compaction even with a live one after it', () => {
      const index = new KeyIndex('foo');
      index.put(rev(2));
      index.tombstone(rev(3));
      index.put(rev(4));
      index.put(rev(5));
      const available = new Set<string>();
      index.compact(4, available);
      expect([...available]).to.deep.equal(['4_0']);
      expect(index.since(0)).to.deep.equal([rev(4), rev(5)]);
      expect(index.get(5)).to.deep.equal({ modified: rev(5), created: rev(4), version: 2 });
    });

    it('refuses to compact an index that never saw a put', () => {
      expect(() => new KeyIndex('foo').compact(1, new Set())).to.throw('key index: compact on empty index of foo');
    });

    it('refuses to compact an index that a compaction emptied', () => {
      const { index } = compactedExample(5);
      expect(() => index.compact(6, new Set())).to.throw('key index: compact on empty index of foo');
    });

    it('keep on an empty index adds nothing', () => {
      const available = new Set<string>(['9_0']);
      new KeyIndex('foo').keep(5, available);
      compactedExample(5).index.keep(7, available);
      expect([...available]).to.deep.equal(['9_0']);
    });
  });

  describe('since', () => {
    it('lists one revision per main (the last sub) from the given main on, across generations', () => {
      const index = new KeyIndex('foo');
      index.put(rev(2, 0));
      index.put(rev(2, 1));
      index.tombstone(rev(3, 0));
      index.put(rev(4, 0));
      index.put(rev(4, 1));
      index.put(rev(6, 0));
      expect(index.since(0)).to.deep.equal([rev(2, 1), rev(3), rev(4, 1), rev(6)]);
      expect(index.since(2)).to.deep.equal([rev(2, 1), rev(3), rev(4, 1), rev(6)]);
      expect(index.since(3)).to.deep.equal([rev(3), rev(4, 1), rev(6)]);
      expect(index.since(5)).to.deep.equal([rev(6)]);
      expect(index.since(6)).to.deep.equal([rev(6)]);
      expect(index.since(7)).to.deep.equal([]);
    });

    it('collapses a tombstone and a re-create in one main into the later sub', () => {
      const index = new KeyIndex('foo');
      index.put(rev(2, 0));
      index.tombstone(rev(3, 0));
      index.put(rev(3, 1));
      expect(index.since(3)).to.deep.equal([rev(3, 1)]);
    });
  });

  describe('restore', () => {
    it('starts a generation whose creation and version come from the stored kv', () => {
      const index = new KeyIndex('foo');
      index.restore(2, rev(7, 1), 5);
      expect(index.isLive()).to.equal(true);
      expect(index.get(7)).to.deep.equal({ modified: rev(7, 1), created: rev(2), version: 5 });
      expect(index.get(6)).to.equal(undefined);
      index.put(rev(8));
      expect(index.get(8)).to.deep.equal({ modified: rev(8), created: rev(2), version: 6 });
      index.tombstone(rev(9));
      expect(index.get(9)).to.equal(undefined);
      expect(index.since(0)).to.deep.equal([rev(7, 1), rev(8), rev(9)]);
    });

    it('moves `modified`: a put at or before the restored revision is refused', () => {
      const index = new KeyIndex('foo');
      index.restore(2, rev(7), 3);
      expect(() => index.put(rev(7))).to.throw('key index: put at 7.0 is not after 7.0');
    });

    it('may follow a tombstone, starting a new generation', () => {
      const index = new KeyIndex('foo');
      index.put(rev(2));
      index.tombstone(rev(3));
      index.restore(4, rev(4), 1);
      expect(index.get(2)).to.deep.equal({ modified: rev(2), created: rev(2), version: 1 });
      expect(index.get(3)).to.equal(undefined);
      expect(index.get(4)).to.deep.equal({ modified: rev(4), created: rev(4), version: 1 });
    });

    it('refuses to restore over a live generation', () => {
      const index = new KeyIndex('foo');
      index.put(rev(2));
      expect(() => index.restore(3, rev(3), 1)).to.throw('key index: restore over a live generation of foo');
      expect(index.since(0)).to.deep.equal([rev(2)]);
    });
  });

  it('revisionKey names a revision as main_sub', () => {
    expect(revisionKey(rev(12, 3))).to.equal('12_3');
    expect(revisionKey(rev(0))).to.equal('0_0');
  });
});
