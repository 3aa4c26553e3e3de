// Keys and key ranges: how the SDK's selectors map to etcd's half-open
// [key, rangeEnd) intervals, and how a namespace prefix is added and removed.
//
// Worked example, namespace "app/":
//   get("a")               → key "app/a", rangeEnd ""          (one key)
//   getRange({prefix:"a"}) → key "app/a", rangeEnd "app/b"     (prefixEnd)
//   getRange({prefix:""})  → key "app/",  rangeEnd "app0"      (the whole namespace; "/"+1 = "0")
//   {range:{start:"a"}}    → key "app/a", rangeEnd "app0"      (">= a" becomes ">= a within app/")
// Keys in responses lose the "app/" again.
import { EmptyKeyError, InvalidOptionError } from './errors.js';

/** A key: a UTF-8 string or raw bytes. */
export type Key = string | Uint8Array;

/**
 * Which keys an operation covers: one key, every key with a prefix
 * (`{ prefix: '' }` is every key), or the half-open range `[start, end)`;
 * `end` omitted means every key ≥ `start`.
 */
export type KeySelector = Key | { prefix: Key } | { range: { start: Key; end?: Key } };

/** The wire form of a selector: etcd's key and range_end. */
export interface WireRange {
  key: Buffer;
  rangeEnd: Buffer;
}

const zero = Buffer.from([0]);
const empty = Buffer.alloc(0);

/** Bytes of a key. */
export function keyBytes(key: Key): Buffer {
  return typeof key === 'string' ? Buffer.from(key, 'utf8') : Buffer.from(key.buffer, key.byteOffset, key.byteLength);
}

/**
 * The smallest key greater than every key starting with `prefix`: the prefix
 * with its last byte below 0xff incremented and the rest dropped
 * ("aa" → "ab", "a\xff" → "b"); "\0" (no upper bound) when there is none.
 */
export function prefixEnd(prefix: Buffer): Buffer {
  for (let index = prefix.length - 1; index >= 0; index--) {
    const byte = prefix.readUInt8(index);
    if (byte < 0xff) {
      const end = Buffer.from(prefix.subarray(0, index + 1));
      end.writeUInt8(byte + 1, index);
      return end;
    }
  }
  return zero;
}

function isPrefix(selector: KeySelector): selector is { prefix: Key } {
  return typeof selector === 'object' && 'prefix' in selector;
}
function isRange(selector: KeySelector): selector is { range: { start: Key; end?: Key } } {
  return typeof selector === 'object' && 'range' in selector;
}

/**
 * Adds and strips the namespace prefix. With an empty namespace it only
 * converts selectors to their wire form.
 */
export class Namespace {
  readonly prefix: Buffer;
  constructor(prefix: Key = '') {
    this.prefix = keyBytes(prefix);
  }

  /**
   * The namespace `prefix` inside this one: prefixes compose, outermost
   * first ("app/" then "tenant-1/" is "app/tenant-1/"), so a key of the
   * inner namespace is stored under both.
   */
  child(prefix: Key): Namespace {
    return new Namespace(Buffer.concat([this.prefix, keyBytes(prefix)]));
  }

  /** The wire key for one key. Throws `EmptyKeyError` for an empty key, as etcd would. */
  key(key: Key): Buffer {
    const bytes = keyBytes(key);
    if (bytes.length === 0) throw new EmptyKeyError('etcdserver: key is not provided');
    return this.prefix.length === 0 ? bytes : Buffer.concat([this.prefix, bytes]);
  }

  /** The wire range of a selector. */
  range(selector: KeySelector): WireRange {
    if (isPrefix(selector)) {
      const start = Buffer.concat([this.prefix, keyBytes(selector.prefix)]);
      if (start.length === 0) return { key: zero, rangeEnd: zero };
      return { key: start, rangeEnd: prefixEnd(start) };
    }
    if (isRange(selector)) {
      const start = keyBytes(selector.range.start);
      const end = selector.range.end === undefined ? undefined : keyBytes(selector.range.end);
      if (end !== undefined && end.length > 0 && Buffer.compare(start, end) >= 0) {
        throw new InvalidOptionError('range end must be greater than range start');
      }
      const key = this.prefix.length === 0 && start.length === 0 ? zero : Buffer.concat([this.prefix, start]);
      if (end === undefined || end.length === 0) {
        return { key, rangeEnd: this.prefix.length === 0 ? zero : prefixEnd(this.prefix) };
      }
      return { key, rangeEnd: Buffer.concat([this.prefix, end]) };
    }
    return { key: this.key(selector), rangeEnd: empty };
  }

  /** A key from the server with the namespace removed. */
  strip(key: Buffer): Buffer {
    if (this.prefix.length === 0) return key;
    return key.subarray(0, this.prefix.length).equals(this.prefix) ? key.subarray(this.prefix.length) : key;
  }
}
