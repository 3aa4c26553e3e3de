// The backend quota, as etcd's backendQuota (etcdserver/quota.go): a write
// may be proposed only while the backend's size plus the write's estimated
// cost stays under --quota-backend-bytes. Requests that add nothing (deletes,
// compactions, reads, lease revokes) cost nothing and always pass.
//
// The size is the backend's high-water mark (Backend.sizeBytes), as etcd
// uses bbolt's: pages freed by a compaction are reused by later writes but
// give no room back until a defragmentation rewrites the file.
import type { LeaseGrantRequest, PutRequest, RequestOp, TxnRequest } from '../../proto/gen/etcdserverpb/rpc.js';

/** etcd's DefaultQuotaBytes: the quota when --quota-backend-bytes is 0. */
export const quotaBytesDefault = 2 * 1024 * 1024 * 1024;
/** etcd's MaxQuotaBytes: above it etcd (and cairn) warn that performance may degrade. */
export const quotaBytesSuggestedMax = 8 * 1024 * 1024 * 1024;
/** etcd's estimate of what a key's metadata costs (kvOverhead). */
const kvOverheadBytes = 256;
/** etcd's estimate of what storing a lease costs (leaseOverhead). */
const leaseOverheadBytes = 64;

/** The requests the quota weighs. */
export interface QuotaRequest {
  put?: PutRequest | undefined;
  txn?: TxnRequest | undefined;
  leaseGrant?: LeaseGrantRequest | undefined;
}

/**
 * The quota --quota-backend-bytes sets, as etcd 3.4 reads the flag: 0 means
 * the default (2 GiB), a negative value means no quota (undefined).
 */
export function quotaBytesFromFlag(flagBytes: number): number | undefined {
  if (flagBytes < 0) return undefined;
  return flagBytes === 0 ? quotaBytesDefault : flagBytes;
}

/**
 * What a request may add to the backend, in bytes: a put its key, value and
 * etcd's per-key overhead; a txn the costlier of its two branches; a lease
 * grant etcd's per-lease overhead; anything else 0. Unlike etcd 3.4, puts in
 * nested txns count (etcd 3.4 let them past a full backend; etcd fixed it
 * after 3.6.0, commit f1f8893b1).
 */
export function costBytes(request: QuotaRequest): number {
  if (request.put !== undefined) return putCost(request.put);
  if (request.txn !== undefined) return txnCost(request.txn);
  if (request.leaseGrant !== undefined) return leaseOverheadBytes;
  return 0;
}

function putCost(put: PutRequest): number {
  return kvOverheadBytes + put.key.length + put.value.length;
}

function txnCost(txn: TxnRequest): number {
  return Math.max(branchCost(txn.success), branchCost(txn.failure));
}

function branchCost(ops: readonly RequestOp[]): number {
  let cost = 0;
  for (const op of ops) {
    if (op.requestPut !== undefined) cost += putCost(op.requestPut);
    else if (op.requestTxn !== undefined) cost += txnCost(op.requestTxn);
  }
  return cost;
}

export class BackendQuota {
  /**
   * `limitBytes` undefined = no quota. `sizeBytes` reads the backend's
   * current size (its high-water mark, as of the last commit).
   */
  constructor(readonly limitBytes: number | undefined, private readonly sizeBytes: () => number) {}

  /** Whether a request costing `cost` bytes fits (etcd: size + cost < quota); one that costs nothing always does. */
  admits(cost: number): boolean {
    if (cost === 0 || this.limitBytes === undefined) return true;
    return this.sizeBytes() + cost < this.limitBytes;
  }

  /** Whether the backend already fills its quota (writes admitted together may overshoot it). */
  get exceeded(): boolean {
    return this.limitBytes !== undefined && this.sizeBytes() >= this.limitBytes;
  }
}
