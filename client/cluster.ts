// Cluster membership and member status.
import {
  MemberListRequest,
  MoveLeaderRequest,
  StatusRequest,
  type MemberListResponse,
  type MoveLeaderResponse,
  type StatusResponse,
} from '../proto/gen/etcdserverpb/rpc.js';
import { Idempotency, Service, type CallOptions, type Connection } from './connection.js';
import { toHeader, type Header } from './kv.js';

/** One cluster member. */
export interface Member {
  id: bigint;
  /** Empty for a member added but not yet started. */
  name: string;
  peerUrls: string[];
  clientUrls: string[];
  isLearner: boolean;
}

/** Status of the member that answered. */
export interface MemberStatus {
  header: Header;
  /** Server version string (etcd's or cairn's). */
  version: string;
  dbSizeBytes: bigint;
  dbSizeInUseBytes: bigint;
  /** Member ID of the current leader (0n when none). */
  leader: bigint;
  raftIndex: bigint;
  raftTerm: bigint;
  raftAppliedIndex: bigint;
  /** Alarm and health messages. */
  errors: string[];
  isLearner: boolean;
}

/** Cluster and maintenance operations of a client. */
export class Cluster {
  /** @internal */
  constructor(private readonly connection: Connection) {}

  /** The cluster's members. `linearizable` (etcd ≥ 3.5) asks for a consensus read; older servers ignore it. */
  async memberList(options: { linearizable?: boolean } & CallOptions = {}): Promise<{ header: Header; members: Member[] }> {
    const request = MemberListRequest.fromPartial({ linearizable: options.linearizable ?? false });
    const response = await this.connection.unary(Service.Cluster, 'MemberList', Idempotency.Safe, (endpoint, metadata, callOptions) =>
      this.connection.callOnce<MemberListResponse>((callback) => endpoint.cluster.memberList(request, metadata, callOptions, callback), options.signal), options);
    return {
      header: toHeader(response.header),
      members: response.members.map((member) => ({
        id: member.ID,
        name: member.name,
        peerUrls: [...member.peerURLs],
        clientUrls: [...member.clientURLs],
        isLearner: member.isLearner,
      })),
    };
  }

  /**
   * Status of the member the client is connected to (the active endpoint).
   * Retried (on the next endpoint) when it is unreachable.
   */
  async status(options: CallOptions = {}): Promise<MemberStatus> {
    const request = StatusRequest.fromPartial({});
    const response = await this.connection.unary(Service.Maintenance, 'Status', Idempotency.Safe, (endpoint, metadata, callOptions) =>
      this.connection.callOnce<StatusResponse>((callback) => endpoint.maintenance.status(request, metadata, callOptions, callback), options.signal), options);
    return {
      header: toHeader(response.header),
      version: response.version,
      dbSizeBytes: response.dbSize,
      dbSizeInUseBytes: response.dbSizeInUse,
      leader: response.leader,
      raftIndex: response.raftIndex,
      raftTerm: response.raftTerm,
      raftAppliedIndex: response.raftAppliedIndex,
      errors: [...response.errors],
      isLearner: response.isLearner,
    };
  }

  /**
   * Asks the leader to hand leadership to member `targetId` (must be sent to
   * the leader; etcd answers `etcdserver: not leader` otherwise). Not retried.
   */
  async moveLeader(targetId: bigint, options: CallOptions = {}): Promise<{ header: Header }> {
    const request = MoveLeaderRequest.fromPartial({ targetID: targetId });
    const response = await this.connection.unary(Service.Maintenance, 'MoveLeader', Idempotency.Unsafe, (endpoint, metadata, callOptions) =>
      this.connection.callOnce<MoveLeaderResponse>((callback) => endpoint.maintenance.moveLeader(request, metadata, callOptions, callback), options.signal), options);
    return { header: toHeader(response.header) };
  }
}
