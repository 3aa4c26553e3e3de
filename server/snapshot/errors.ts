// Operating errors of `cairn snapshot status|restore`. Each carries the text
// etcdctl 3.4 prints for the same condition (after "Error: "), and the exit
// code etcdctl exits with, so scripts written for etcdctl read cairn alike.

/** etcdctl's exit codes (etcdctl/ctlv3/command/error.go). */
export const ExitCode = {
  error: 1,
  badFeature: 4,
  badArgs: 128,
} as const;
export type ExitCode = (typeof ExitCode)[keyof typeof ExitCode];

/** Every error of the snapshot commands: a message for the operator and an exit code. */
export abstract class SnapshotCommandError extends Error {
  abstract readonly exitCode: ExitCode;
}

/** Wrong number of arguments (etcdctl: exit 128). */
export class SnapshotArgumentsError extends SnapshotCommandError {
  override readonly name = 'SnapshotArgumentsError';
  readonly exitCode = ExitCode.badArgs;
}

/** A flag that does not parse, or is unknown (cobra's words; etcdctl: exit 1). */
export class SnapshotFlagError extends SnapshotCommandError {
  override readonly name = 'SnapshotFlagError';
  readonly exitCode = ExitCode.error;
}

/** An output format status cannot print (etcdctl: exit 4). */
export class OutputFormatError extends SnapshotCommandError {
  override readonly name = 'OutputFormatError';
  readonly exitCode = ExitCode.badFeature;
  constructor(format: string) {
    super(format === 'protobuf' ? 'protobuf not supported as output format' : 'unsupported output format');
  }
}

/** The snapshot file cannot be opened or read. */
export class SnapshotFileUnreadableError extends SnapshotCommandError {
  override readonly name = 'SnapshotFileUnreadableError';
  readonly exitCode = ExitCode.error;
  constructor(operation: 'open' | 'read', path: string, cause: NodeJS.ErrnoException) {
    // Go's os.PathError text: "open FILE: no such file or directory".
    super(`${operation} ${path}: ${describeErrno(cause)}`, { cause });
  }
}

/** The file's last 32 bytes are not the SHA-256 of the rest: it was damaged after it was saved. */
export class SnapshotHashMismatchError extends SnapshotCommandError {
  override readonly name = 'SnapshotHashMismatchError';
  readonly exitCode = ExitCode.error;
  constructor(expected: Uint8Array, got: Uint8Array) {
    // etcd prints both digests as Go prints a []byte: decimal bytes in brackets.
    super(`expected sha256 ${goBytes(expected)}, got ${goBytes(got)}`);
  }
}

/** The file ends with no SHA-256 trailer (a truncated file, or a data file copied by hand). */
export class SnapshotMissingHashError extends SnapshotCommandError {
  override readonly name = 'SnapshotMissingHashError';
  readonly exitCode = ExitCode.error;
  constructor() {
    super('snapshot missing hash but --skip-hash-check=false');
  }
}

/** The file is a snapshot of a known format whose content cannot be used (bbolt's words for a file it cannot open); `detail` says what is wrong. */
export class InvalidSnapshotError extends SnapshotCommandError {
  override readonly name = 'InvalidSnapshotError';
  readonly exitCode = ExitCode.error;
  constructor(readonly detail: string) {
    super('invalid database');
  }
}

/** The file is neither a cairn snapshot (an lmdb image) nor an etcd one (a bbolt database). */
export class UnknownSnapshotFormatError extends SnapshotCommandError {
  override readonly name = 'UnknownSnapshotFormatError';
  readonly exitCode = ExitCode.error;
  constructor(path: string) {
    super(`${path} is not a snapshot file: it is neither an etcd snapshot (a bbolt database) nor a cairn snapshot (an lmdb image)`);
  }
}

/** Restore never writes over a data directory. */
export class DataDirExistsError extends SnapshotCommandError {
  override readonly name = 'DataDirExistsError';
  readonly exitCode = ExitCode.error;
  constructor(dataDir: string) {
    super(`data-dir ${JSON.stringify(dataDir)} exists`);
  }
}

/** --name, --initial-cluster and --initial-advertise-peer-urls do not describe a member of a new cluster. */
export class RestoreMembershipError extends SnapshotCommandError {
  override readonly name = 'RestoreMembershipError';
  readonly exitCode = ExitCode.error;
}

function goBytes(bytes: Uint8Array): string {
  return `[${Array.from(bytes).join(' ')}]`;
}

/** Go's text for the common errno values (syscall.Errno.Error()); Node's code otherwise. */
function describeErrno(error: NodeJS.ErrnoException): string {
  switch (error.code) {
    case 'ENOENT':
      return 'no such file or directory';
    case 'EACCES':
      return 'permission denied';
    case 'EISDIR':
      return 'is a directory';
    default:
      return error.message;
  }
}
