// Operating errors of the request checks (checks.ts): a client request that
// etcd's API would refuse before it reaches the log. Each is one condition;
// server/grpc/errors.ts maps them to etcd's code (INVALID_ARGUMENT) and message.

export class EmptyKeyError extends Error {
  override readonly name = 'EmptyKeyError';
  constructor() {
    super('key is not provided');
  }
}

/** A put with ignore_value that also gives a value. */
export class ValueProvidedError extends Error {
  override readonly name = 'ValueProvidedError';
  constructor() {
    super('value is provided');
  }
}

/** A put with ignore_lease that also gives a lease. */
export class LeaseProvidedError extends Error {
  override readonly name = 'LeaseProvidedError';
  constructor() {
    super('lease is provided');
  }
}

/** A txn over --max-txn-ops (at any level), or nested deeper than txnNestingMax. */
export class TooManyTxnOpsError extends Error {
  override readonly name = 'TooManyTxnOpsError';
  constructor() {
    super('too many operations in txn request');
  }
}

/** A txn that would put one key twice, or put and delete it, in one branch. */
export class DuplicateKeyError extends Error {
  override readonly name = 'DuplicateKeyError';
  constructor() {
    super('duplicate key given in txn request');
  }
}

/** A txn op that asks for nothing: etcd answers it with its "key not found" error. */
export class EmptyRequestOpError extends Error {
  override readonly name = 'EmptyRequestOpError';
  constructor() {
    super('key not found');
  }
}
