// Keys of the watch benchmark: every put goes to its own key under one prefix,
// and every watcher watches the whole prefix.

/** The key of put `sequence`: zero-padded, so keys sort in put order. */
export function putKey(prefix: string, sequence: number): Buffer {
  return Buffer.from(`${prefix}${sequence.toString().padStart(10, '0')}`);
}
