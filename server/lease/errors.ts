// Operating errors of the lease module; server/grpc/errors.ts maps them to etcd's wire errors.

export class LeaseExistsError extends Error {
  override readonly name = 'LeaseExistsError';
  constructor() {
    super('lease already exists');
  }
}

export class LeaseTtlTooLargeError extends Error {
  override readonly name = 'LeaseTtlTooLargeError';
  constructor() {
    super('too large lease TTL');
  }
}
