// Operating errors of the SDK: one class per condition, each with a stable
// `name` and the original gRPC error as `cause`. Server errors are chosen by
// gRPC code, then by etcd's exact message (one table, `classify` below) —
// never by substring, because the text is etcd's contract with its clients
// (etcdserver/api/v3rpc/rpctypes/error.go).
import { status, type ServiceError } from '@grpc/grpc-js';

/** gRPC status codes, re-exported as a const object so callers need not import grpc-js. */
export const GrpcCode = {
  Ok: 0,
  Cancelled: 1,
  Unknown: 2,
  InvalidArgument: 3,
  DeadlineExceeded: 4,
  NotFound: 5,
  AlreadyExists: 6,
  PermissionDenied: 7,
  ResourceExhausted: 8,
  FailedPrecondition: 9,
  Aborted: 10,
  OutOfRange: 11,
  Unimplemented: 12,
  Internal: 13,
  Unavailable: 14,
  DataLoss: 15,
  Unauthenticated: 16,
} as const;
/** A gRPC status code. */
export type GrpcCode = (typeof GrpcCode)[keyof typeof GrpcCode];

/** Options every SDK error takes: the error that caused it and, for server errors, the gRPC code. */
export interface EtcdErrorOptions {
  cause?: unknown;
  code?: GrpcCode;
}

/**
 * Base class of every error the SDK throws or emits. `code` is the gRPC status
 * code when the error came from the server or the transport, otherwise undefined.
 */
export class EtcdError extends Error {
  override name = 'EtcdError';
  /** gRPC status code, when the error came over the wire. */
  readonly code: GrpcCode | undefined;
  constructor(message: string, options: EtcdErrorOptions = {}) {
    super(message, { cause: options.cause });
    this.code = options.code;
  }
}

// ---- Request errors (the request itself is wrong; retrying it cannot help) ----

/** `etcdserver: key is not provided` — an empty key. */
export class EmptyKeyError extends EtcdError { override name = 'EmptyKeyError'; }
/** `etcdserver: key not found` — `ignoreValue`/`ignoreLease` on a key that does not exist. */
export class KeyNotFoundError extends EtcdError { override name = 'KeyNotFoundError'; }
/** `etcdserver: value is provided` — a value together with `ignoreValue`. */
export class ValueProvidedError extends EtcdError { override name = 'ValueProvidedError'; }
/** `etcdserver: lease is provided` — a lease together with `ignoreLease`. */
export class LeaseProvidedError extends EtcdError { override name = 'LeaseProvidedError'; }
/** `etcdserver: too many operations in txn request` — above the server's `--max-txn-ops` (128 by default). */
export class TooManyOperationsError extends EtcdError { override name = 'TooManyOperationsError'; }
/** `etcdserver: duplicate key given in txn request` — one key written twice in a txn branch. */
export class DuplicateKeyError extends EtcdError { override name = 'DuplicateKeyError'; }
/** `etcdserver: request is too large` — above the server's `--max-request-bytes`. */
export class RequestTooLargeError extends EtcdError { override name = 'RequestTooLargeError'; }

/**
 * `etcdserver: mvcc: required revision has been compacted`, or a watch
 * cancelled because its start revision was compacted. `compactRevision` is the
 * oldest revision still available when the server told us (watches only;
 * undefined for unary reads, where etcd does not say).
 */
export class CompactedError extends EtcdError {
  override name = 'CompactedError';
  constructor(message: string, readonly compactRevision: bigint | undefined, options: EtcdErrorOptions = {}) {
    super(message, options);
  }
}
/** `etcdserver: mvcc: required revision is a future revision`. */
export class FutureRevisionError extends EtcdError { override name = 'FutureRevisionError'; }

// ---- Lease errors ----

/** `etcdserver: requested lease not found`. */
export class LeaseNotFoundError extends EtcdError { override name = 'LeaseNotFoundError'; }
/** `etcdserver: lease already exists` — a grant with an explicit ID that is taken. */
export class LeaseExistsError extends EtcdError { override name = 'LeaseExistsError'; }
/** `etcdserver: too large lease TTL` — above 9,000,000,000 s. */
export class LeaseTtlTooLargeError extends EtcdError { override name = 'LeaseTtlTooLargeError'; }

/** Why a kept-alive lease was lost. */
export const LeaseLostReason = {
  /** The server answered a keep-alive with TTL 0: the lease was revoked or expired. */
  NotFound: 'not-found',
  /** No keep-alive succeeded before the TTL of the last successful one ran out. */
  Expired: 'expired',
} as const;
/** Why a kept-alive lease was lost. */
export type LeaseLostReason = (typeof LeaseLostReason)[keyof typeof LeaseLostReason];

/** Emitted by `keepAlive$` when the lease can no longer be kept alive. */
export class LeaseLostError extends EtcdError {
  override name = 'LeaseLostError';
  constructor(readonly leaseId: bigint, readonly reason: LeaseLostReason, options: EtcdErrorOptions = {}) {
    super(`lease ${leaseId.toString(16)} lost: ${reason}`, options);
  }
}

// ---- Capacity and availability ----

/** `etcdserver: mvcc: database space exceeded` — the backend quota is full; compact and defragment. */
export class NoSpaceError extends EtcdError { override name = 'NoSpaceError'; }
/** `etcdserver: too many requests` — the server's proposal backlog is full; the request was not applied. */
export class TooManyRequestsError extends EtcdError { override name = 'TooManyRequestsError'; }
/** `etcdserver: no leader`. */
export class NoLeaderError extends EtcdError { override name = 'NoLeaderError'; }
/** `etcdserver: not leader`. */
export class NotLeaderError extends EtcdError { override name = 'NotLeaderError'; }
/** `etcdserver: leader changed` — the outcome of the request is unknown. */
export class LeaderChangedError extends EtcdError { override name = 'LeaderChangedError'; }
/** `etcdserver: not capable` — the cluster version does not support the request. */
export class NotCapableError extends EtcdError { override name = 'NotCapableError'; }
/** `etcdserver: server stopped`. */
export class ServerStoppedError extends EtcdError { override name = 'ServerStoppedError'; }
/** `etcdserver: request timed out` and its variants — the outcome of a write is unknown. */
export class RequestTimeoutError extends EtcdError { override name = 'RequestTimeoutError'; }
/** `etcdserver: unhealthy cluster`. */
export class UnhealthyClusterError extends EtcdError { override name = 'UnhealthyClusterError'; }
/** `etcdserver: rpc not supported for learner`. */
export class LearnerNotSupportedError extends EtcdError { override name = 'LearnerNotSupportedError'; }
/** `etcdserver: corrupt cluster`. */
export class CorruptClusterError extends EtcdError { override name = 'CorruptClusterError'; }

/**
 * The endpoint could not be reached, or the connection broke. `applied` tells
 * what is known of a write: `'no'` when the request never left this process,
 * `'unknown'` when it may have reached the server.
 */
export class UnavailableError extends EtcdError {
  override name = 'UnavailableError';
  constructor(message: string, readonly applied: 'no' | 'unknown', options: EtcdErrorOptions = {}) {
    super(message, options);
  }
}

// ---- Membership ----

/** `etcdserver: member ID already exist`. */
export class MemberExistsError extends EtcdError { override name = 'MemberExistsError'; }
/** `etcdserver: Peer URLs already exists` — another member has one of the peer URLs. */
export class PeerUrlExistsError extends EtcdError { override name = 'PeerUrlExistsError'; }
/** `etcdserver: re-configuration failed due to not enough started members` — adding a voter would lose quorum (etcd's strict reconfiguration check). */
export class MemberNotEnoughStartedError extends EtcdError { override name = 'MemberNotEnoughStartedError'; }
/** `etcdserver: given member URLs are invalid`. */
export class MemberBadUrlsError extends EtcdError { override name = 'MemberBadUrlsError'; }
/** `etcdserver: member not found`. */
export class MemberNotFoundError extends EtcdError { override name = 'MemberNotFoundError'; }
/** `etcdserver: can only promote a learner member` — the member is a voter already. */
export class MemberNotLearnerError extends EtcdError { override name = 'MemberNotLearnerError'; }
/** `etcdserver: can only promote a learner member which is in sync with leader` — retry once the learner has caught up. */
export class LearnerNotReadyError extends EtcdError { override name = 'LearnerNotReadyError'; }
/** `etcdserver: too many learner members in cluster` — etcd allows one learner. */
export class TooManyLearnersError extends EtcdError { override name = 'TooManyLearnersError'; }
/** `etcdserver: bad leader transferee` — `moveLeader` to a member that cannot lead (unknown, or a learner). */
export class BadLeaderTransfereeError extends EtcdError { override name = 'BadLeaderTransfereeError'; }

// ---- Auth ----

/** `etcdserver: permission denied`. */
export class PermissionDeniedError extends EtcdError { override name = 'PermissionDeniedError'; }
/** `etcdserver: invalid auth token` (after one refresh of the token failed to help). */
export class InvalidAuthTokenError extends EtcdError { override name = 'InvalidAuthTokenError'; }
/** `etcdserver: authentication failed, invalid user ID or password`. */
export class AuthFailedError extends EtcdError { override name = 'AuthFailedError'; }
/** `etcdserver: user name is empty` — auth is enabled and the call carried no token (connect with `auth`). */
export class UserEmptyError extends EtcdError { override name = 'UserEmptyError'; }
/** `etcdserver: authentication is not enabled`. */
export class AuthNotEnabledError extends EtcdError { override name = 'AuthNotEnabledError'; }
/**
 * `etcdserver: revision of auth store is old` — the users or roles changed
 * between the server's check of the call's token and its applying the call,
 * which was therefore not applied (retried with a fresh token when the
 * client authenticates; a JWT names the revision it was issued at).
 */
export class AuthOldRevisionError extends EtcdError { override name = 'AuthOldRevisionError'; }

// ---- Watch ----

/** The server cancelled a watch for a reason other than compaction (`reason` is its `cancel_reason`). */
export class WatchCanceledError extends EtcdError {
  override name = 'WatchCanceledError';
  constructor(readonly reason: string, options: EtcdErrorOptions = {}) {
    super(reason === '' ? 'watch canceled by the server' : reason, options);
  }
}

/**
 * `requestWatchProgress` without an open watch: the request travels on the
 * shared watch stream, which is open only while some `watch$` is subscribed
 * (also when the last one is unsubscribed before the answer came).
 */
export class NoActiveWatchError extends EtcdError { override name = 'NoActiveWatchError'; }

// ---- Software transactional memory ----

/**
 * An STM transaction conflicted with other writers on every attempt: the
 * first and `retries` more. `conflicts` counts them; nothing was written.
 */
export class StmConflictError extends EtcdError {
  override name = 'StmConflictError';
  constructor(readonly conflicts: number, options: EtcdErrorOptions = {}) {
    super(`stm: the transaction conflicted with other writers ${conflicts} times; retries exhausted`, options);
  }
}

// ---- Maintenance ----

/**
 * A snapshot whose last 32 bytes are not the SHA-256 of the bytes before
 * them (or that is shorter than 32 bytes): it was cut short or corrupted and
 * must not be restored. A file being written is removed.
 */
export class SnapshotChecksumError extends EtcdError { override name = 'SnapshotChecksumError'; }

// ---- Caller-side conditions ----

/** The call's `AbortSignal` fired; `cause` is the signal's reason. */
export class AbortedError extends EtcdError { override name = 'AbortedError'; }
/** The call's deadline passed (locally, or the server said `DeadlineExceeded`). */
export class DeadlineExceededError extends EtcdError { override name = 'DeadlineExceededError'; }
/** The client was closed. */
export class ClientClosedError extends EtcdError { override name = 'ClientClosedError'; }
/** Invalid arguments or options detected before anything was sent. */
export class InvalidOptionError extends EtcdError { override name = 'InvalidOptionError'; }
/** An http:// endpoint where the connection uses TLS (tls options, or an https:// endpoint): the client never downgrades to plaintext. */
export class InsecureEndpointError extends InvalidOptionError { override name = 'InsecureEndpointError'; }
/** A server error that no other class describes; `code` and `message` are the server's. */
export class UnknownServerError extends EtcdError { override name = 'UnknownServerError'; }

type ErrorFactory = (message: string, options: EtcdErrorOptions) => EtcdError;
const plain = (type: new (message: string, options: EtcdErrorOptions) => EtcdError): ErrorFactory =>
  (message, options) => new type(message, options);

/**
 * The one table: gRPC code + etcd's exact message → error class. Keys are
 * `${code} ${message}`. Messages are etcd 3.4/3.5's (rpctypes/error.go).
 */
const byCodeAndMessage = new Map<string, ErrorFactory>([
  [key(status.INVALID_ARGUMENT, 'etcdserver: key is not provided'), plain(EmptyKeyError)],
  [key(status.INVALID_ARGUMENT, 'etcdserver: key not found'), plain(KeyNotFoundError)],
  [key(status.INVALID_ARGUMENT, 'etcdserver: value is provided'), plain(ValueProvidedError)],
  [key(status.INVALID_ARGUMENT, 'etcdserver: lease is provided'), plain(LeaseProvidedError)],
  [key(status.INVALID_ARGUMENT, 'etcdserver: too many operations in txn request'), plain(TooManyOperationsError)],
  [key(status.INVALID_ARGUMENT, 'etcdserver: duplicate key given in txn request'), plain(DuplicateKeyError)],
  [key(status.INVALID_ARGUMENT, 'etcdserver: request is too large'), plain(RequestTooLargeError)],
  [key(status.OUT_OF_RANGE, 'etcdserver: mvcc: required revision has been compacted'),
    (message, options) => new CompactedError(message, undefined, options)],
  [key(status.OUT_OF_RANGE, 'etcdserver: mvcc: required revision is a future revision'), plain(FutureRevisionError)],
  [key(status.RESOURCE_EXHAUSTED, 'etcdserver: mvcc: database space exceeded'), plain(NoSpaceError)],
  [key(status.RESOURCE_EXHAUSTED, 'etcdserver: too many requests'), plain(TooManyRequestsError)],
  [key(status.NOT_FOUND, 'etcdserver: requested lease not found'), plain(LeaseNotFoundError)],
  [key(status.FAILED_PRECONDITION, 'etcdserver: lease already exists'), plain(LeaseExistsError)],
  [key(status.OUT_OF_RANGE, 'etcdserver: too large lease TTL'), plain(LeaseTtlTooLargeError)],
  [key(status.UNAVAILABLE, 'etcdserver: no leader'), plain(NoLeaderError)],
  [key(status.FAILED_PRECONDITION, 'etcdserver: not leader'), plain(NotLeaderError)],
  [key(status.UNAVAILABLE, 'etcdserver: leader changed'), plain(LeaderChangedError)],
  [key(status.UNAVAILABLE, 'etcdserver: not capable'), plain(NotCapableError)],
  [key(status.UNAVAILABLE, 'etcdserver: server stopped'), plain(ServerStoppedError)],
  [key(status.UNAVAILABLE, 'etcdserver: request timed out'), plain(RequestTimeoutError)],
  [key(status.UNAVAILABLE, 'etcdserver: request timed out, possibly due to previous leader failure'), plain(RequestTimeoutError)],
  [key(status.UNAVAILABLE, 'etcdserver: request timed out, possibly due to connection lost'), plain(RequestTimeoutError)],
  [key(status.UNAVAILABLE, 'etcdserver: request timed out, waiting for the applied index took too long'), plain(RequestTimeoutError)],
  [key(status.UNAVAILABLE, 'etcdserver: unhealthy cluster'), plain(UnhealthyClusterError)],
  [key(status.UNAVAILABLE, 'etcdserver: rpc not supported for learner'), plain(LearnerNotSupportedError)],
  [key(status.DATA_LOSS, 'etcdserver: corrupt cluster'), plain(CorruptClusterError)],
  [key(status.FAILED_PRECONDITION, 'etcdserver: bad leader transferee'), plain(BadLeaderTransfereeError)],
  [key(status.FAILED_PRECONDITION, 'etcdserver: member ID already exist'), plain(MemberExistsError)],
  [key(status.FAILED_PRECONDITION, 'etcdserver: Peer URLs already exists'), plain(PeerUrlExistsError)],
  [key(status.FAILED_PRECONDITION, 'etcdserver: re-configuration failed due to not enough started members'), plain(MemberNotEnoughStartedError)],
  [key(status.INVALID_ARGUMENT, 'etcdserver: given member URLs are invalid'), plain(MemberBadUrlsError)],
  [key(status.NOT_FOUND, 'etcdserver: member not found'), plain(MemberNotFoundError)],
  [key(status.FAILED_PRECONDITION, 'etcdserver: can only promote a learner member'), plain(MemberNotLearnerError)],
  [key(status.FAILED_PRECONDITION, 'etcdserver: can only promote a learner member which is in sync with leader'), plain(LearnerNotReadyError)],
  [key(status.FAILED_PRECONDITION, 'etcdserver: too many learner members in cluster'), plain(TooManyLearnersError)],
  [key(status.PERMISSION_DENIED, 'etcdserver: permission denied'), plain(PermissionDeniedError)],
  [key(status.UNAUTHENTICATED, 'etcdserver: invalid auth token'), plain(InvalidAuthTokenError)],
  [key(status.INVALID_ARGUMENT, 'etcdserver: authentication failed, invalid user ID or password'), plain(AuthFailedError)],
  [key(status.FAILED_PRECONDITION, 'etcdserver: authentication is not enabled'), plain(AuthNotEnabledError)],
  [key(status.INVALID_ARGUMENT, 'etcdserver: user name is empty'), plain(UserEmptyError)],
  [key(status.INVALID_ARGUMENT, 'etcdserver: revision of auth store is old'), plain(AuthOldRevisionError)],
  [key(status.CANCELLED, 'etcdserver: request canceled'), plain(AbortedError)],
  [key(status.DEADLINE_EXCEEDED, 'etcdserver: context deadline exceeded'), plain(DeadlineExceededError)],
]);

function key(code: number, message: string): string {
  return `${code} ${message}`;
}

/** Go's names of the gRPC codes, as a Go status error prints them (Go spells "Canceled" with one l). */
const codeByGoName = new Map<string, GrpcCode>([
  ['OK', GrpcCode.Ok], ['Canceled', GrpcCode.Cancelled], ['Unknown', GrpcCode.Unknown], ['InvalidArgument', GrpcCode.InvalidArgument],
  ['DeadlineExceeded', GrpcCode.DeadlineExceeded], ['NotFound', GrpcCode.NotFound], ['AlreadyExists', GrpcCode.AlreadyExists],
  ['PermissionDenied', GrpcCode.PermissionDenied], ['ResourceExhausted', GrpcCode.ResourceExhausted],
  ['FailedPrecondition', GrpcCode.FailedPrecondition], ['Aborted', GrpcCode.Aborted], ['OutOfRange', GrpcCode.OutOfRange],
  ['Unimplemented', GrpcCode.Unimplemented], ['Internal', GrpcCode.Internal], ['Unavailable', GrpcCode.Unavailable],
  ['DataLoss', GrpcCode.DataLoss], ['Unauthenticated', GrpcCode.Unauthenticated],
]);

/** Go's `status.Error(...).Error()`: `rpc error: code = <name> desc = <message>` (the message may hold anything, newlines too). */
const goStatusText = /^rpc error: code = ([A-Za-z]+) desc = ([\s\S]*)$/;

/**
 * The typed error of a watch the server cancelled for `reason` (its
 * `cancel_reason`). etcd puts a gRPC error there as Go prints it when auth
 * refuses a watch — "rpc error: code = PermissionDenied desc = etcdserver:
 * permission denied", or "… code = Unauthenticated desc = etcdserver: invalid
 * auth token" for a token the member no longer knows (etcd 3.4.23 and cairn
 * alike) — so that text is read back into its code and message and
 * classified through the one table, exactly, like a unary call's error
 * (PermissionDeniedError, InvalidAuthTokenError, …), with the
 * WatchCanceledError as `cause`. Any other reason, or a (code, message) the
 * table does not know, stays a WatchCanceledError carrying the reason.
 */
export function watchCancelError(reason: string): EtcdError {
  const canceled = new WatchCanceledError(reason);
  const parsed = goStatusText.exec(reason);
  const code = parsed?.[1] === undefined ? undefined : codeByGoName.get(parsed[1]);
  const message = parsed?.[2];
  if (code === undefined || message === undefined) return canceled;
  const factory = byCodeAndMessage.get(key(code, message));
  return factory === undefined ? canceled : factory(message, { cause: canceled, code });
}

/** Whether `value` looks like a grpc-js ServiceError (a status code and details). */
export function isServiceError(value: unknown): value is ServiceError {
  return value instanceof Error && typeof (value as Partial<ServiceError>).code === 'number' &&
    typeof (value as Partial<ServiceError>).details === 'string';
}

/**
 * Turns an error from grpc-js into the SDK's typed error: first by the exact
 * (code, etcd message) pair, then by code alone for transport conditions.
 * `applied` says what is known about a write when the error is Unavailable.
 */
export function classify(error: unknown, applied: 'no' | 'unknown' = 'unknown'): EtcdError {
  if (error instanceof EtcdError) return error;
  if (!isServiceError(error)) {
    return new UnknownServerError(String((error as Error)?.message ?? error), { cause: error });
  }
  const code = error.code as GrpcCode;
  const message = error.details;
  const options = { cause: error, code };
  const factory = byCodeAndMessage.get(key(code, message));
  if (factory !== undefined) return factory(message, options);
  switch (code) {
    case GrpcCode.Unavailable:
      return new UnavailableError(message === '' ? 'endpoint unavailable' : message, applied, options);
    case GrpcCode.DeadlineExceeded:
      return new DeadlineExceededError(message === '' ? 'deadline exceeded' : message, options);
    case GrpcCode.Cancelled:
      return new AbortedError(message === '' ? 'call cancelled' : message, options);
    default:
      return new UnknownServerError(message, options);
  }
}
