// etcdserverpb.Lease. Grant and revoke go through the log; keep-alive,
// time-to-live and listing are answered by this member, which keeps the
// deadlines (server/lease/expiry.ts).
import type { ServerDuplexStream } from '@grpc/grpc-js';
import type {
  LeaseGrantResponse,
  LeaseKeepAliveRequest,
  LeaseKeepAliveResponse,
  LeaseRevokeResponse,
  LeaseServer,
} from '../../proto/gen/etcdserverpb/rpc.js';
import { LeaseTtlTooLargeError } from '../lease/errors.js';
import type { LeaseExpiry } from '../lease/expiry.js';
import { leaseTtlSecondsMax, newLeaseId, type LeaseTable } from '../lease/table.js';
import { fillHeader, proposeFor, type ServiceContext } from './context.js';
import { unary } from './unary.js';

/**
 * Grants a lease through the log (ID 0 = a fresh one, chosen here so applying
 * stays deterministic) and starts its deadline. Used by LeaseGrant and by the
 * Lock and Election services for requests that name no lease.
 */
export async function grantLease(context: ServiceContext, table: LeaseTable, expiry: LeaseExpiry, id: bigint, ttlSeconds: bigint): Promise<LeaseGrantResponse> {
  if (ttlSeconds > leaseTtlSecondsMax) throw new LeaseTtlTooLargeError();
  const ID = id !== 0n ? id : newLeaseId(table);
  const response = await proposeFor<LeaseGrantResponse>(context, { leaseGrant: { ID, TTL: ttlSeconds } });
  expiry.started(ID);
  return response;
}

export function leaseService(context: ServiceContext, table: LeaseTable, expiry: LeaseExpiry): LeaseServer {
  return {
    leaseGrant: unary((request) => grantLease(context, table, expiry, request.ID, request.TTL)),
    leaseRevoke: unary(async (request) => {
      const response = await proposeFor<LeaseRevokeResponse>(context, { leaseRevoke: request });
      return { header: response.header };
    }),
    leaseKeepAlive: (call: ServerDuplexStream<LeaseKeepAliveRequest, LeaseKeepAliveResponse>) => {
      call.on('data', (request: LeaseKeepAliveRequest) => {
        // As etcd: an unknown (or expired) lease is answered with TTL 0.
        const ttl = expiry.renew(request.ID) ?? 0n;
        // A client that sends faster than it reads is not read from until its answers drain.
        if (!call.write({ header: fillHeader(context, undefined), ID: request.ID, TTL: ttl })) {
          call.pause();
          call.once('drain', () => call.resume());
        }
      });
      call.on('end', () => call.end());
      call.on('error', () => undefined);
    },
    leaseTimeToLive: unary((request) => {
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
    }),
    leaseLeases: unary(() => {
      // As etcd: soonest expiry first.
      const remaining = (ID: bigint): number => expiry.remainingMs(ID) ?? Number.MAX_SAFE_INTEGER;
      const ids = table.ids().sort((a, b) => remaining(a) - remaining(b));
      return { header: fillHeader(context, undefined), leases: ids.map((ID) => ({ ID })) };
    }),
  };
}
