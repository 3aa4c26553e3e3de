// Keys of the watch benchmark: every put goes to its own key under one prefix,
// and every watcher watches the whole prefix.

/** The key of put `sequence`: zero-padded, so keys sort in put order. */
export function putKey(prefix: string, sequence: number): Buffer {
  return Buffer.from(`${prefix}${sequence.toString().padStart(10, '0')}`);
}

/**
 * The key just past every key that starts with `prefix`, as etcd's clients
 * compute a prefix's range end: the last byte below 0xff is incremented and
 * what follows it dropped ("a/" → "a0"); a prefix of only 0xff bytes ranges
 * to the end of the key space ("\0").
 */
export function prefixEnd(prefix: Buffer): Buffer {
  const end = Buffer.from(prefix);
  for (let index = end.length - 1; index >= 0; index--) {
    const byte = end.readUInt8(index);
    if (byte < 0xff) {
      end.writeUInt8(byte + 1, index);
      return end.subarray(0, index + 1);
    }
  }
  return Buffer.from([0]);
}
