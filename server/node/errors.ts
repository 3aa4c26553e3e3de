// Operating errors of the proposal pipeline.

export class TooManyRequestsError extends Error {
  override readonly name = 'TooManyRequestsError';
  constructor() {
    super('too many requests');
  }
}

export class ServerStoppedError extends Error {
  override readonly name = 'ServerStoppedError';
  constructor() {
    super('server stopped');
  }
}

export class RequestTooLargeError extends Error {
  override readonly name = 'RequestTooLargeError';
  constructor() {
    super('request is too large');
  }
}

export class NoLeaderError extends Error {
  override readonly name = 'NoLeaderError';
  constructor() {
    super('no leader');
  }
}

export class NotLeaderError extends Error {
  override readonly name = 'NotLeaderError';
  constructor() {
    super('not leader');
  }
}

export class LeaderChangedError extends Error {
  override readonly name = 'LeaderChangedError';
  constructor() {
    super('leader changed');
  }
}

/** The request may or may not have been applied (a write), or could not be confirmed in time (a read). */
export class RequestTimeoutError extends Error {
  override readonly name = 'RequestTimeoutError';
  constructor() {
    super('request timed out');
  }
}

export class BadLeaderTransfereeError extends Error {
  override readonly name = 'BadLeaderTransfereeError';
  constructor() {
    super('bad leader transferee');
  }
}

/** A learner serves serializable reads and status only. */
export class LearnerNotSupportedError extends Error {
  override readonly name = 'LearnerNotSupportedError';
  constructor() {
    super('rpc not supported for learner');
  }
}
