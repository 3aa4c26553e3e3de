// Operating errors of the Lock and Election services. etcd returns these as
// plain errors (gRPC code Unknown) with exactly these messages; the one error
// table (server/grpc/errors.ts) maps them.

export class SessionExpiredError extends Error {
  override readonly name = 'SessionExpiredError';
  constructor() {
    super('mutex: session is expired');
  }
}

export class WaitCancelledError extends Error {
  override readonly name = 'WaitCancelledError';
  constructor() {
    super('context canceled');
  }
}

export class ElectionNotLeaderError extends Error {
  override readonly name = 'ElectionNotLeaderError';
  constructor() {
    super('election: not leader');
  }
}

export class ElectionNoLeaderError extends Error {
  override readonly name = 'ElectionNoLeaderError';
  constructor() {
    super('election: no leader');
  }
}

export class MissingLeaderKeyError extends Error {
  override readonly name = 'MissingLeaderKeyError';
  constructor() {
    super('"leader" field must be provided');
  }
}
