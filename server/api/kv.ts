// etcdserverpb.KV: writes go through the log, puts and txns once the backend
// quota admits them (quota.ts). Reads are served from this member's applied
// state: after a ReadIndex round (linearizable, the default) or at once when
// the request asks for `serializable`.
import type { KVServer, PutResponse, DeleteRangeResponse, TxnResponse, CompactionResponse, ResponseHeader } from '../../proto/gen/etcdserverpb/rpc.js';
import type { KvPath } from '../coordination/coordination.js';
import type { LeaseExpiry } from '../lease/expiry.js';
import type { LeaseTable } from '../lease/table.js';
import type { Proposal } from '../node/raft-node.js';
import { fillHeader, proposeAs, proposeFor, type ServiceContext } from './context.js';
import { grantLease } from './lease.js';
import { callerAuth, readAs } from './caller.js';
import type { RequestAuth } from '../../proto/gen/cairnpb/internal.js';
import { unary } from '../grpc/unary.js';
import type { QuotaRequest } from '../alarm/quota.js';
import { checkDelete, checkPut, checkRange, checkTxn } from '../requests/checks.js';

export function kvService(context: ServiceContext): KVServer {
  return {
    range: unary(async (request, call) => {
      checkRange(request);
      const found = callerAuth(context, call);
      const auth = found instanceof Promise ? await found : found;
      if (!request.serializable) await context.node.readBarrier();
      const response = await readAs(context, auth, () => context.auth.checkRead(auth, request.key, request.rangeEnd), () => context.applier.rangeBatched(request));
      response.header = fillHeader(context, response.header);
      return response;
    }),
    put: unary((request, call) => {
      const proposal = { put: request };
      return admitted(context, proposal, () => {
        checkPut(request);
        return proposeFor<PutResponse>(context, proposal, call);
      });
    }),
    deleteRange: unary((request, call) => {
      checkDelete(request);
      return proposeFor<DeleteRangeResponse>(context, { deleteRange: request }, call);
    }),
    txn: unary((request, call) => {
      const proposal = { txn: request };
      return admitted(context, proposal, () => {
        checkTxn(request, context.config.maxTxnOps);
        return proposeFor<TxnResponse>(context, proposal, call);
      });
    }),
    compact: unary(async (request, call) => {
      const response = await proposeFor<CompactionResponse>(context, { compaction: request }, call);
      // As etcd: a physical compaction answers once its records are gone from this member's backend.
      if (request.physical) await context.store.compacted();
      return response;
    }),
  };
}

/**
 * Runs `propose` once the backend quota admits `request` (etcd checks the
 * quota before anything else): at once when it fits, or after the alarm is
 * raised, then refused with NoSpaceError. A request that fits — all of them
 * but near the quota — loses no turn of the loop to a promise on the way.
 */
function admitted<T>(context: ServiceContext, request: QuotaRequest, propose: () => Promise<T>): Promise<T> {
  if (context.quota.fits(request)) return propose();
  return context.quota.admit(request).then(propose);
}

/**
 * This member's KV path as the Lock and Election services use it
 * (server/coordination/): etcd runs them as clients of its own KV API, so
 * their writes meet the backend quota and go through the log, their reads see
 * this member's applied state, and a lease for a request that names none is
 * granted as LeaseGrant grants one. Run as `auth` (KvPath.as), writes are
 * proposed as that user and reads checked against its permissions; without,
 * as the member itself.
 */
export function coordinationKvPath(context: ServiceContext, leases: LeaseTable, expiry: LeaseExpiry, auth?: RequestAuth): KvPath {
  return {
    admit: (request) => context.quota.admit(request),
    propose: <T extends { header?: ResponseHeader | undefined }>(proposal: Proposal) => proposeAs<T>(context, proposal, auth),
    range: (request) => {
      context.auth.checkRead(auth, request.key, request.rangeEnd);
      return context.applier.range(request);
    },
    header: (header) => fillHeader(context, header),
    grantLease: async (ttlSeconds) => (await grantLease(context, leases, expiry, 0n, ttlSeconds, auth)).ID,
    get txnOpsMax() {
      return context.config.maxTxnOps;
    },
    as: (caller) => coordinationKvPath(context, leases, expiry, caller),
  };
}
