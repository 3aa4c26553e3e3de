import { invariant } from './assert.js';
import { entrySizeBytes, type Entry } from './types.js';

/**
 * The longest prefix of ents[start, end) within maxSizeBytes, but always at
 * least one entry. Sized before copying: a follower far behind asks for the
 * whole rest of the log at once. Invariant: end ≤ ents.length.
 */
export function limitSize(ents: readonly Entry[], maxSizeBytes: number, start = 0, end = ents.length): Entry[] {
  if (start >= end) return [];
  let size = 0;
  let n = 0;
  for (; start + n < end; n++) {
    const entry = ents[start + n];
    invariant(entry !== undefined, 'limitSize: end is beyond the entries');
    size += entrySizeBytes(entry);
    if (n > 0 && size > maxSizeBytes) break;
  }
  return start === 0 && n === ents.length ? (ents as Entry[]) : ents.slice(start, start + n);
}
