// Member and cluster IDs, derived exactly as etcd 3.4 derives them
// (etcdserver/api/membership member.go newMember, cluster.go genID), so the
// same flags give the same IDs on etcd and on cairn:
//
//   member ID  = first 8 bytes (big-endian) of sha1(sorted peer URLs joined
//                with nothing + cluster token), for the founding members;
//                for a member added at runtime, of sha1(sorted peer URLs +
//                the request's time in Unix seconds, as decimal text): etcd's
//                MemberAdd passes an empty cluster name, so no token.
//   cluster ID = first 8 bytes (big-endian) of sha1(the founding members'
//                IDs, sorted, each as 8 bytes big-endian).
//
// Worked example (vectors in ids.test.ts): token "cairn-vectors" and the one
// peer URL http://127.0.0.1:23800 hash "http://127.0.0.1:23800cairn-vectors"
// to member 4e247fe62abe8470; its cluster hashes those 8 bytes to a9781dffdeed2ec1.
//
// Member IDs use all 64 bits. The Raft core keeps node IDs as exact
// JavaScript numbers (docs/raft.md), so it knows each member by the low 53
// bits of its ID (raftNodeId): the same number for an ID below 2^53, which is
// what every ID cairn gave before this derivation was, so existing data dirs
// keep their IDs and their logs.
import { createHash } from 'node:crypto';

const raftNodeIdMask = (1n << 53n) - 1n;
/** How many later seconds MemberAdd tries when an ID is taken (same URLs re-added within a second). */
const addedIdAttemptsMax = 64;

export class MemberIdError extends Error {
  override readonly name = 'MemberIdError';
}

function firstUint64(text: string | Buffer): bigint {
  return createHash('sha1').update(text).digest().readBigUInt64BE(0);
}

/** etcd's types.NewURLs: each URL trimmed, then sorted as text. */
function sortedPeerUrls(peerUrls: readonly string[]): string {
  return peerUrls.map((url) => url.trim()).sort().join('');
}

/** The ID of a founding member with these peer URLs in a cluster with this --initial-cluster-token. */
export function memberIdFor(peerUrls: readonly string[], token: string): bigint {
  return firstUint64(sortedPeerUrls(peerUrls) + token);
}

/** The ID etcd's MemberAdd gives a member with these peer URLs at this time (Unix seconds). */
export function addedMemberIdFor(peerUrls: readonly string[], unixSeconds: number): bigint {
  return firstUint64(sortedPeerUrls(peerUrls) + String(unixSeconds));
}

/** The core's node ID for a member: the low 53 bits of its ID (the ID itself below 2^53). */
export function raftNodeId(memberId: bigint): number {
  return Number(memberId & raftNodeIdMask);
}

/**
 * The ID for a member added now (`wallMs`, the injected clock's wall time):
 * etcd's, or, if that ID or its Raft node ID is taken by a present or
 * removed member (or is 0), the ID of the next second that is free.
 * Throws MemberIdError when none of addedIdAttemptsMax seconds is.
 */
export function uniqueAddedMemberId(peerUrls: readonly string[], wallMs: number, taken: Iterable<bigint>): bigint {
  const takenNodeIds = new Set([...taken].map(raftNodeId));
  const unixSeconds = Math.floor(wallMs / 1000);
  for (let attempt = 0; attempt < addedIdAttemptsMax; attempt++) {
    const id = addedMemberIdFor(peerUrls, unixSeconds + attempt);
    const nodeId = raftNodeId(id);
    if (nodeId !== 0 && !takenNodeIds.has(nodeId)) return id;
  }
  throw new MemberIdError(`no free member ID for ${peerUrls.join(',')} in ${addedIdAttemptsMax} seconds from ${unixSeconds}`);
}

/**
 * Checks founding member IDs as etcd's NewClusterFromURLsMap does (no two
 * alike, none 0), and also that no two share a Raft node ID. Throws MemberIdError.
 */
export function checkFoundingIds(memberIds: readonly bigint[]): void {
  const nodeIds = new Set<number>();
  for (const id of memberIds) {
    const nodeId = raftNodeId(id);
    if (nodeId === 0) throw new MemberIdError(`cannot use ${hexId(id)} as a member ID (its Raft node ID is 0)`);
    if (nodeIds.has(nodeId)) throw new MemberIdError(`member ${hexId(id)} has the ID or Raft node ID of another member`);
    nodeIds.add(nodeId);
  }
}

/** The cluster ID: a digest of its founding members' IDs. */
export function clusterIdFor(memberIds: readonly bigint[]): bigint {
  const bytes = Buffer.alloc(8 * memberIds.length);
  [...memberIds].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0)).forEach((id, i) => bytes.writeBigUInt64BE(id, 8 * i));
  return firstUint64(bytes);
}

/** A member ID as the core and etcdctl show it: hexadecimal. */
export function hexId(id: bigint | number): string {
  return BigInt(id).toString(16);
}
