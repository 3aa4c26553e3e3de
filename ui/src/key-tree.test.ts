import { expect } from 'chai';
import { binaryString, compare, utf8 } from './bytes.js';
import { afterEvents, listFolder, withEntry, withoutEntry, entryOf, type RangeKeys } from './key-tree.js';

/** A keyspace in memory, answering ranges as etcd does (sorted, [from, end), end [0] = no end), counting the calls. */
function keyspace(keys: string[]): { rangeKeys: RangeKeys; calls: () => number; keysRead: () => number } {
  const sorted = keys.map(utf8).sort(compare);
  let calls = 0;
  let keysRead = 0;
  const rangeKeys: RangeKeys = async (from, end, limit) => {
    calls++;
    const noEnd = end.length === 1 && end[0] === 0;
    const inRange = sorted.filter((key) => compare(key, from) >= 0 && (noEnd || compare(key, end) < 0));
    keysRead += Math.min(limit, inRange.length);
    return { keys: inRange.slice(0, limit), more: inRange.length > limit };
  };
  return { rangeKeys, calls: () => calls, keysRead: () => keysRead };
}

const names = (entries: readonly { kind: string; id: string }[]): string[] => entries.map((entry) => `${entry.kind}:${entry.id}`);

describe('ui key tree', () => {
  it('lists a folder as its keys and subfolders, in byte order', async () => {
    const { rangeKeys } = keyspace(['app/a', 'app/b/x', 'app/b/y', 'app/b/z/1', 'app/c', 'apple', 'foo', '/abs/1']);
    const app = await listFolder(rangeKeys, utf8('app/'), undefined, 100);
    expect(names(app.entries)).to.deep.equal(['key:app/a', 'folder:app/b/', 'key:app/c']);
    expect(app.next).to.equal(undefined);
    const root = await listFolder(rangeKeys, new Uint8Array(0), undefined, 100);
    expect(names(root.entries)).to.deep.equal(['folder:/', 'folder:app/', 'key:apple', 'key:foo']);
  });

  it('skips over a subfolder of any size with one read', async () => {
    const big = Array.from({ length: 5_000 }, (_, i) => `data/big/${String(i).padStart(5, '0')}`);
    const { rangeKeys, calls } = keyspace([...big, 'data/after', 'data/zz']);
    const data = await listFolder(rangeKeys, utf8('data/'), undefined, 100);
    expect(names(data.entries)).to.deep.equal(['key:data/after', 'folder:data/big/', 'key:data/zz']);
    // One range reads the first 500 keys of big/; the next starts past big/ (data/big0).
    expect(calls()).to.equal(2);
  });

  it('reads few keys per entry when every entry is a big subfolder', async () => {
    const keys = Array.from({ length: 50 }, (_, folder) => Array.from({ length: 1_000 }, (_, i) => `big/f${String(folder).padStart(2, '0')}/${String(i).padStart(4, '0')}`)).flat();
    const { rangeKeys, keysRead } = keyspace(keys);
    const listing = await listFolder(rangeKeys, utf8('big/'), undefined, 200);
    expect(listing.entries).to.have.length(50);
    expect(listing.entries.every((entry) => entry.kind === 'folder')).to.equal(true);
    // 50 ranges of 500 keys would read 25,000; shrinking ranges read a few hundred.
    expect(keysRead()).to.be.lessThan(1_500);
  });

  it('pages a large folder: the next page starts after the last entry shown', async () => {
    const keys = Array.from({ length: 450 }, (_, i) => `k/${String(i).padStart(3, '0')}`);
    const { rangeKeys } = keyspace(keys);
    const first = await listFolder(rangeKeys, utf8('k/'), undefined, 200);
    expect(first.entries).to.have.length(200);
    expect(first.next).to.not.equal(undefined);
    const second = await listFolder(rangeKeys, utf8('k/'), first.next, 200);
    const third = await listFolder(rangeKeys, utf8('k/'), second.next, 200);
    expect(third.entries).to.have.length(50);
    expect(third.next).to.equal(undefined);
    const all = [...first.entries, ...second.entries, ...third.entries].map((entry) => entry.id);
    expect(all).to.deep.equal(keys);
  });

  it('adds an entry where it sorts, not twice, and not past the listed part', () => {
    const listing = { entries: [entryOf(utf8('a/'), utf8('a/1')), entryOf(utf8('a/'), utf8('a/3'))], next: utf8('a/5') };
    const added = withEntry(listing, entryOf(utf8('a/'), utf8('a/2/x')), 100);
    expect(names(added.entries)).to.deep.equal(['key:a/1', 'folder:a/2/', 'key:a/3']);
    expect(withEntry(added, entryOf(utf8('a/'), utf8('a/2/y')), 100)).to.equal(added);
    expect(withEntry(added, entryOf(utf8('a/'), utf8('a/6')), 100)).to.equal(added);
    expect(names(withoutEntry(added, binaryString(utf8('a/1'))).entries)).to.deep.equal(['folder:a/2/', 'key:a/3']);
  });

  it('keeps a growing listing paged: past its bound the last entry becomes where the next page starts', () => {
    const listing = { entries: [entryOf(utf8('a/'), utf8('a/1')), entryOf(utf8('a/'), utf8('a/3'))], next: undefined };
    const grown = withEntry(listing, entryOf(utf8('a/'), utf8('a/2')), 2);
    expect(names(grown.entries)).to.deep.equal(['key:a/1', 'key:a/2']);
    expect(grown.next === undefined ? undefined : binaryString(grown.next)).to.equal('a/3');
  });

  it('replays a watch\'s events over a listing read meanwhile, ending where the keyspace is', () => {
    const listed = { entries: [entryOf(utf8('f/'), utf8('f/b'))], next: undefined };
    // f/a put then deleted, f/b deleted, f/c put: all seen while the listing was being read.
    const events = [
      { type: 'PUT' as const, kv: { key: utf8('f/a') } }, { type: 'DELETE' as const, kv: { key: utf8('f/a') } },
      { type: 'DELETE' as const, kv: { key: utf8('f/b') } }, { type: 'PUT' as const, kv: { key: utf8('f/c') } }, { type: 'PUT' as const, kv: { key: utf8('g/x') } },
    ];
    expect(names(afterEvents(utf8('f/'), listed, events, 100).entries)).to.deep.equal(['key:f/c']);
  });
});
