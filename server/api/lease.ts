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
import { fillHeader, type ServiceContext } from './context.js';
import { unary } from './unary.js';

export function leaseService(context: ServiceContext, table: LeaseTable, expiry: LeaseExpiry): LeaseServer {
  return {
    leaseGrant: unary(async (request) => {
      if (request.TTL > leaseTtlSecondsMax) throw new LeaseTtlTooLargeError();
      const ID = request.ID !== 0n ? request.ID : newLeaseId(table);
      const response = (await context.node.propose({ leaseGrant: { ...request, ID } })) as LeaseGrantResponse;
      expiry.started(ID);
      return { ...response, header: fillHeader(context, response.header) };
    }),
    leaseRevoke: unary(async (request) => {
      const response = (await context.node.propose({ leaseRevoke: request })) as LeaseRevokeResponse;
      return { header: fillHeader(context, response.header) };
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
