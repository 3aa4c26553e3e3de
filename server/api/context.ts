// What the gRPC services share: the node, the applier, the limits, and the
// identity that goes into every response header.
import type { ResponseHeader } from '../../proto/gen/etcdserverpb/rpc.js';
import type { Applier } from '../apply/applier.js';
import type { Clock } from '../clock.js';
import type { Backend } from '../mvcc/backend.js';
import type { MvccStore } from '../mvcc/store.js';
import type { Proposal, RaftNode } from '../node/raft-node.js';
import { promiseOf } from '../node/waiters.js';
import type { Membership } from '../membership/membership.js';
import type { LeaderForwarder } from './forwarder.js';
import type { ServerConfig } from '../config.js';
import type { CallState, Respond } from '../grpc/unary.js';
import type { AlarmSet } from '../alarm/alarms.js';
import type { QuotaGuard } from './quota.js';
import type { AuthStore } from '../auth/store.js';
import type { TokenProvider } from '../auth/tokens.js';
import { callerAuth } from './caller.js';
import type { RequestAuth } from '../../proto/gen/cairnpb/internal.js';

export interface ServiceContext {
  config: ServerConfig;
  node: RaftNode;
  membership: Membership;
  /** Sends what only the leader can answer to the leader. */
  forwarder: LeaderForwarder;
  applier: Applier;
  store: MvccStore;
  backend: Backend;
  /** The alarms raised in the cluster (replicated). */
  alarms: AlarmSet;
  /** The backend quota, checked before a write is proposed. */
  quota: QuotaGuard;
  memberId: bigint;
  clusterId: bigint;
  /** The member's one source of time (timers of streams, IDs salted with the time). */
  clock: Clock;
  /** Users, roles and permissions (replicated). */
  auth: AuthStore;
  /** The tokens this member knows. */
  tokens: TokenProvider;
}

/** Fills the identity fields etcd puts into every header (cluster, member, term). */
export function fillHeader(context: ServiceContext, header: ResponseHeader | undefined, revision?: number): ResponseHeader {
  return {
    clusterId: context.clusterId,
    memberId: context.memberId,
    revision: revision !== undefined ? BigInt(revision) : header?.revision ?? BigInt(context.store.currentRevision),
    raftTerm: context.node.term,
  };
}

/**
 * Proposes a request of `call`'s client through the log, as the user the
 * call runs as (caller.ts), and answers with its response, the header
 * filled in. `T` is the response type the request's kind produces.
 */
export function proposeFor<T extends { header?: ResponseHeader | undefined }>(context: ServiceContext, proposal: Proposal, call: CallState): Promise<T> {
  return promiseOf<T>((settle) => proposeForWith(context, proposal, call, settle));
}

/**
 * As proposeFor, answering through `respond` (grpc/unary.ts unaryWith): the
 * response, its header filled in, goes to the call from where the log
 * applied the request, with no promise between the two.
 */
export function proposeForWith<T extends { header?: ResponseHeader | undefined }>(context: ServiceContext, proposal: Proposal, call: CallState, respond: Respond<T>): void {
  const found = callerAuth(context, call);
  if (found instanceof Promise) {
    // A token to check first (a JWT's signature): the promise's way, which the request waits for anyway.
    found.then((auth) => proposeAsWith(context, proposal, auth, call, respond)).catch(respond);
    return;
  }
  proposeAsWith(context, proposal, found, call, respond);
}

/**
 * As proposeForWith, for a request that runs as `auth` (already known);
 * `call`, when there is one, tells whether its client gave up.
 */
export function proposeAsWith<T extends { header?: ResponseHeader | undefined }>(
  context: ServiceContext, proposal: Proposal, auth: RequestAuth | undefined, call: CallState | undefined, respond: Respond<T>,
): void {
  const options = call === undefined ? {} : { gaveUp: () => call.cancelled };
  context.node.proposeWith({ ...proposal, auth }, options, (error, applied) => {
    if (error !== undefined) return respond(error);
    const response = applied as unknown as T;
    response.header = fillHeader(context, response.header);
    respond(undefined, response);
  });
}

/** As proposeFor, for what runs as `auth` rather than as a call's caller (the Lock and Election services). */
export function proposeAs<T extends { header?: ResponseHeader | undefined }>(context: ServiceContext, proposal: Proposal, auth: RequestAuth | undefined): Promise<T> {
  return promiseOf<T>((settle) => proposeAsWith(context, proposal, auth, undefined, settle));
}
