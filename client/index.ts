// The public surface of the cairn SDK. Everything an application may import is
// listed here; other modules under client/ are internal and may change.

export { connect, Client, type ClientOptions } from './client.js';
export type { CallOptions, ConnectOptions, RetryOptions, AuthOptions } from './connection.js';
export type { TlsOptions } from './tls.js';
export { codecs, bytesCodec, stringCodec, jsonCodec, type Codec } from './codec.js';
export { prefixEnd, type Key, type KeySelector } from './keys.js';
export {
  SortOrder,
  SortTarget,
  type KeyValue,
  type Header,
  type RangeOptions,
  type RangeResult,
  type PutOptions,
  type PutResult,
  type DeleteOptions,
  type DeleteResult,
  type CompactOptions,
  type RawValue,
  type KV,
} from './kv.js';
export {
  compare,
  op,
  Txn,
  CompareTarget,
  type CompareOperator,
  type Comparison,
  type Op,
  type OpResult,
  type TxnResult,
  type TxnSpec,
} from './txn.js';
export type { Leases, LeaseGrant, LeaseTimeToLive, KeepAlive, KeepAliveOptions } from './lease.js';
export { EventType, WatchFilter, type WatchBatch, type WatchEvent, type WatchOptions, type WatchProgress } from './watch.js';
export type { Cluster, Member, Membership } from './cluster.js';
export {
  AlarmType,
  type Maintenance,
  type MemberStatus,
  type MemberCallOptions,
  type AlarmMember,
  type KeyValueHash,
  type SnapshotInfo,
} from './maintenance.js';
export { Isolation, type Stm, type StmOptions, type StmPutOptions, type StmResult } from './stm.js';
export {
  GrpcCode,
  EtcdError,
  EmptyKeyError,
  KeyNotFoundError,
  ValueProvidedError,
  LeaseProvidedError,
  TooManyOperationsError,
  DuplicateKeyError,
  RequestTooLargeError,
  CompactedError,
  FutureRevisionError,
  LeaseNotFoundError,
  LeaseExistsError,
  LeaseTtlTooLargeError,
  LeaseLostReason,
  LeaseLostError,
  NoSpaceError,
  TooManyRequestsError,
  NoLeaderError,
  NotLeaderError,
  LeaderChangedError,
  NotCapableError,
  ServerStoppedError,
  RequestTimeoutError,
  UnhealthyClusterError,
  LearnerNotSupportedError,
  CorruptClusterError,
  MemberExistsError,
  PeerUrlExistsError,
  MemberNotEnoughStartedError,
  MemberBadUrlsError,
  MemberNotFoundError,
  MemberNotLearnerError,
  LearnerNotReadyError,
  TooManyLearnersError,
  BadLeaderTransfereeError,
  UnavailableError,
  PermissionDeniedError,
  InvalidAuthTokenError,
  AuthFailedError,
  AuthNotEnabledError,
  UserEmptyError,
  AuthOldRevisionError,
  WatchCanceledError,
  NoActiveWatchError,
  StmConflictError,
  SnapshotChecksumError,
  AbortedError,
  DeadlineExceededError,
  ClientClosedError,
  InvalidOptionError,
  InsecureEndpointError,
  UnknownServerError,
  type EtcdErrorOptions,
} from './errors.js';
