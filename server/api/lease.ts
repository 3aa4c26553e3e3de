// etcdserverpb.Lease. Grant and revoke go through the log; keep-alive and
// time-to-live are answered by the leader, which keeps the deadlines
// (server/lease/expiry.ts) — other members forward them; listing is local.
import type { ServerDuplexStream } from '@grpc/grpc-js';
import type {
  LeaseGrantRequest,
  LeaseGrantResponse,
  LeaseKeepAliveRequest,
  LeaseKeepAliveResponse,
  LeaseRevokeResponse,
  LeaseServer,
  LeaseTimeToLiveRequest,
  LeaseTimeToLiveResponse,
} from '../../proto/gen/etcdserverpb/rpc.js';
import { toServiceError } from '../grpc/errors.js';
import type { LeaseExpiry } from '../lease/expiry.js';
import { newLeaseId, type LeaseTable } from '../lease/table.js';
import { fillHeader, proposeAsWith, proposeFor, type ServiceContext } from './context.js';
import { callerAuth } from './caller.js';
import type { RequestAuth } from '../../proto/gen/cairnpb/internal.js';
import { unary, unaryWith, type CallState, type Respond } from '../grpc/unary.js';
import { promiseOf } from '../node/waiters.js';
import { UndecodableRequest, undecodableStatus } from '../grpc/request-streams.js';

/**
 * Grants a lease through the log (ID 0 = a fresh one, chosen here so applying
 * stays deterministic) and starts its deadline, once the backend quota admits
 * it; answers through `respond` (grpc/unary.ts). `auth` is who asks: a call's
 * caller for LeaseGrant, or what the Lock and Election services run as. As
 * etcd 3.4, a TTL above the maximum is refused when applied
 * (LeaseTtlTooLargeError), so a raised alarm answers first. A grant that fits
 * the quota — all but near it — goes to the log and its answer back without a
 * promise, as a put does (kv.ts).
 */
export function grantLeaseWith(
  context: ServiceContext, table: LeaseTable, expiry: LeaseExpiry, id: bigint, ttlSeconds: bigint,
  auth: RequestAuth | undefined | Promise<RequestAuth | undefined>, respond: Respond<LeaseGrantResponse>, call?: CallState,
): void {
  if (auth instanceof Promise) {
    // A token to check first (a JWT's signature): its error comes before the quota's.
    auth.then((caller) => grantLeaseWith(context, table, expiry, id, ttlSeconds, caller, respond, call)).catch(respond);
    return;
  }
  const propose = (): void => {
    const ID = id !== 0n ? id : newLeaseId(table);
    proposeAsWith<LeaseGrantResponse>(context, { leaseGrant: { ID, TTL: ttlSeconds } }, auth, call, (error, response) => {
      if (error === undefined) expiry.started(ID);
      respond(error, response);
    });
  };
  context.quota.whenAdmitted({ leaseGrant: { ID: id, TTL: ttlSeconds } }, propose, respond);
}

/** grantLeaseWith's promise, for the Lock and Election services. */
export function grantLease(context: ServiceContext, table: LeaseTable, expiry: LeaseExpiry, id: bigint, ttlSeconds: bigint, auth: RequestAuth | undefined): Promise<LeaseGrantResponse> {
  return promiseOf<LeaseGrantResponse>((settle) => grantLeaseWith(context, table, expiry, id, ttlSeconds, auth, settle));
}

/** A keep-alive as the leader answers it. As etcd: an unknown (or expired) lease gets TTL 0. */
export function leaseRenewHere(context: ServiceContext, expiry: LeaseExpiry, request: LeaseKeepAliveRequest): LeaseKeepAliveResponse {
  return { header: fillHeader(context, undefined), ID: request.ID, TTL: expiry.renew(request.ID) ?? 0n };
}

/** LeaseTimeToLive as the leader answers it (it keeps the deadlines). */
export function leaseTimeToLiveHere(context: ServiceContext, table: LeaseTable, expiry: LeaseExpiry, request: LeaseTimeToLiveRequest): LeaseTimeToLiveResponse {
  const lease = table.get(request.ID);
  const remainingMs = expiry.remainingMs(request.ID);
  if (lease === undefined || remainingMs === undefined) {
    // As etcd: an unknown lease is no error, its TTL is -1.
    return { header: fillHeader(context, undefined), ID: request.ID, TTL: -1n, grantedTTL: 0n, keys: [] };
  }
  return {
    header: fillHeader(context, undefined),
    ID: request.ID,
    TTL: BigInt(Math.max(0, Math.trunc(remainingMs / 1000))),
    grantedTTL: lease.ttlSeconds,
    keys: request.keys ? [...lease.keys].map((key) => Buffer.from(key, 'latin1')) : [],
  };
}

export function leaseService(context: ServiceContext, table: LeaseTable, expiry: LeaseExpiry): LeaseServer {
  return {
    leaseGrant: unaryWith<LeaseGrantRequest, LeaseGrantResponse>((request, call, respond) => {
      grantLeaseWith(context, table, expiry, request.ID, request.TTL, callerAuth(context, call), respond, call);
    }),
    leaseRevoke: unary(async (request, call) => {
      const response = await proposeFor<LeaseRevokeResponse>(context, { leaseRevoke: request }, call);
      return { header: response.header };
    }),
    leaseKeepAlive: (call: ServerDuplexStream<LeaseKeepAliveRequest, LeaseKeepAliveResponse>) => {
      let failed = false;
      const answer = (response: LeaseKeepAliveResponse): void => {
        // A client that sends faster than it reads is not read from until its answers drain.
        if (!call.write(response)) {
          call.pause();
          call.once('drain', () => call.resume());
        }
      };
      call.on('data', (request: LeaseKeepAliveRequest | UndecodableRequest) => {
        if (failed) return;
        if (request instanceof UndecodableRequest) {
          failed = true;
          call.emit('error', undecodableStatus());
          return;
        }
        if (context.node.isLeader) {
          answer(leaseRenewHere(context, expiry, request));
          return;
        }
        // The leader keeps the deadlines: renew there. Answers keep the order of requests.
        call.pause();
        context.forwarder.leaseRenew(request).then(
          (response) => {
            call.resume();
            answer({ ...response, header: fillHeader(context, undefined) });
          },
          (error: unknown) => {
            failed = true;
            call.emit('error', toServiceError(error));
          },
        );
      });
      call.on('end', () => call.end());
      call.on('error', () => undefined);
    },
    leaseTimeToLive: unary(async (request, call) => {
      // The names of a lease's keys are read permission's business (etcd 3.4.26 and 3.5.9 check them, CVE-2023-32082).
      if (request.keys) {
        const auth = await callerAuth(context, call);
        for (const key of table.keysOf(request.ID)) context.auth.checkRead(auth, Buffer.from(key, 'latin1'));
      }
      if (context.node.isLeader) return leaseTimeToLiveHere(context, table, expiry, request);
      const response = await context.forwarder.leaseTimeToLive(request);
      return { ...response, header: fillHeader(context, undefined) };
    }),
    leaseLeases: unary(() => {
      // As etcd: soonest expiry first.
      const remaining = (ID: bigint): number => expiry.remainingMs(ID) ?? Number.MAX_SAFE_INTEGER;
      const ids = table.ids().sort((a, b) => remaining(a) - remaining(b));
      return { header: fillHeader(context, undefined), leases: ids.map((ID) => ({ ID })) };
    }),
  };
}
