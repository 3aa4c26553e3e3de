// Typed errors of the recipes: one class per condition, each with `name` and `cause`.

/** Base class of every recipe error. */
export class RecipeError extends Error {
  override name = 'RecipeError';
  constructor(message: string, options: { cause?: unknown } = {}) {
    super(message, { cause: options.cause });
  }
}

/** The session's lease is gone or about to go (etcd: "mutex: session is expired" / "session expired"). */
export class SessionExpiredError extends RecipeError { override name = 'SessionExpiredError'; }

/** The session was closed or orphaned by its owner; it can no longer be used. */
export class SessionClosedError extends RecipeError { override name = 'SessionClosedError'; }

/** `lock()` or another wait was aborted by its signal. */
export class LockAbortedError extends RecipeError { override name = 'LockAbortedError'; }

/** `lock()` or another wait gave up after `timeoutMs`. */
export class LockTimeoutError extends RecipeError { override name = 'LockTimeoutError'; }

/** Proclaim or resign by a candidate that is not the leader (etcd: "election: not leader"). */
export class NotLeaderError extends RecipeError { override name = 'NotLeaderError'; }

/** The election has no leader (etcd: "election: no leader"). */
export class NoLeaderElectedError extends RecipeError { override name = 'NoLeaderElectedError'; }

/** A double barrier already has its count of participants (etcd: "barrier: too many clients"). */
export class TooManyParticipantsError extends RecipeError { override name = 'TooManyParticipantsError'; }
