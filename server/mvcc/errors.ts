// Operating errors of the MVCC store. The API layer maps each to etcd's gRPC
// code and message in one table (server/grpc/errors.ts).

export class CompactedError extends Error {
  override readonly name = 'CompactedError';
  constructor() {
    super('mvcc: required revision has been compacted');
  }
}

export class FutureRevisionError extends Error {
  override readonly name = 'FutureRevisionError';
  constructor() {
    super('mvcc: required revision is a future revision');
  }
}
