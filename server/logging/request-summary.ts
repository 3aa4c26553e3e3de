// A request as one short line for the log, in the spirit of etcd's request
// stringer (etcdserver/api/v3rpc/util.go's): what kind, which key, how big —
// never a value, so the log never holds the data (or a password hash).
import type { InternalRequest } from '../../proto/gen/cairnpb/internal.js';

/** Keys are shown up to this many bytes. */
const keyBytesShown = 64;

export function requestSummary(request: InternalRequest): string {
  const id = `header:<ID:${request.id.toString()} > `;
  if (request.put !== undefined) {
    const { key, value, lease } = request.put;
    return `${id}put:<key:${shown(key)} value_size:${value.length}${lease !== 0n ? ` lease:${lease.toString()}` : ''} >`;
  }
  if (request.deleteRange !== undefined) {
    const { key, rangeEnd } = request.deleteRange;
    return `${id}delete_range:<key:${shown(key)}${rangeEnd.length > 0 ? ` range_end:${shown(rangeEnd)}` : ''} >`;
  }
  if (request.txn !== undefined) {
    const { compare, success, failure } = request.txn;
    return `${id}txn:<compare_size:${compare.length} success_size:${success.length} failure_size:${failure.length} >`;
  }
  if (request.compaction !== undefined) return `${id}compaction:<revision:${request.compaction.revision.toString()} >`;
  if (request.leaseGrant !== undefined) return `${id}lease_grant:<ttl:${request.leaseGrant.TTL.toString()}-second id:${request.leaseGrant.ID.toString(16)}>`;
  if (request.leaseRevoke !== undefined) return `${id}lease_revoke:<id:${request.leaseRevoke.ID.toString(16)}>`;
  const kind = Object.entries(request).find(([name, value]) => name !== 'id' && name !== 'auth' && value !== undefined)?.[0] ?? 'empty';
  return `${id}${kind.replace(/[A-Z]/g, (letter) => `_${letter.toLowerCase()}`)}:<>`;
}

/** A key as a quoted string, cut to keyBytesShown bytes. */
function shown(key: Buffer): string {
  const cut = key.length > keyBytesShown;
  return `${JSON.stringify(key.subarray(0, keyBytesShown).toString('utf8'))}${cut ? `…(${key.length} bytes)` : ''}`;
}
