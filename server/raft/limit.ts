import { entrySizeBytes, type Entry } from './types.js';

/**
 * The longest prefix of ents[start, end) within maxSizeBytes, but always at
 * least one entry. Sized before copying: a follower far behind asks for the
 * whole rest of the log at once.
 */
export function limitSize(ents: readonly Entry[], maxSizeBytes: number, start = 0, end = ents.length): Entry[] {
  if (start >= end) return [];
  let size = entrySizeBytes(ents[start]);
  let n = 1;
  for (; start + n < end; n++) {
    size += entrySizeBytes(ents[start + n]);
    if (size > maxSizeBytes) break;
  }
  return start === 0 && n === ents.length ? (ents as Entry[]) : ents.slice(start, start + n);
}
