// The cluster's membership: who the members are (ID, name, peer and client
// URLs, learner or voter) and which IDs were removed. It lives in the
// backend (meta "members"), so it changes in the same transaction as the log
// index that changed it and travels inside snapshots. The Raft core keeps
// its own view (voters and learners); the node feeds both from the same
// committed entries.
import { Membership as StoredMembership } from '../../proto/gen/cairnpb/internal.js';
import type { Member } from '../../proto/gen/etcdserverpb/rpc.js';
import { encodeMessage } from '../codec.js';
import { raftNodeId } from './ids.js';
import type { Backend } from '../mvcc/backend.js';
import { ConfChangeType, type ConfChange, type ConfState } from '../raft/index.js';
import {
  MemberBadUrlsError,
  MemberExistsError,
  MemberNotFoundError,
  MemberNotLearnerError,
  PeerUrlExistsError,
  TooManyLearnersError,
} from './errors.js';

const metaMembers = 'members';
/** etcd's default: at most one learner at a time. */
export const learnersMax = 1;

/** What a ConfChange entry's context carries: the proposal's ID and, for additions, the member. */
export interface ConfChangeContext {
  requestId: bigint;
  member: Member | undefined;
}

export function encodeConfChangeContext(context: ConfChangeContext): string {
  const member = context.member === undefined ? '' : Buffer.from(encodeMember(context.member)).toString('hex');
  return JSON.stringify({ requestId: context.requestId.toString(), member });
}

export function decodeConfChangeContext(text: string | undefined): ConfChangeContext {
  if (text === undefined || text === '') return { requestId: 0n, member: undefined };
  const parsed = JSON.parse(text) as { requestId: string; member: string };
  return {
    requestId: BigInt(parsed.requestId),
    member: parsed.member === '' ? undefined : StoredMembership.decode(Buffer.from(parsed.member, 'hex')).members[0],
  };
}

function encodeMember(member: Member): Uint8Array {
  return StoredMembership.encode({ members: [member], removed: [] }).finish();
}

/**
 * etcd's rule for member URLs (types.NewURLs): at least one; each an
 * http(s) URL whose address is host:port with the port written out, and
 * nothing after it (no path). The port is checked on the text, because
 * Node's URL drops a scheme's default port.
 */
export function checkPeerUrls(peerUrls: readonly string[]): void {
  if (peerUrls.length === 0) throw new MemberBadUrlsError();
  for (const url of peerUrls) {
    const match = /^https?:\/\/([^/?#@\s]+)$/.exec(url.trim());
    const host = match?.[1];
    if (host === undefined || !/^(\[[0-9a-fA-F:.]+\]|[^:[\]]+):[0-9]{1,5}$/.test(host)) throw new MemberBadUrlsError();
    try {
      new URL(url.trim());
    } catch {
      throw new MemberBadUrlsError();
    }
  }
}

/**
 * Whether any of `peerUrls` is already a peer URL of one of `members`. As
 * etcd, URLs are compared as parsed, so white space around one does not
 * make it another (" http://a:1" is http://a:1, which checkPeerUrls accepts).
 */
function sharesPeerUrl(peerUrls: readonly string[], members: readonly Member[]): boolean {
  const taken = new Set(members.flatMap((member) => member.peerURLs.map((url) => url.trim())));
  return peerUrls.some((url) => taken.has(url.trim()));
}

export class Membership {
  private members = new Map<bigint, Member>();
  private removed = new Set<bigint>();

  constructor(private readonly backend: Backend) {
    this.reload();
  }

  /** Reads the membership the backend holds (after a restart or a snapshot). */
  reload(): void {
    const stored = this.backend.getMeta(metaMembers);
    const decoded = stored === undefined ? { members: [], removed: [] } : StoredMembership.decode(stored);
    this.members = new Map(decoded.members.map((member) => [member.ID, member]));
    this.removed = new Set(decoded.removed);
  }

  /** Members by ID, in ID order. */
  list(): Member[] {
    return [...this.members.values()].sort((a, b) => (a.ID < b.ID ? -1 : a.ID > b.ID ? 1 : 0));
  }

  get(id: bigint): Member | undefined {
    return this.members.get(id);
  }

  isRemoved(id: bigint): boolean {
    return this.removed.has(id);
  }

  /** The IDs of the present and the removed members (none of which MemberAdd may give again). */
  ids(): bigint[] {
    return [...this.members.keys(), ...this.removed];
  }

  /** The ID of the present or removed member the Raft core knows as `nodeId` (ids.ts raftNodeId). */
  idOfNode(nodeId: number): bigint | undefined {
    return this.ids().find((id) => raftNodeId(id) === nodeId);
  }

  confState(): ConfState {
    const voters: number[] = [];
    const learners: number[] = [];
    for (const member of this.members.values()) (member.isLearner ? learners : voters).push(raftNodeId(member.ID));
    return { voters, learners };
  }

  /** Checks a MemberAdd against the current membership. */
  validateAdd(peerUrls: readonly string[], isLearner: boolean): void {
    checkPeerUrls(peerUrls);
    if (sharesPeerUrl(peerUrls, this.list())) throw new PeerUrlExistsError();
    if (isLearner && this.list().filter((member) => member.isLearner).length >= learnersMax) throw new TooManyLearnersError();
  }

  validateRemove(id: bigint): void {
    if (!this.members.has(id)) throw new MemberNotFoundError();
  }

  validatePromote(id: bigint): void {
    const member = this.members.get(id);
    if (member === undefined) throw new MemberNotFoundError();
    if (!member.isLearner) throw new MemberNotLearnerError();
  }

  /** Checks a MemberUpdate: its URLs as a MemberAdd's (etcd 3.4 checks none, and its members then panic applying it). */
  validateUpdate(id: bigint, peerUrls: readonly string[]): void {
    checkPeerUrls(peerUrls);
    if (!this.members.has(id)) throw new MemberNotFoundError();
    if (sharesPeerUrl(peerUrls, this.list().filter((member) => member.ID !== id))) throw new PeerUrlExistsError();
  }

  /**
   * Applies a committed membership change (inside the apply transaction).
   * Returns the error the proposer gets when the change is refused here
   * (it was valid when proposed, but another change got in first).
   */
  applyConfChange(cc: ConfChange, member: Member | undefined): Error | undefined {
    const id = member?.ID ?? this.idOfNode(cc.nodeId) ?? BigInt(cc.nodeId);
    switch (cc.type) {
      case ConfChangeType.AddNode:
      case ConfChangeType.AddLearner: {
        const existing = this.members.get(id);
        if (existing !== undefined) {
          if (cc.type === ConfChangeType.AddLearner || !existing.isLearner) return new MemberExistsError();
          this.members.set(id, { ...existing, isLearner: false });
        } else {
          if (this.removed.has(id)) return new MemberNotFoundError();
          this.members.set(id, { ID: id, name: member?.name ?? '', peerURLs: member?.peerURLs ?? [], clientURLs: member?.clientURLs ?? [], isLearner: cc.type === ConfChangeType.AddLearner });
        }
        break;
      }
      case ConfChangeType.RemoveNode:
        if (!this.members.delete(id)) return new MemberNotFoundError();
        this.removed.add(id);
        break;
    }
    this.save();
    return undefined;
  }

  /** A member published its name and client URLs. */
  setAttributes(id: bigint, name: string, clientUrls: string[]): void {
    const member = this.members.get(id);
    if (member === undefined) return;
    this.members.set(id, { ...member, name, clientURLs: clientUrls });
    this.save();
  }

  setPeerUrls(id: bigint, peerUrls: string[]): Error | undefined {
    const member = this.members.get(id);
    if (member === undefined) return new MemberNotFoundError();
    this.members.set(id, { ...member, peerURLs: peerUrls });
    this.save();
    return undefined;
  }

  private save(): void {
    this.backend.putMeta(metaMembers, encodeMessage(StoredMembership, { members: this.list(), removed: [...this.removed] }));
  }
}
