import type { SeededRandom } from '../../server/raft/index.js';

/** One of `items`, drawn from `rng`; the simulator never draws from an empty list. */
export function pick<T>(rng: SeededRandom, items: readonly T[]): T {
  const item = items[rng.intBelow(items.length)];
  if (item === undefined) throw new Error('simulator: drew from an empty list');
  return item;
}
