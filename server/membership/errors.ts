// Operating errors of membership changes; server/grpc/errors.ts maps them to etcd's codes and messages.

export class MemberNotFoundError extends Error {
  override readonly name = 'MemberNotFoundError';
  constructor() {
    super('member not found');
  }
}

export class MemberExistsError extends Error {
  override readonly name = 'MemberExistsError';
  constructor() {
    super('member ID already exist');
  }
}

export class PeerUrlExistsError extends Error {
  override readonly name = 'PeerUrlExistsError';
  constructor() {
    super('Peer URLs already exists');
  }
}

export class MemberBadUrlsError extends Error {
  override readonly name = 'MemberBadUrlsError';
  constructor() {
    super('given member URLs are invalid');
  }
}

export class MemberNotLearnerError extends Error {
  override readonly name = 'MemberNotLearnerError';
  constructor() {
    super('can only promote a learner member');
  }
}

export class LearnerNotReadyError extends Error {
  override readonly name = 'LearnerNotReadyError';
  constructor() {
    super('can only promote a learner member which is in sync with leader');
  }
}

export class TooManyLearnersError extends Error {
  override readonly name = 'TooManyLearnersError';
  constructor() {
    super('too many learner members in cluster');
  }
}
