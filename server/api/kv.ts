// etcdserverpb.KV: writes go through the log, puts and txns once the backend
// quota admits them (quota.ts). Reads are served from this member's applied
// state: after a ReadIndex round (linearizable, the default) or at once when
// the request asks for `serializable`.
import type { KVServer, PutRequest, PutResponse, DeleteRangeRequest, DeleteRangeResponse, TxnRequest, TxnResponse, CompactionResponse, ResponseHeader } from '../../proto/gen/etcdserverpb/rpc.js';
import type { KvPath } from '../coordination/coordination.js';
import type { LeaseExpiry } from '../lease/expiry.js';
import type { LeaseTable } from '../lease/table.js';
import type { Proposal } from '../node/raft-node.js';
import { fillHeader, proposeAs, proposeFor, proposeForWith, type ServiceContext } from './context.js';
import { grantLease } from './lease.js';
import { callerAuth, readAs } from './caller.js';
import type { RequestAuth } from '../../proto/gen/cairnpb/internal.js';
import { unary, unaryWith, type CallState, type Respond } from '../grpc/unary.js';
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
    put: unaryWith<PutRequest, PutResponse>((request, call, respond) => {
      proposeAdmitted(context, { put: request }, () => checkPut(request), call, respond);
    }),
    deleteRange: unaryWith<DeleteRangeRequest, DeleteRangeResponse>((request, call, respond) => {
      checkDelete(request);
      proposeForWith(context, { deleteRange: request }, call, respond);
    }),
    txn: unaryWith<TxnRequest, TxnResponse>((request, call, respond) => {
      proposeAdmitted(context, { txn: request }, () => checkTxn(request, context.config.maxTxnOps), call, respond);
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
 * Checks `request` and proposes it once the backend quota admits it (etcd
 * checks the quota before anything else): at once when it fits, or after
 * the alarm is raised, then refused with NoSpaceError. A request that fits —
 * all of them but near the quota — goes from the call to the log and its
 * answer back to the call without a promise or a turn of the loop.
 */
function proposeAdmitted<T extends { header?: ResponseHeader | undefined }>(
  context: ServiceContext, request: Proposal & QuotaRequest, check: () => void, call: CallState, respond: Respond<T>,
): void {
  const propose = (): void => {
    check();
    proposeForWith(context, request, call, respond);
  };
  context.quota.whenAdmitted(request, propose, respond);
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
