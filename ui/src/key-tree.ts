// The keys page's tree: the keyspace cut at '/' into folders, listed one
// folder at a time and one page of entries at a time, so that a folder of
// 100,000 keys costs the page a few hundred.
//
// A folder's entries are its keys that hold no further '/' and its
// subfolders, in etcd's byte order. Worked example: under the folder "app/",
// the keys app/a, app/b/x, app/b/y, app/b/z/1, app/c are the entries
// key app/a, folder app/b/, key app/c. Listing skips over a subfolder's keys
// instead of reading them: once app/b/x is read, the next range starts at
// app/b0 (the end of the prefix app/b/), so a subfolder of any size costs one
// key read. Keys with no '/' at all are entries of the root folder (prefix "").
import { binaryString, compare, keyAfter, prefixEnd, startsWith } from './bytes.js';

export type TreeEntry =
  | { readonly kind: 'key'; readonly key: Uint8Array; readonly id: string }
  | { readonly kind: 'folder'; readonly prefix: Uint8Array; readonly id: string };

export interface Listing {
  readonly entries: readonly TreeEntry[];
  /** Where the next page of entries starts; undefined when the folder is listed to its end. */
  readonly next: Uint8Array | undefined;
}

/** Keys only, in order, from `from` (inclusive) to `end` (exclusive; [0]: no end), at most `limit`. */
export type RangeKeys = (from: Uint8Array, end: Uint8Array, limit: number) => Promise<{ readonly keys: readonly Uint8Array[]; readonly more: boolean }>;

const separator = 0x2f;
/** Keys read per range while listing, at most and at least. */
const keysPerRangeMax = 500;
const keysPerRangeMin = 8;

/** The entry of folder `prefix` that `key` (which starts with `prefix`) falls under. */
export function entryOf(prefix: Uint8Array, key: Uint8Array): TreeEntry {
  const slash = key.indexOf(separator, prefix.length);
  if (slash < 0) return { kind: 'key', key, id: binaryString(key) };
  const folder = key.slice(0, slash + 1);
  return { kind: 'folder', prefix: folder, id: binaryString(folder) };
}

/** The first key an entry covers. */
export function entryStart(entry: TreeEntry): Uint8Array {
  return entry.kind === 'key' ? entry.key : entry.prefix;
}

/** The first key after everything an entry covers. */
function entryEnd(entry: TreeEntry): Uint8Array {
  // A folder's prefix ends in '/', whose successor exists, so prefixEnd never means "no end" here.
  return entry.kind === 'key' ? keyAfter(entry.key) : prefixEnd(entry.prefix);
}

/**
 * Up to `entriesMax` entries of folder `prefix`, from key `from` on (the
 * folder's start when undefined).
 */
export async function listFolder(rangeKeys: RangeKeys, prefix: Uint8Array, from: Uint8Array | undefined, entriesMax: number): Promise<Listing> {
  const end = prefixEnd(prefix);
  const entries: TreeEntry[] = [];
  // The empty key does not exist in etcd: the root folder starts at "\0".
  let cursor = from ?? (prefix.length === 0 ? new Uint8Array([0]) : prefix);
  // Big subfolders make most keys of a range useless (each subfolder is one entry): the ranges shrink
  // while that lasts, and grow again when a range's keys are mostly entries.
  let limit = keysPerRangeMax;
  for (;;) {
    if (!(end.length === 1 && end[0] === 0) && compare(cursor, end) >= 0) return { entries, next: undefined };
    const page = await rangeKeys(cursor, end, limit);
    let skipUntil: Uint8Array | undefined;
    const entriesBefore = entries.length;
    for (const key of page.keys) {
      if (skipUntil !== undefined && compare(key, skipUntil) < 0) continue;
      const entry = entryOf(prefix, key);
      entries.push(entry);
      skipUntil = entryEnd(entry);
      if (entries.length >= entriesMax) return { entries, next: skipUntil };
    }
    if (!page.more || skipUntil === undefined) return { entries, next: undefined };
    cursor = skipUntil;
    const useful = entries.length - entriesBefore;
    limit = useful * 2 < page.keys.length ? Math.max(keysPerRangeMin, Math.floor(limit / 4)) : Math.min(keysPerRangeMax, limit * 2);
  }
}

/**
 * The listing with `entry` added where it sorts, unless it is there already
 * or lies beyond the listed part (the next page will bring it). A listing
 * holds at most `entriesMax`: past that its last entry leaves it and becomes
 * where the next page starts, so a folder that keeps growing under the page's
 * eyes stays paged.
 */
export function withEntry(listing: Listing, entry: TreeEntry, entriesMax: number): Listing {
  if (listing.entries.some((present) => present.id === entry.id)) return listing;
  const start = entryStart(entry);
  if (listing.next !== undefined && compare(start, listing.next) >= 0) return listing;
  const at = listing.entries.findIndex((present) => compare(entryStart(present), start) > 0);
  const entries = [...listing.entries];
  entries.splice(at < 0 ? entries.length : at, 0, entry);
  if (entries.length <= entriesMax) return { entries, next: listing.next };
  const last = entries.pop() as TreeEntry;
  return { entries, next: entryStart(last) };
}

/** `listing` of folder `prefix` after `events` (a watch's, in order): puts add their entries, deletes take keys out (a subfolder stays until it is found empty). */
export function afterEvents(prefix: Uint8Array, listing: Listing, events: ReadonlyArray<{ readonly type: 'PUT' | 'DELETE'; readonly kv: { readonly key: Uint8Array } }>, entriesMax: number): Listing {
  let next = listing;
  for (const event of events) {
    if (!inFolder(prefix, event.kv.key)) continue;
    const entry = entryOf(prefix, event.kv.key);
    if (event.type === 'PUT') next = withEntry(next, entry, entriesMax);
    else if (entry.kind === 'key') next = withoutEntry(next, entry.id);
  }
  return next;
}

export function withoutEntry(listing: Listing, id: string): Listing {
  if (!listing.entries.some((entry) => entry.id === id)) return listing;
  return { entries: listing.entries.filter((entry) => entry.id !== id), next: listing.next };
}

/** Whether `key` lies in folder `prefix`. */
export function inFolder(prefix: Uint8Array, key: Uint8Array): boolean {
  return startsWith(key, prefix);
}
