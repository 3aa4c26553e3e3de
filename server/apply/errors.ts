// Operating errors raised while applying a request. Each leaves the store
// unchanged: the applier checks before it writes.

export class KeyNotFoundError extends Error {
  override readonly name = 'KeyNotFoundError';
  constructor() {
    super('key not found');
  }
}

export class LeaseNotFoundError extends Error {
  override readonly name = 'LeaseNotFoundError';
  constructor() {
    super('lease not found');
  }
}
