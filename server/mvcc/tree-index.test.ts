import { expect } from 'chai';
import type { KeyIndex } from './key-index.js';
import type { Revision } from './revision.js';
import { TreeIndex, type KeyRange } from './tree-index.js';

function rev(main: number, sub = 0): Revision {
  return { main, sub };
}

/** Keys a, b, c, d put at revisions 2..5, one per revision. */
function fourKeys(): TreeIndex {
  const index = new TreeIndex();
  ['a', 'b', 'c', 'd'].forEach((key, i) => index.put(key, rev(i + 2)));
  return index;
}

function keysIn(index: TreeIndex, range: KeyRange, atMain = 100): string[] {
  return index.range(range, atMain).keys.map((found) => found.key);
}

function visited(index: TreeIndex, range: KeyRange): string[] {
  const keys: string[] = [];
  index.visit(range, (keyIndex: KeyIndex) => keys.push(keyIndex.key));
  return keys;
}

describe('TreeIndex', () => {
  describe('range', () => {
    it('reads the single key when end is undefined', () => {
      const index = fourKeys();
      expect(index.range({ start: 'b' }, 100)).to.deep.equal({
        keys: [{ key: 'b', modified: rev(3), created: rev(3), version: 1 }],
        count: 1,
      });
      expect(index.range({ start: 'bb' }, 100)).to.deep.equal({ keys: [], count: 0 });
    });

    it('reads every key >= start when end is empty', () => {
      const index = fourKeys();
      expect(keysIn(index, { start: 'b', end: '' })).to.deep.equal(['b', 'c', 'd']);
      expect(keysIn(index, { start: '', end: '' })).to.deep.equal(['a', 'b', 'c', 'd']);
      expect(keysIn(index, { start: 'e', end: '' })).to.deep.equal([]);
    });

    it('reads [start, end) when end is bounded', () => {
      const index = fourKeys();
      expect(keysIn(index, { start: 'b', end: 'd' })).to.deep.equal(['b', 'c']);
      expect(keysIn(index, { start: 'a', end: 'b' })).to.deep.equal(['a']);
      expect(keysIn(index, { start: 'a0', end: 'c0' })).to.deep.equal(['b', 'c']);
      expect(keysIn(index, { start: 'a', end: 'z' })).to.deep.equal(['a', 'b', 'c', 'd']);
    });

    it('reads nothing when end <= start', () => {
      const index = fourKeys();
      expect(index.range({ start: 'c', end: 'c' }, 100)).to.deep.equal({ keys: [], count: 0 });
      expect(index.range({ start: 'c', end: 'b' }, 100)).to.deep.equal({ keys: [], count: 0 });
    });

    it('orders keys by byte, not by locale', () => {
      const index = new TreeIndex();
      const keys = ['\xff', 'B', 'a', '\x00', 'A', 'a\x00', 'b'];
      keys.forEach((key, i) => index.put(key, rev(i + 2)));
      expect(keysIn(index, { start: '', end: '' })).to.deep.equal(['\x00', 'A', 'B', 'a', 'a\x00', 'b', '\xff']);
    });

    it('stops after `limit` keys but counts every match', () => {
      const index = fourKeys();
      expect(index.range({ start: 'a', end: '' }, 100, 2)).to.deep.equal({
        keys: [
          { key: 'a', modified: rev(2), created: rev(2), version: 1 },
          { key: 'b', modified: rev(3), created: rev(3), version: 1 },
        ],
        count: 4,
      });
      expect(index.range({ start: 'a', end: '' }, 100, 0).keys).to.have.length(4);
      expect(index.range({ start: 'a', end: '' }, 100, -1).keys).to.have.length(4);
      expect(index.range({ start: 'a', end: '' }, 100, 10)).to.include({ count: 4 });
    });

    it('sees only the keys alive at the revision read', () => {
      const index = fourKeys();
      index.tombstone('b', rev(6));
      index.put('a', rev(7));
      expect(keysIn(index, { start: 'a', end: '' }, 1)).to.deep.equal([]);
      expect(keysIn(index, { start: 'a', end: '' }, 3)).to.deep.equal(['a', 'b']);
      expect(keysIn(index, { start: 'a', end: '' }, 6)).to.deep.equal(['a', 'c', 'd']);
      expect(index.range({ start: 'a', end: '' }, 6, 1)).to.deep.equal({
        keys: [{ key: 'a', modified: rev(2), created: rev(2), version: 1 }],
        count: 3,
      });
      expect(index.get('a', 7)).to.deep.equal({ modified: rev(7), created: rev(2), version: 2 });
      expect(index.get('zz', 7)).to.equal(undefined);
    });
  });

  describe('visit', () => {
    it('visits key indexes in range in key order, deleted keys included', () => {
      const index = fourKeys();
      index.tombstone('c', rev(6));
      expect(visited(index, { start: 'b', end: '' })).to.deep.equal(['b', 'c', 'd']);
      expect(visited(index, { start: 'a', end: 'c' })).to.deep.equal(['a', 'b']);
      expect(visited(index, { start: 'c' })).to.deep.equal(['c']);
      expect(visited(index, { start: 'cc' })).to.deep.equal([]);
      expect(visited(index, { start: 'd', end: 'a' })).to.deep.equal([]);
    });
  });

  describe('isLive and tombstone', () => {
    it('tracks whether a key exists now', () => {
      const index = new TreeIndex();
      expect(index.isLive('a')).to.equal(false);
      index.put('a', rev(2));
      expect(index.isLive('a')).to.equal(true);
      index.tombstone('a', rev(3));
      expect(index.isLive('a')).to.equal(false);
    });

    it('refuses to tombstone a key it has never seen', () => {
      const index = new TreeIndex();
      expect(() => index.tombstone('nope', rev(2))).to.throw('tree index: tombstone of unknown key');
      expect(index.size).to.equal(0);
    });

    it('restores a key from a stored kv', () => {
      const index = new TreeIndex();
      index.restore('a', 3, rev(9), 4);
      expect(index.size).to.equal(1);
      expect(index.get('a', 9)).to.deep.equal({ modified: rev(9), created: rev(3), version: 4 });
    });
  });

  describe('compact', () => {
    it('removes keys whose index the compaction emptied and keeps the others', () => {
      const index = fourKeys();
      index.tombstone('a', rev(6));
      index.tombstone('b', rev(7));
      index.put('c', rev(8));
      expect(index.size).to.equal(4);
      const kept = index.compact(6);
      // a: deleted at 6 -> gone; b: deleted after 6 -> its put at 3 stays; c: put at 4 stays; d: 5 stays.
      expect([...kept].sort()).to.deep.equal(['3_0', '4_0', '5_0']);
      expect(index.size).to.equal(3);
      expect(visited(index, { start: '', end: '' })).to.deep.equal(['b', 'c', 'd']);
      expect(index.isLive('a')).to.equal(false);
      // A key removed by compaction can be created again from scratch.
      index.put('a', rev(9));
      expect(index.get('a', 9)).to.deep.equal({ modified: rev(9), created: rev(9), version: 1 });
    });

    it('keep reports the same revisions as compact without removing anything', () => {
      const index = fourKeys();
      index.tombstone('a', rev(6));
      index.tombstone('b', rev(7));
      const kept = index.keep(6);
      expect([...kept].sort()).to.deep.equal(['3_0', '4_0', '5_0']);
      expect(index.size).to.equal(4);
      expect(keysIn(index, { start: '', end: '' }, 5)).to.deep.equal(['a', 'b', 'c', 'd']);
      expect([...index.compact(6)].sort()).to.deep.equal([...kept].sort());
    });

    it('empties the tree when every key was deleted at or before the compaction', () => {
      const index = fourKeys();
      index.tombstone('a', rev(6));
      index.tombstone('b', rev(7));
      index.tombstone('c', rev(8));
      index.tombstone('d', rev(9));
      expect([...index.compact(9)]).to.deep.equal([]);
      expect(index.size).to.equal(0);
      expect(index.range({ start: '', end: '' }, 9)).to.deep.equal({ keys: [], count: 0 });
    });
  });
});
