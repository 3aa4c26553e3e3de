// Raw gRPC calls for the requests etcdctl cannot make (count_only, nested
// txns, lease compares, oversized requests, client-chosen lease IDs, alarms
// raised by hand, the Lock and Election services), as promises of an Outcome so
// that a failure is data to compare rather than an exception.
import { Metadata, status, type ServiceError } from '@grpc/grpc-js';
import type {
  AlarmRequest,
  AlarmResponse,
  CompactionRequest,
  CompactionResponse,
  DeleteRangeRequest,
  DeleteRangeResponse,
  DefragmentRequest,
  DefragmentResponse,
  HashKVRequest,
  HashKVResponse,
  KVClient,
  LeaseClient,
  LeaseGrantRequest,
  LeaseGrantResponse,
  LeaseLeasesRequest,
  LeaseLeasesResponse,
  LeaseRevokeRequest,
  LeaseRevokeResponse,
  LeaseTimeToLiveRequest,
  LeaseTimeToLiveResponse,
  MaintenanceClient,
  MoveLeaderRequest,
  MoveLeaderResponse,
  PutRequest,
  PutResponse,
  StatusRequest,
  StatusResponse,
  RangeRequest,
  RangeResponse,
  TxnRequest,
  TxnResponse,
  WatchClient,
} from '../../proto/gen/etcdserverpb/rpc.js';
import type { LockClient, LockRequest, LockResponse, UnlockRequest, UnlockResponse } from '../../proto/gen/v3lockpb/v3lock.js';
import type {
  CampaignRequest,
  CampaignResponse,
  ElectionClient,
  LeaderRequest,
  LeaderResponse,
  ProclaimRequest,
  ProclaimResponse,
  ResignRequest,
  ResignResponse,
} from '../../proto/gen/v3electionpb/v3election.js';

/** A server that never answers fails the test after this long instead of hanging it. */
const rpcDeadlineMs = 10_000;

/** Raw gRPC clients of one server. */
export interface Clients {
  readonly kv: KVClient;
  readonly maintenance: MaintenanceClient;
  readonly lease: LeaseClient;
  readonly watch: WatchClient;
  readonly lock: LockClient;
  readonly election: ElectionClient;
}

/** A unary call's result: the response, or the gRPC status it failed with. */
export type Outcome<T> = { ok: true; response: T } | { ok: false; code: number; details: string };

type Done<T> = (error: ServiceError | null, response: T) => void;

/** The response of a call that must succeed (a scenario's setup step); throws with the gRPC status otherwise. */
export function responseOf<T>(outcome: Outcome<T>, what: string): T {
  if (!outcome.ok) throw new Error(`${what} failed: ${status[outcome.code] ?? outcome.code} ${outcome.details}`);
  return outcome.response;
}

/**
 * Adapts a grpc-js unary call to a promise of its outcome.
 * Usage: `unary<PutResponse>((metadata, options, done) => kv.put(request, metadata, options, done))`.
 */
export function unary<T>(
  start: (metadata: Metadata, options: { deadline: number }, done: Done<T>) => unknown,
  deadlineMs = rpcDeadlineMs,
): Promise<Outcome<T>> {
  return new Promise((resolve) => {
    start(new Metadata(), { deadline: Date.now() + deadlineMs }, (error, response) => {
      if (error !== null) resolve({ ok: false, code: error.code, details: error.details });
      else resolve({ ok: true, response });
    });
  });
}

export function rangeRaw(clients: Clients, request: RangeRequest): Promise<Outcome<RangeResponse>> {
  return unary((metadata, options, done: Done<RangeResponse>) => clients.kv.range(request, metadata, options, done));
}

export function putRaw(clients: Clients, request: PutRequest): Promise<Outcome<PutResponse>> {
  return unary((metadata, options, done: Done<PutResponse>) => clients.kv.put(request, metadata, options, done));
}

export function deleteRangeRaw(clients: Clients, request: DeleteRangeRequest): Promise<Outcome<DeleteRangeResponse>> {
  return unary((metadata, options, done: Done<DeleteRangeResponse>) => clients.kv.deleteRange(request, metadata, options, done));
}

export function txnRaw(clients: Clients, request: TxnRequest): Promise<Outcome<TxnResponse>> {
  return unary((metadata, options, done: Done<TxnResponse>) => clients.kv.txn(request, metadata, options, done));
}

export function compactRaw(clients: Clients, request: CompactionRequest): Promise<Outcome<CompactionResponse>> {
  return unary((metadata, options, done: Done<CompactionResponse>) => clients.kv.compact(request, metadata, options, done));
}

export function hashKvRaw(clients: Clients, request: HashKVRequest): Promise<Outcome<HashKVResponse>> {
  return unary((metadata, options, done: Done<HashKVResponse>) => clients.maintenance.hashKv(request, metadata, options, done));
}

export function alarmRaw(clients: Clients, request: AlarmRequest): Promise<Outcome<AlarmResponse>> {
  return unary((metadata, options, done: Done<AlarmResponse>) => clients.maintenance.alarm(request, metadata, options, done));
}

export function defragmentRaw(clients: Clients, request: DefragmentRequest): Promise<Outcome<DefragmentResponse>> {
  return unary((metadata, options, done: Done<DefragmentResponse>) => clients.maintenance.defragment(request, metadata, options, done));
}

export function moveLeaderRaw(clients: Clients, request: MoveLeaderRequest): Promise<Outcome<MoveLeaderResponse>> {
  return unary((metadata, options, done: Done<MoveLeaderResponse>) => clients.maintenance.moveLeader(request, metadata, options, done));
}

export function statusRaw(clients: Clients, request: StatusRequest): Promise<Outcome<StatusResponse>> {
  return unary((metadata, options, done: Done<StatusResponse>) => clients.maintenance.status(request, metadata, options, done));
}

export function leaseGrantRaw(clients: Clients, request: LeaseGrantRequest): Promise<Outcome<LeaseGrantResponse>> {
  return unary((metadata, options, done: Done<LeaseGrantResponse>) => clients.lease.leaseGrant(request, metadata, options, done));
}

export function leaseRevokeRaw(clients: Clients, request: LeaseRevokeRequest): Promise<Outcome<LeaseRevokeResponse>> {
  return unary((metadata, options, done: Done<LeaseRevokeResponse>) => clients.lease.leaseRevoke(request, metadata, options, done));
}

export function leaseTimeToLiveRaw(clients: Clients, request: LeaseTimeToLiveRequest): Promise<Outcome<LeaseTimeToLiveResponse>> {
  return unary((metadata, options, done: Done<LeaseTimeToLiveResponse>) => clients.lease.leaseTimeToLive(request, metadata, options, done));
}

export function leaseLeasesRaw(clients: Clients, request: LeaseLeasesRequest): Promise<Outcome<LeaseLeasesResponse>> {
  return unary((metadata, options, done: Done<LeaseLeasesResponse>) => clients.lease.leaseLeases(request, metadata, options, done));
}

/**
 * Lock waits while another holder has the lock: `deadlineMs` bounds that
 * wait (a call still blocked at the deadline fails DEADLINE_EXCEEDED).
 */
export function lockRaw(clients: Clients, request: LockRequest, deadlineMs = rpcDeadlineMs): Promise<Outcome<LockResponse>> {
  return unary((metadata, options, done: Done<LockResponse>) => clients.lock.lock(request, metadata, options, done), deadlineMs);
}

export function unlockRaw(clients: Clients, request: UnlockRequest): Promise<Outcome<UnlockResponse>> {
  return unary((metadata, options, done: Done<UnlockResponse>) => clients.lock.unlock(request, metadata, options, done));
}

/** Campaign waits until this candidate leads: `deadlineMs` bounds that wait, as for lockRaw. */
export function campaignRaw(clients: Clients, request: CampaignRequest, deadlineMs = rpcDeadlineMs): Promise<Outcome<CampaignResponse>> {
  return unary((metadata, options, done: Done<CampaignResponse>) => clients.election.campaign(request, metadata, options, done), deadlineMs);
}

export function proclaimRaw(clients: Clients, request: ProclaimRequest): Promise<Outcome<ProclaimResponse>> {
  return unary((metadata, options, done: Done<ProclaimResponse>) => clients.election.proclaim(request, metadata, options, done));
}

export function leaderRaw(clients: Clients, request: LeaderRequest): Promise<Outcome<LeaderResponse>> {
  return unary((metadata, options, done: Done<LeaderResponse>) => clients.election.leader(request, metadata, options, done));
}

export function resignRaw(clients: Clients, request: ResignRequest): Promise<Outcome<ResignResponse>> {
  return unary((metadata, options, done: Done<ResignResponse>) => clients.election.resign(request, metadata, options, done));
}
