/**
 * Assertions for programmer errors (TIGER_STYLE): a broken invariant means the core is wrong or was
 * misused, so it throws RaftInvariantError and the process should crash rather than corrupt a log.
 * Operating errors (a dropped proposal, say) are typed errors in errors.ts instead.
 */
export class RaftInvariantError extends Error {
  override readonly name = 'RaftInvariantError';
}

export function invariant(condition: boolean, describe: string | (() => string)): asserts condition {
  if (!condition) throw new RaftInvariantError(typeof describe === 'string' ? describe : describe());
}

/** Terms and indexes are numbers inside the core; they must stay exact integers. */
export function assertSafe(value: number, what: string): void {
  if (!Number.isSafeInteger(value) || value < 0) {
    throw new RaftInvariantError(`${what} ${value} is not a non-negative safe integer`);
  }
}
