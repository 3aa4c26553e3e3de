// The node's half of the peer checks (the transport's half is in
// transport/peer-checks.ts): what needs the core's state — its term, its log,
// who leads — or the meaning of log entries. A message refused here is
// dropped before the core sees it; the node logs why.
//
// - Terms: within termAcceptable of this member's own term.
// - A heartbeat's commit and an append response's index never pass this
//   member's log (a correct leader sends commit ≤ the follower's match; a
//   follower answers with indexes of the leader's own log).
// - MsgTimeoutNow comes from the leader; vote responses go to voters only.
// - An append's entries all decode (entry-payloads.ts), or the whole append is
//   dropped: a garbage entry in the log would stop this member when applied,
//   and again at every restart.
// - A proposal forwarded by a peer is checked as a client request would be,
//   and a proposed membership change against the membership.
// Requests decoded here are kept (remember), so applying them decodes nothing.
import type { InternalRequest } from '../../proto/gen/cairnpb/internal.js';
import type { Membership } from '../membership/membership.js';
import { EntryType, MessageType, type Message } from '../raft/index.js';
import { termAcceptable } from '../transport/peer-checks.js';
import {
  checkProposedConfChange,
  checkProposedRequest,
  decodeConfChangeEntry,
  decodeRequest,
  EntryPayloadError,
  type ProposalLimits,
} from './entry-payloads.js';

/** The core's state the checks compare a message with. */
export interface CoreView {
  readonly term: number;
  /** The leader this member follows, None (0) when it knows none. */
  readonly lead: number;
  readonly lastIndex: number;
  readonly isLearner: boolean;
}

export interface AdmissionParts {
  membership: Pick<Membership, 'get' | 'isRemoved' | 'idOfNode'>;
  limits: ProposalLimits;
  /** Keeps a request decoded on receipt, by its entry's data. */
  remember(data: Uint8Array, request: InternalRequest): void;
}

/** Why a message from a peer must not reach the core, or undefined. */
export function admissionRefusal(m: Message, core: CoreView, parts: AdmissionParts): string | undefined {
  return stateRefusal(m, core) ?? payloadRefusal(m, parts);
}

function stateRefusal(m: Message, core: CoreView): string | undefined {
  if (!termAcceptable(m.term, core.term)) return `term ${m.term} is absurd for a member at term ${core.term}`;
  switch (m.type) {
    case MessageType.Heartbeat:
      return m.commit > core.lastIndex ? `commit ${m.commit} is beyond this member's last index ${core.lastIndex}` : undefined;
    case MessageType.AppResp:
      return m.index > core.lastIndex ? `index ${m.index} is beyond this member's last index ${core.lastIndex}` : undefined;
    case MessageType.TimeoutNow:
      return m.from !== core.lead ? `${m.from.toString(16)} is not the leader this member follows` : undefined;
    case MessageType.VoteResp:
    case MessageType.PreVoteResp:
      return core.isLearner ? 'a learner asks for no votes' : undefined;
    default:
      return undefined;
  }
}

function payloadRefusal(m: Message, parts: AdmissionParts): string | undefined {
  if (m.entries.length === 0) return undefined;
  const proposal = m.type === MessageType.Prop;
  const decoded: Array<[Uint8Array, InternalRequest]> = [];
  let position = 0;
  try {
    for (const entry of m.entries) {
      position++;
      if (entry.type === EntryType.ConfChange) {
        const change = decodeConfChangeEntry(entry.data);
        if (proposal) checkProposedConfChange(change, parts.membership);
      } else if (entry.data.length > 0) {
        const request = decodeRequest(entry.data);
        if (proposal) checkProposedRequest(request, entry.data.length, m.from, parts.limits);
        decoded.push([entry.data, request]);
      }
    }
  } catch (error) {
    if (!(error instanceof EntryPayloadError)) throw error;
    return `entry ${position} of ${m.entries.length} is refused: ${error.message}`;
  }
  for (const [data, request] of decoded) parts.remember(data, request);
  return undefined;
}
