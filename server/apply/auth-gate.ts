// What applying refuses under auth, as etcd's auth applier
// (etcdserver/apply_auth.go): a request runs with the permissions of the
// user it carries (InternalRequest.auth) as the replicated auth store holds
// them when the entry is applied, so every member decides alike, and a
// permission revoked after the request was taken is already in force.
//
// - Put: write on the key; read too when it asks for prev_kv; write on every
//   key already attached to the lease it attaches (the user could not
//   revoke that lease otherwise).
// - DeleteRange: write on the range; read too when it asks for prev_kvs.
// - Txn: read on every compare's range, and each op of both branches as
//   above. Unlike etcd 3.4, ops of nested txns are checked too, and a put's
//   prev_kv and lease inside a txn as outside it: etcd lets those through.
// - LeaseRevoke: write on every key attached to the lease.
// - The auth store's own requests: store.ts (root, as etcd).
// Compaction, lease grants and alarms need no permission, as in etcd.
import type { InternalRequest, RequestAuth } from '../../proto/gen/cairnpb/internal.js';
import type { PutRequest, RequestOp, TxnRequest } from '../../proto/gen/etcdserverpb/rpc.js';

/** The auth store's checks (server/auth/store.ts); each throws its typed error. */
export interface AuthChecks {
  checkRead(auth: RequestAuth | undefined, key: Uint8Array, rangeEnd?: Uint8Array): void;
  checkWrite(auth: RequestAuth | undefined, key: Uint8Array, rangeEnd?: Uint8Array): void;
}

/** The keys attached to each lease (server/lease/table.ts). */
export interface LeaseKeys {
  keysOf(id: bigint): Iterable<string>;
}

/** The error applying `request` must fail with under auth, if any. */
export function authRefusal(request: InternalRequest, checks: AuthChecks, leases: LeaseKeys): Error | undefined {
  const auth = request.auth;
  if (auth === undefined) return undefined;
  try {
    if (request.put !== undefined) checkPut(request.put, auth, checks, leases);
    else if (request.deleteRange !== undefined) checkDelete(request.deleteRange, auth, checks);
    else if (request.txn !== undefined) checkTxn(request.txn, auth, checks, leases);
    else if (request.leaseRevoke !== undefined) checkLeaseKeys(request.leaseRevoke.ID, auth, checks, leases);
    return undefined;
  } catch (error) {
    return error as Error;
  }
}

function checkPut(put: PutRequest, auth: RequestAuth, checks: AuthChecks, leases: LeaseKeys): void {
  checks.checkWrite(auth, put.key);
  if (put.lease !== 0n) checkLeaseKeys(put.lease, auth, checks, leases);
  if (put.prevKv) checks.checkRead(auth, put.key);
}

function checkDelete(request: { key: Uint8Array; rangeEnd: Uint8Array; prevKv: boolean }, auth: RequestAuth, checks: AuthChecks): void {
  checks.checkWrite(auth, request.key, request.rangeEnd);
  if (request.prevKv) checks.checkRead(auth, request.key, request.rangeEnd);
}

function checkTxn(txn: TxnRequest, auth: RequestAuth, checks: AuthChecks, leases: LeaseKeys): void {
  for (const compare of txn.compare) checks.checkRead(auth, compare.key, compare.rangeEnd);
  for (const op of [...txn.success, ...txn.failure]) checkOp(op, auth, checks, leases);
}

function checkOp(op: RequestOp, auth: RequestAuth, checks: AuthChecks, leases: LeaseKeys): void {
  if (op.requestRange !== undefined) checks.checkRead(auth, op.requestRange.key, op.requestRange.rangeEnd);
  else if (op.requestPut !== undefined) checkPut(op.requestPut, auth, checks, leases);
  else if (op.requestDeleteRange !== undefined) checkDelete(op.requestDeleteRange, auth, checks);
  else if (op.requestTxn !== undefined) checkTxn(op.requestTxn, auth, checks, leases);
}

function checkLeaseKeys(id: bigint, auth: RequestAuth, checks: AuthChecks, leases: LeaseKeys): void {
  for (const key of leases.keysOf(id)) checks.checkWrite(auth, Buffer.from(key, 'latin1'));
}
