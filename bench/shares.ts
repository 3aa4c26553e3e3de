// Splitting a total over parts (watchers over streams, leases over workers).

/** `total` split into `parts` shares that differ by at most one, the first shares taking the extra ones: 10 over 4 → [3, 3, 2, 2]. */
export function evenShares(total: number, parts: number): number[] {
  if (!(Number.isInteger(total) && total >= 0 && Number.isInteger(parts) && parts >= 1)) {
    throw new Error(`cannot split ${total} into ${parts} shares`);
  }
  return Array.from({ length: parts }, (_, index) => Math.floor(total / parts) + (index < total % parts ? 1 : 0));
}
