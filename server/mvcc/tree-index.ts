// The in-memory ordered index of every key: key → KeyIndex (its generations
// of revisions). Keys are held as latin1 strings, one char per byte, so that
// string order is byte order and lookups hash cheaply.
import sortedBtree from 'sorted-btree';
import { KeyIndex, type KeyAtRevision } from './key-index.js';
import type { Revision } from './revision.js';

/** A key range: `end` undefined = the single key; `end` empty = every key >= start. */
export interface KeyRange {
  start: string;
  end?: string;
}

export interface IndexedKey extends KeyAtRevision {
  key: string;
}

// sorted-btree is CommonJS: its class is the `default` of module.exports.
const BTree = sortedBtree.default;

export class TreeIndex {
  /** Ordered by key; simpleComparator compares strings with < (UTF-16 code units = bytes here). */
  private readonly tree = new BTree<string, KeyIndex>(undefined, sortedBtree.simpleComparator);
  /** The same key indexes by key, for O(1) lookups on the write path; the tree serves ordered ranges. */
  private readonly byKey = new Map<string, KeyIndex>();

  private getOrCreate(key: string): KeyIndex {
    let index = this.byKey.get(key);
    if (index === undefined) {
      index = new KeyIndex(key);
      this.byKey.set(key, index);
      this.tree.set(key, index);
    }
    return index;
  }

  put(key: string, revision: Revision): void {
    this.getOrCreate(key).put(revision);
  }

  /** Recreates a generation found in the backend (see KeyIndex.restore). */
  restore(key: string, createdMain: number, modified: Revision, version: number): void {
    this.getOrCreate(key).restore(createdMain, modified, version);
  }

  isLive(key: string): boolean {
    return this.byKey.get(key)?.isLive() ?? false;
  }

  tombstone(key: string, revision: Revision): void {
    const index = this.byKey.get(key);
    if (index === undefined) throw new Error(`tree index: tombstone of unknown key`);
    index.tombstone(revision);
  }

  get(key: string, atMain: number): KeyAtRevision | undefined {
    return this.byKey.get(key)?.get(atMain);
  }

  /**
   * Keys of `range` alive at `atMain`, in key order. Stops after `limit`
   * matches when limit > 0; `count` is always the full number of matches.
   */
  range(range: KeyRange, atMain: number, limit = 0): { keys: IndexedKey[]; count: number } {
    const keys: IndexedKey[] = [];
    let count = 0;
    this.visit(range, (index) => {
      const found = index.get(atMain);
      if (found === undefined) return;
      count++;
      if (limit <= 0 || keys.length < limit) keys.push({ key: index.key, ...found });
    });
    return { keys, count };
  }

  /** Every key index in `range`, in key order (for deletes and watches). */
  visit(range: KeyRange, visitor: (index: KeyIndex) => void): void {
    if (range.end === undefined) {
      const index = this.byKey.get(range.start);
      if (index !== undefined) visitor(index);
      return;
    }
    if (range.end !== '' && range.end <= range.start) return;
    for (const [key, index] of this.tree.entries(range.start)) {
      if (range.end !== '' && key >= range.end) break;
      visitor(index);
    }
  }

  /** Compacts every key at `atMain`; returns the revisions (as revisionKey) still needed. */
  compact(atMain: number): Set<string> {
    const available = new Set<string>();
    const emptied: string[] = [];
    this.tree.forEach((index: KeyIndex, key: string) => {
      index.compact(atMain, available);
      if (index.isEmpty()) emptied.push(key);
    });
    for (const key of emptied) {
      this.tree.delete(key);
      this.byKey.delete(key);
    }
    return available;
  }

  /** What compacting at `atMain` would keep (as revisionKey), without changing anything. */
  keep(atMain: number): Set<string> {
    const available = new Set<string>();
    this.tree.forEach((index: KeyIndex) => index.keep(atMain, available));
    return available;
  }

  get size(): number {
    return this.tree.size;
  }
}
