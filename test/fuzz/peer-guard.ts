// What the peer fuzzer never sends: the forged messages with which a peer
// speaking as a real member at the receiver's term may legitimately change
// the cluster (docs/cluster.md: without peer TLS the peer checks cannot tell
// a forger from the member). Everything else must leave the cluster as the
// oracle wants it. Checked on what is actually sent, resolved and (for bytes)
// decoded, since random bytes may decode into anything.
//
// The predicates are written here from the docs, not taken from the server's
// checks: a message this guard lets through because it is malformed is one
// the server must drop, and if the server did not, the oracle finds it.
//
// A message is *forged* when it would pass the sender checks as a real
// member's: the batch names the target's cluster and a member other than
// the receiver, and the message comes from that member and is addressed to
// the receiver. Of those, never sent (see exclusion):
//
// 1. MsgApp at or above the receiver's term that is well formed (entries
//    following its index, terms in order, every entry decodable): the
//    receiver takes it as its leader's and may overwrite or commit its log.
// 2. MsgHeartbeat at or above the receiver's term whose commit lies past the
//    receiver's known commit but not far past its log (farAheadEntries): it
//    would commit entries no quorum may hold.
// 3. MsgAppResp at or above the term, not a rejection, with such an index:
//    the leader would count a copy the follower does not have.
// 4. MsgVoteResp at or above the term granting the vote: a forged vote can
//    elect a second leader in one term.
// 5. MsgProp whose entries a leader would take and that change more than
//    keys: an alarm, a member's attributes or peer URLs, a membership change
//    of a real member or adding one (a real member may propose these).
// 6. A snapshot stream that completes (right size and SHA-256) with a MsgSnap
//    the receiver could install: at or above its term, past its commit.
// 7. Any message or snapshot at a term above 2^31 (half the term ceiling):
//    members take any term up to the ceiling (2^32), so forged terms near it
//    can carry a majority past it, and a member left below then refuses the
//    majority's terms as absurd for good (docs/cluster.md). Only peer TLS
//    can tell such a forger from the member.
import { createHash } from 'node:crypto';
import { InternalRequest, Membership, type InternalRequest as Request } from '../../proto/gen/cairnpb/internal.js';
import type { MessageBatch, SnapshotChunk } from '../../proto/gen/cairnpb/peer.js';
import { EntryType, MessageType, type Entry, type Message } from '../../proto/gen/raftpb/raft.js';
import { farAheadEntries } from './peer-messages.js';

/** What the fuzzer knows of a member before a case: its ID, and its term and commit from Status. */
export interface Known {
  id: bigint;
  term: bigint;
  commit: bigint;
}

/** The target's identity: its cluster ID and its members' IDs. */
export interface Identity {
  clusterId: bigint;
  memberIds: bigint[];
}

/** The core's largest term and index (peer-checks' termMax, indexMax): anything above is refused as a number. */
const numberMax = 1n << 52n;
/** Forged terms above this are kept back (7). */
const forgedTermMax = 1n << 31n;
/** The most entries a leader's append may carry. */
const entriesMax = 65_536;

function forgedSender(clusterId: bigint, from: bigint, receiver: Known, identity: Identity): boolean {
  return clusterId === identity.clusterId && from !== receiver.id && identity.memberIds.includes(from);
}

/** Why this batch, sent to `receiver`, must not be sent, or undefined. */
export function batchExclusion(batch: MessageBatch, receiver: Known, identity: Identity): string | undefined {
  if (!forgedSender(batch.clusterId, batch.from, receiver, identity)) return undefined;
  for (const m of batch.messages) {
    if (m.from !== batch.from || m.to !== receiver.id) continue;
    const why = messageExclusion(m, receiver, identity);
    if (why !== undefined) return `${MessageType[m.type] ?? m.type} as ${m.from.toString(16)}: ${why}`;
  }
  return undefined;
}

/** Between the receiver's known commit and far past its log: where uncommitted entries may be. */
function inTail(index: bigint, receiver: Known): boolean {
  return index > receiver.commit && index <= receiver.commit + farAheadEntries;
}

function messageExclusion(m: Message, receiver: Known, identity: Identity): string | undefined {
  if (m.term > forgedTermMax) return 'a term that could carry a majority past the term ceiling (7)';
  const stale = m.term < receiver.term || m.term > numberMax;
  switch (m.type) {
    case MessageType.MsgApp:
      return !stale && wellFormedAppend(m) ? 'a well-formed append at or above the receiver\'s term (1)' : undefined;
    case MessageType.MsgHeartbeat:
      return !stale && inTail(m.commit, receiver) ? 'a commit past the receiver\'s known commit (2)' : undefined;
    case MessageType.MsgAppResp:
      return !stale && !m.reject && inTail(m.index, receiver) ? 'an acknowledgement of entries past the known commit (3)' : undefined;
    case MessageType.MsgVoteResp:
      return !stale && !m.reject ? 'a granted vote (4)' : undefined;
    case MessageType.MsgProp:
      return m.entries.map((entry) => proposalExclusion(entry, identity)).find((why) => why !== undefined);
    default:
      return undefined;
  }
}

/** An append whose numbers are in range and whose entries follow its index and log term and all decode. */
function wellFormedAppend(m: Message): boolean {
  if (m.logTerm > m.term || m.index > numberMax || m.commit > numberMax || m.rejectHint > numberMax) return false;
  if ((m.index === 0n) !== (m.logTerm === 0n) || m.entries.length > entriesMax || m.snapshot !== undefined) return false;
  let term = m.logTerm;
  for (const [i, entry] of m.entries.entries()) {
    if (entry.index !== m.index + 1n + BigInt(i) || entry.term < term || entry.term > m.term || entry.term === 0n) return false;
    if (!decodes(entry)) return false;
    term = entry.term;
  }
  return true;
}

function decodes(entry: Entry): boolean {
  if (entry.type === EntryType.EntryConfChange) return confChange(entry.data) !== undefined;
  if (entry.type !== EntryType.EntryNormal) return false;
  return entry.data.length === 0 || request(entry.data) !== undefined;
}

/** What a normal entry asks for, if its data is an InternalRequest asking for exactly one thing. */
function request(data: Buffer): Request | undefined {
  try {
    const decoded = InternalRequest.decode(data);
    const kinds = Object.entries(decoded).filter(([field, value]) => field !== 'id' && value !== undefined);
    return kinds.length === 1 ? decoded : undefined;
  } catch {
    return undefined;
  }
}

interface DecodedConfChange {
  type: unknown;
  nodeId: unknown;
  member: { ID: bigint; peerURLs: string[] } | undefined;
}

/** A ConfChange entry's JSON and its context, read as the server reads them (server/raft/conf-change.ts, membership.ts). */
function confChange(data: Buffer): DecodedConfChange | undefined {
  try {
    const cc = JSON.parse(data.toString('utf8')) as { type: unknown; nodeId: unknown; context?: unknown };
    if (cc.context === undefined || cc.context === '') return { type: cc.type, nodeId: cc.nodeId, member: undefined };
    const context = JSON.parse(String(cc.context)) as { requestId: string; member: string };
    BigInt(context.requestId);
    const members = context.member === '' ? [] : Membership.decode(Buffer.from(context.member, 'hex')).members;
    return { type: cc.type, nodeId: cc.nodeId, member: members[0] };
  } catch {
    return undefined;
  }
}

/** Why a proposed entry, which the leader would append and every member apply, must not be sent (5). */
function proposalExclusion(entry: Entry, identity: Identity): string | undefined {
  if (entry.type === EntryType.EntryConfChange) {
    const cc = confChange(entry.data);
    if (cc === undefined) return undefined;
    const real = Number.isSafeInteger(cc.nodeId) && identity.memberIds.includes(BigInt(cc.nodeId as number));
    if (cc.type === 'remove-node') return real ? 'a proposal to remove a real member (5)' : undefined;
    return cc.member !== undefined && !real && cc.member.peerURLs.length > 0 ? 'a proposal to add a member (5)' : undefined;
  }
  const asked = entry.data.length === 0 ? undefined : request(entry.data);
  if (asked?.alarm !== undefined || asked?.memberAttributes !== undefined || asked?.memberPeerUrls !== undefined) return 'a proposal of an alarm or of member attributes or URLs (5)';
  return undefined;
}

/** Why this snapshot stream, sent to `receiver`, must not be sent, or undefined (6). */
export function snapshotExclusion(chunks: SnapshotChunk[], receiver: Known, identity: Identity): string | undefined {
  const first = chunks[0];
  const m = first?.message;
  if (first === undefined || m === undefined || m.type !== MessageType.MsgSnap || m.to !== receiver.id || !forgedSender(first.clusterId, m.from, receiver, identity)) return undefined;
  if (m.term > forgedTermMax) return `a snapshot as ${m.from.toString(16)} at a term that could carry a majority past the term ceiling (7)`;
  const metadata = m.snapshot?.metadata;
  if (metadata === undefined || m.term < receiver.term || m.term > numberMax || metadata.index <= receiver.commit) return undefined;
  const last = chunks.findIndex((chunk) => chunk.last);
  const lastChunk = chunks[last];
  if (lastChunk === undefined) return undefined; // no chunk marked last (findIndex gave -1)
  const image = Buffer.concat(chunks.slice(0, last + 1).map((chunk) => chunk.data));
  const complete = lastChunk.totalBytes === BigInt(image.length) && createHash('sha256').update(image).digest().equals(lastChunk.sha256);
  return complete ? `a complete snapshot as ${m.from.toString(16)} at term ${m.term}, index ${metadata.index} (6)` : undefined;
}
