// Member and cluster IDs. A member's ID is derived from its peer URLs and the
// cluster token (and, for a member added later, the time of the request), as
// etcd derives it, so every member of a new cluster computes the same IDs
// from --initial-cluster without talking to the others. IDs stay below 2^53:
// the Raft core keeps node IDs as exact JavaScript numbers (docs/raft.md).
import { createHash } from 'node:crypto';

const idMask = (1n << 53n) - 1n;

/** The ID of a member with these peer URLs; `salt` (a time) makes an added member's ID unique. */
export function memberIdFor(peerUrls: readonly string[], token: string, salt = ''): bigint {
  const digest = createHash('sha1').update([...peerUrls].sort().join('') + token + salt).digest();
  const id = digest.readBigUInt64BE(0) & idMask;
  return id === 0n ? 1n : id;
}

/** The cluster ID: a digest of its founding members' IDs. */
export function clusterIdFor(memberIds: readonly bigint[]): bigint {
  const bytes = Buffer.alloc(8 * memberIds.length);
  [...memberIds].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0)).forEach((id, i) => bytes.writeBigUInt64BE(id, 8 * i));
  const id = createHash('sha1').update(bytes).digest().readBigUInt64BE(0);
  return id === 0n ? 1n : id;
}

/** A member ID as the core and etcdctl show it: hexadecimal. */
export function hexId(id: bigint | number): string {
  return BigInt(id).toString(16);
}
