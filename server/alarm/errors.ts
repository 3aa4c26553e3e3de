// Operating errors of alarms and the backend quota. The API layer maps each
// to etcd's gRPC code and message in one table (server/grpc/errors.ts).

/** The backend is full, or a NOSPACE alarm is raised: writes that add data are refused. */
export class NoSpaceError extends Error {
  override readonly name = 'NoSpaceError';
  constructor() {
    super('mvcc: database space exceeded');
  }
}

/** A CORRUPT alarm is raised: every write is refused. */
export class CorruptError extends Error {
  override readonly name = 'CorruptError';
  constructor() {
    super('corrupt cluster');
  }
}
