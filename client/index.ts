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
export { EventType, WatchFilter, type WatchBatch, type WatchEvent, type WatchOptions } from './watch.js';
export type { Cluster, Member, MemberStatus } from './cluster.js';
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
  UnavailableError,
  PermissionDeniedError,
  InvalidAuthTokenError,
  AuthFailedError,
  AuthNotEnabledError,
  UserEmptyError,
  AuthOldRevisionError,
  WatchCanceledError,
  AbortedError,
  DeadlineExceededError,
  ClientClosedError,
  InvalidOptionError,
  InsecureEndpointError,
  UnknownServerError,
  type EtcdErrorOptions,
} from './errors.js';
