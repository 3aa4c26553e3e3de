// Which keys exist at each step of a txn, worked out before the txn writes
// anything. A put with ignore_value / ignore_lease needs its key to exist
// *at that step*: an earlier op of the same txn may have deleted it (a
// delete over a range ending in "\0" passes the duplicate-key check). etcd
// checks against the state before the txn and panics in that case; cairn
// follows the ops in order so the txn fails whole, with nothing written.
import type { KeyRange } from '../mvcc/tree-index.js';
import { keyRange, type RangeReader } from './range.js';

const noRangeEnd = Buffer.alloc(0);

export class KeyPresence {
  /** Keys this txn has put (true) or deleted (false) so far. */
  private readonly written = new Map<string, boolean>();
  private readonly deleted: KeyRange[] = [];

  constructor(private readonly reader: RangeReader) {}

  exists(key: Buffer): boolean {
    const name = key.toString('latin1');
    const known = this.written.get(name);
    if (known !== undefined) return known;
    if (this.deleted.some((range) => contains(range, name))) return false;
    return this.reader.range(keyRange(key, noRangeEnd), {}).kvs.length > 0;
  }

  put(key: Buffer): void {
    this.written.set(key.toString('latin1'), true);
  }

  delete(range: KeyRange): void {
    for (const name of this.written.keys()) if (contains(range, name)) this.written.set(name, false);
    this.deleted.push(range);
  }
}

function contains(range: KeyRange, key: string): boolean {
  if (range.end === undefined) return key === range.start;
  return key >= range.start && (range.end === '' || key < range.end);
}
