// Cluster membership (etcd's Cluster service): list, add (as a voter or a
// learner), remove, update peer URLs, promote a learner.
import {
  MemberAddRequest,
  MemberListRequest,
  MemberPromoteRequest,
  MemberRemoveRequest,
  MemberUpdateRequest,
  type Member as WireMember,
  type MemberAddResponse,
  type MemberListResponse,
  type MemberPromoteResponse,
  type MemberRemoveResponse,
  type MemberUpdateResponse,
} from '../proto/gen/etcdserverpb/rpc.js';
import { Idempotency, Service, type CallOptions, type Connection, type Endpoint, type UnaryStarter } from './connection.js';
import { InvalidOptionError } from './errors.js';
import { toHeader, type Header } from './kv.js';
import type { Maintenance, MemberStatus } from './maintenance.js';

export type { MemberStatus } from './maintenance.js';

/** One cluster member. */
export interface Member {
  id: bigint;
  /** Empty for a member added but not yet started. */
  name: string;
  peerUrls: string[];
  /** Empty for a member added but not yet started. */
  clientUrls: string[];
  isLearner: boolean;
}

/** The membership after a change, as the member that applied it answered. */
export interface Membership {
  header: Header;
  members: Member[];
}

const toMember = (member: WireMember): Member => ({
  id: member.ID,
  name: member.name,
  peerUrls: [...member.peerURLs],
  clientUrls: [...member.clientURLs],
  isLearner: member.isLearner,
});

function requirePeerUrls(peerUrls: readonly string[]): void {
  if (peerUrls.length === 0) throw new InvalidOptionError('at least one peer URL is required');
}

/** Membership operations of a client. Changes are never re-sent after an ambiguous failure. */
export class Cluster {
  /** @internal */
  constructor(private readonly connection: Connection, private readonly maintenance: Maintenance) {}

  /** The cluster's members. `linearizable` (etcd ≥ 3.5) asks for a consensus read; older servers ignore it. */
  async memberList(options: { linearizable?: boolean } & CallOptions = {}): Promise<Membership> {
    const request = MemberListRequest.fromPartial({ linearizable: options.linearizable ?? false });
    const response = await this.call<MemberListResponse>('MemberList', Idempotency.Safe, options,
      (endpoint, metadata, callOptions, callback) => endpoint.cluster.memberList(request, metadata, callOptions, callback));
    return { header: toHeader(response.header), members: response.members.map(toMember) };
  }

  /**
   * Adds a member with `peerUrls`; with `learner`, as a learner (a
   * non-voting member that receives the log; promote it once it caught up).
   * Then start the new member with `--initial-cluster-state existing` and the
   * listed members' names and peer URLs plus its own. Resolves with the new
   * member (no name nor client URLs until it starts) and the membership.
   * Errors: `PeerUrlExistsError`, `MemberBadUrlsError`,
   * `TooManyLearnersError` (etcd allows one), `MemberNotEnoughStartedError`
   * (a voter that would cost the cluster its quorum).
   */
  async memberAdd(peerUrls: readonly string[], options: { learner?: boolean } & CallOptions = {}): Promise<Membership & { member: Member }> {
    requirePeerUrls(peerUrls);
    const request = MemberAddRequest.fromPartial({ peerURLs: [...peerUrls], isLearner: options.learner ?? false });
    const response = await this.call<MemberAddResponse>('MemberAdd', Idempotency.Unsafe, options,
      (endpoint, metadata, callOptions, callback) => endpoint.cluster.memberAdd(request, metadata, callOptions, callback));
    if (response.member === undefined) throw new InvalidOptionError('MemberAdd answered without the member it added');
    return { header: toHeader(response.header), member: toMember(response.member), members: response.members.map(toMember) };
  }

  /** Removes member `id` (a removed member stops itself). Unknown → `MemberNotFoundError`. */
  async memberRemove(id: bigint, options: CallOptions = {}): Promise<Membership> {
    const request = MemberRemoveRequest.fromPartial({ ID: id });
    const response = await this.call<MemberRemoveResponse>('MemberRemove', Idempotency.Unsafe, options,
      (endpoint, metadata, callOptions, callback) => endpoint.cluster.memberRemove(request, metadata, callOptions, callback));
    return { header: toHeader(response.header), members: response.members.map(toMember) };
  }

  /** Replaces member `id`'s peer URLs. Errors: `MemberNotFoundError`, `PeerUrlExistsError`, `MemberBadUrlsError`. */
  async memberUpdate(id: bigint, peerUrls: readonly string[], options: CallOptions = {}): Promise<Membership> {
    requirePeerUrls(peerUrls);
    const request = MemberUpdateRequest.fromPartial({ ID: id, peerURLs: [...peerUrls] });
    const response = await this.call<MemberUpdateResponse>('MemberUpdate', Idempotency.Unsafe, options,
      (endpoint, metadata, callOptions, callback) => endpoint.cluster.memberUpdate(request, metadata, callOptions, callback));
    return { header: toHeader(response.header), members: response.members.map(toMember) };
  }

  /**
   * Makes learner `id` a voter. Errors: `LearnerNotReadyError` until its log
   * is close to the leader's (retry later), `MemberNotLearnerError` for a
   * voter, `MemberNotFoundError`.
   */
  async memberPromote(id: bigint, options: CallOptions = {}): Promise<Membership> {
    const request = MemberPromoteRequest.fromPartial({ ID: id });
    const response = await this.call<MemberPromoteResponse>('MemberPromote', Idempotency.Unsafe, options,
      (endpoint, metadata, callOptions, callback) => endpoint.cluster.memberPromote(request, metadata, callOptions, callback));
    return { header: toHeader(response.header), members: response.members.map(toMember) };
  }

  /** @deprecated Use `client.maintenance.status()`. */
  status(options: CallOptions = {}): Promise<MemberStatus> {
    return this.maintenance.status(options);
  }

  /** @deprecated Use `client.maintenance.moveLeader()`. */
  moveLeader(targetId: bigint, options: CallOptions = {}): Promise<{ header: Header }> {
    return this.maintenance.moveLeader(targetId, options);
  }

  private call<Res>(method: string, idempotency: Idempotency, options: CallOptions, start: UnaryStarter<Res>): Promise<Res> {
    return this.connection.unary(Service.Cluster, method, idempotency, (endpoint: Endpoint, metadata, callOptions) =>
      this.connection.callOnce<Res>((callback) => start(endpoint, metadata, callOptions, callback), options.signal), options);
  }
}
