// The one table that turns domain errors into etcd's gRPC code and message.
// Clients match on the message text, so the strings are exactly etcd's
// (etcdserver/api/v3rpc/rpctypes/error.go). The domain modules raise typed
// errors and know nothing of gRPC; every answer to a client or a peer maps
// them here.
import { status, type ServiceError, Metadata } from '@grpc/grpc-js';
import { KeyNotFoundError, LeaseNotFoundError } from '../apply/errors.js';
import {
  ElectionNoLeaderError,
  ElectionNotLeaderError,
  MissingLeaderKeyError,
  SessionExpiredError,
  WaitCancelledError,
} from '../coordination/errors.js';
import { LeaseExistsError, LeaseTtlTooLargeError } from '../lease/errors.js';
import { CompactedError, FutureRevisionError } from '../mvcc/errors.js';
import {
  BadLeaderTransfereeError,
  LeaderChangedError,
  LearnerNotSupportedError,
  NoLeaderError,
  NotLeaderError,
  RequestTimeoutError,
  RequestTooLargeError,
  ServerStoppedError,
  TooManyRequestsError,
} from '../node/errors.js';
import {
  LearnerNotReadyError,
  MemberBadUrlsError,
  MemberExistsError,
  MemberNotFoundError,
  MemberNotLearnerError,
  PeerUrlExistsError,
  TooManyLearnersError,
} from '../membership/errors.js';
import { CorruptError, NoSpaceError } from '../alarm/errors.js';
import {
  AuthFailedError,
  AuthNotEnabledError,
  AuthOldRevisionError,
  InvalidAuthManagementError,
  InvalidAuthTokenError,
  NoPasswordUserError,
  PermissionDeniedError,
  PermissionNotGrantedError,
  RoleAlreadyExistsError,
  RoleEmptyError,
  RoleNotFoundError,
  RoleNotGrantedError,
  RootRoleNotExistError,
  RootUserNotExistError,
  UserAlreadyExistsError,
  UserEmptyError,
  UserNotFoundError,
} from '../auth/errors.js';
import { DuplicateKeyError, EmptyKeyError, EmptyRequestOpError, LeaseProvidedError, TooManyTxnOpsError, ValueProvidedError } from '../requests/errors.js';

/**
 * An answer whose wire code and message are known already: one the API layer
 * gives itself, or a leader's answer passed on (api/forwarder.ts).
 */
export class RequestError extends Error {
  override readonly name = 'RequestError';
  constructor(readonly code: status, message: string) {
    super(message);
  }
}

export const requestErrors = {
  /** What grpc-go answers for a method its server does not have: etcd 3.4 for 3.5's Downgrade. */
  downgradeUnknown: () => new RequestError(status.UNIMPLEMENTED, 'unknown method Downgrade for service etcdserverpb.Maintenance'),
} as const;

export interface WireError {
  code: status;
  message: string;
}

const table: Array<[new (...args: never[]) => Error, WireError]> = [
  [EmptyKeyError, { code: status.INVALID_ARGUMENT, message: 'etcdserver: key is not provided' }],
  [EmptyRequestOpError, { code: status.INVALID_ARGUMENT, message: 'etcdserver: key not found' }],
  [ValueProvidedError, { code: status.INVALID_ARGUMENT, message: 'etcdserver: value is provided' }],
  [LeaseProvidedError, { code: status.INVALID_ARGUMENT, message: 'etcdserver: lease is provided' }],
  [TooManyTxnOpsError, { code: status.INVALID_ARGUMENT, message: 'etcdserver: too many operations in txn request' }],
  [DuplicateKeyError, { code: status.INVALID_ARGUMENT, message: 'etcdserver: duplicate key given in txn request' }],
  [KeyNotFoundError, { code: status.INVALID_ARGUMENT, message: 'etcdserver: key not found' }],
  [LeaseNotFoundError, { code: status.NOT_FOUND, message: 'etcdserver: requested lease not found' }],
  [LeaseExistsError, { code: status.FAILED_PRECONDITION, message: 'etcdserver: lease already exists' }],
  [LeaseTtlTooLargeError, { code: status.OUT_OF_RANGE, message: 'etcdserver: too large lease TTL' }],
  [CompactedError, { code: status.OUT_OF_RANGE, message: 'etcdserver: mvcc: required revision has been compacted' }],
  [FutureRevisionError, { code: status.OUT_OF_RANGE, message: 'etcdserver: mvcc: required revision is a future revision' }],
  [TooManyRequestsError, { code: status.RESOURCE_EXHAUSTED, message: 'etcdserver: too many requests' }],
  [RequestTooLargeError, { code: status.INVALID_ARGUMENT, message: 'etcdserver: request is too large' }],
  [SessionExpiredError, { code: status.UNKNOWN, message: 'mutex: session is expired' }],
  [WaitCancelledError, { code: status.CANCELLED, message: 'context canceled' }],
  [ElectionNotLeaderError, { code: status.UNKNOWN, message: 'election: not leader' }],
  [ElectionNoLeaderError, { code: status.UNKNOWN, message: 'election: no leader' }],
  [MissingLeaderKeyError, { code: status.UNKNOWN, message: '"leader" field must be provided' }],
  [ServerStoppedError, { code: status.UNAVAILABLE, message: 'etcdserver: server stopped' }],
  [NoLeaderError, { code: status.UNAVAILABLE, message: 'etcdserver: no leader' }],
  [NotLeaderError, { code: status.FAILED_PRECONDITION, message: 'etcdserver: not leader' }],
  [LeaderChangedError, { code: status.UNAVAILABLE, message: 'etcdserver: leader changed' }],
  [RequestTimeoutError, { code: status.UNAVAILABLE, message: 'etcdserver: request timed out' }],
  [BadLeaderTransfereeError, { code: status.FAILED_PRECONDITION, message: 'etcdserver: bad leader transferee' }],
  [LearnerNotSupportedError, { code: status.UNAVAILABLE, message: 'etcdserver: rpc not supported for learner' }],
  [MemberNotFoundError, { code: status.NOT_FOUND, message: 'etcdserver: member not found' }],
  [MemberExistsError, { code: status.FAILED_PRECONDITION, message: 'etcdserver: member ID already exist' }],
  [PeerUrlExistsError, { code: status.FAILED_PRECONDITION, message: 'etcdserver: Peer URLs already exists' }],
  [MemberBadUrlsError, { code: status.INVALID_ARGUMENT, message: 'etcdserver: given member URLs are invalid' }],
  [MemberNotLearnerError, { code: status.FAILED_PRECONDITION, message: 'etcdserver: can only promote a learner member' }],
  [LearnerNotReadyError, { code: status.FAILED_PRECONDITION, message: 'etcdserver: can only promote a learner member which is in sync with leader' }],
  [TooManyLearnersError, { code: status.FAILED_PRECONDITION, message: 'etcdserver: too many learner members in cluster' }],
  [NoSpaceError, { code: status.RESOURCE_EXHAUSTED, message: 'etcdserver: mvcc: database space exceeded' }],
  [CorruptError, { code: status.DATA_LOSS, message: 'etcdserver: corrupt cluster' }],
  [RootUserNotExistError, { code: status.FAILED_PRECONDITION, message: 'etcdserver: root user does not exist' }],
  [RootRoleNotExistError, { code: status.FAILED_PRECONDITION, message: 'etcdserver: root user does not have root role' }],
  [UserAlreadyExistsError, { code: status.FAILED_PRECONDITION, message: 'etcdserver: user name already exists' }],
  [UserEmptyError, { code: status.INVALID_ARGUMENT, message: 'etcdserver: user name is empty' }],
  [UserNotFoundError, { code: status.FAILED_PRECONDITION, message: 'etcdserver: user name not found' }],
  [RoleAlreadyExistsError, { code: status.FAILED_PRECONDITION, message: 'etcdserver: role name already exists' }],
  [RoleNotFoundError, { code: status.FAILED_PRECONDITION, message: 'etcdserver: role name not found' }],
  [RoleEmptyError, { code: status.INVALID_ARGUMENT, message: 'etcdserver: role name is empty' }],
  [AuthFailedError, { code: status.INVALID_ARGUMENT, message: 'etcdserver: authentication failed, invalid user ID or password' }],
  // etcd maps no gRPC error to this one: its message goes out as is, with code Unknown.
  [NoPasswordUserError, { code: status.UNKNOWN, message: 'auth: authentication failed, password was given for no password user' }],
  [PermissionDeniedError, { code: status.PERMISSION_DENIED, message: 'etcdserver: permission denied' }],
  [RoleNotGrantedError, { code: status.FAILED_PRECONDITION, message: 'etcdserver: role is not granted to the user' }],
  [PermissionNotGrantedError, { code: status.FAILED_PRECONDITION, message: 'etcdserver: permission is not granted to the role' }],
  [AuthNotEnabledError, { code: status.FAILED_PRECONDITION, message: 'etcdserver: authentication is not enabled' }],
  [InvalidAuthTokenError, { code: status.UNAUTHENTICATED, message: 'etcdserver: invalid auth token' }],
  [InvalidAuthManagementError, { code: status.INVALID_ARGUMENT, message: 'etcdserver: invalid auth management' }],
  [AuthOldRevisionError, { code: status.INVALID_ARGUMENT, message: 'etcdserver: revision of auth store is old' }],
];

/**
 * Every (code, message) this module puts on the wire for a known error: the
 * table and requestErrors. Tests check answers against it (test/fuzz/).
 */
export function knownWireErrors(): WireError[] {
  const requests = Object.values(requestErrors).map((make) => make());
  return [...table.map(([, wire]) => wire), ...requests.map((error) => ({ code: error.code, message: error.message }))];
}

/** Go's names of the gRPC codes, as its status errors print them. */
const goCodeNames = [
  'OK', 'Canceled', 'Unknown', 'InvalidArgument', 'DeadlineExceeded', 'NotFound', 'AlreadyExists', 'PermissionDenied',
  'ResourceExhausted', 'FailedPrecondition', 'Aborted', 'OutOfRange', 'Unimplemented', 'Internal', 'Unavailable', 'DataLoss', 'Unauthenticated',
];

/**
 * `error` as a Go gRPC status error prints itself: "rpc error: code =
 * PermissionDenied desc = etcdserver: permission denied". etcd puts that
 * text into a watch's cancel reason when auth refuses the watch.
 */
export function goStatusText(error: unknown): string {
  const wire = toServiceError(error);
  const code = wire.code ?? status.UNKNOWN;
  return `rpc error: code = ${goCodeNames[code] ?? `Code(${code})`} desc = ${wire.details ?? ''}`;
}

/** The gRPC error a client sees for `error`. */
export function toServiceError(error: unknown): Partial<ServiceError> {
  if (error instanceof RequestError) return serviceError({ code: error.code, message: error.message });
  for (const [type, wire] of table) {
    if (error instanceof type) return serviceError(wire);
  }
  console.error('cairn: unexpected error while serving a request:', error);
  return serviceError({ code: status.UNKNOWN, message: String((error as Error)?.message ?? error) });
}

function serviceError(wire: WireError): Partial<ServiceError> {
  return { code: wire.code, details: wire.message, message: wire.message, metadata: new Metadata() };
}
