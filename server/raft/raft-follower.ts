/**
 * Message handling of followers, candidates and pre-candidates: AppendEntries and InstallSnapshot
 * receivers (§5.3, §7), vote counting, forwarding of proposals and reads to the leader.
 */
import { ProposalDroppedError } from './errors.js';
import { CampaignType, type Raft } from './raft.js';
import { message, MessageType, None, StateType, type Message } from './types.js';

export function stepFollower(r: Raft, m: Message): void {
  switch (m.type) {
    case MessageType.Prop:
      if (r.lead === None) throw new ProposalDroppedError('no leader');
      if (r.config.disableProposalForwarding) throw new ProposalDroppedError(`not the leader (leader is ${r.lead})`);
      forwardToLeader(r, m);
      return;
    case MessageType.App:
      heardFromLeader(r, m);
      handleAppendEntries(r, m);
      return;
    case MessageType.Heartbeat:
      heardFromLeader(r, m);
      handleHeartbeat(r, m);
      return;
    case MessageType.Snap:
      heardFromLeader(r, m);
      handleSnapshot(r, m);
      return;
    case MessageType.TransferLeader:
    case MessageType.ReadIndex:
      if (r.lead === None) return; // dropped: the caller retries after a timeout
      forwardToLeader(r, m);
      return;
    case MessageType.TimeoutNow:
      // The leader asks us to campaign at once, ignoring leases (thesis §3.10). No pre-vote: the
      // leader has already checked our log is up to date.
      r.hup(CampaignType.Transfer);
      return;
    case MessageType.ReadIndexResp:
      r.readStates.push({ index: m.index, context: m.context });
      return;
  }
}

function forwardToLeader(r: Raft, m: Message): void {
  const fwd = message({ ...m, to: r.lead, term: 0 });
  r.send(fwd);
}

function heardFromLeader(r: Raft, m: Message): void {
  r.electionElapsed = 0;
  r.lead = m.from;
}

export function stepCandidate(r: Raft, m: Message): void {
  const myResponse = r.state === StateType.PreCandidate ? MessageType.PreVoteResp : MessageType.VoteResp;
  switch (m.type) {
    case MessageType.Prop:
      throw new ProposalDroppedError('no leader (election in progress)');
    case MessageType.App:
      // A leader of our term (or, for a pre-candidate, of the current term) exists: §5.2.
      r.becomeFollower(m.term, m.from);
      handleAppendEntries(r, m);
      return;
    case MessageType.Heartbeat:
      r.becomeFollower(m.term, m.from);
      handleHeartbeat(r, m);
      return;
    case MessageType.Snap:
      r.becomeFollower(m.term, m.from);
      handleSnapshot(r, m);
      return;
    case MessageType.VoteResp:
    case MessageType.PreVoteResp:
      if (m.type === myResponse) r.handleVoteResponse(m);
      return;
  }
}

/** §5.3 AppendEntries receiver, answering with fast-backtracking hints on rejection. */
function handleAppendEntries(r: Raft, m: Message): void {
  if (m.index < r.log.committed) {
    // Everything up to our commit is already known to match: answer with it.
    r.send(message({ type: MessageType.AppResp, to: m.from, index: r.log.committed }));
    return;
  }
  const lastNew = r.log.maybeAppend(m.index, m.logTerm, m.commit, m.entries);
  if (lastNew !== undefined) {
    r.send(message({ type: MessageType.AppResp, to: m.from, index: lastNew }));
    return;
  }
  // Reject with the last index ≤ m.index whose term ≤ m.logTerm, so the leader can skip every
  // entry in between in one round trip.
  const probe = Math.min(m.index, r.log.lastIndex());
  const [hintIndex, hintTerm] = r.log.findConflictByTerm(probe, m.logTerm);
  r.send(message({ type: MessageType.AppResp, to: m.from, index: m.index, reject: true, rejectHint: hintIndex, logTerm: hintTerm }));
}

function handleHeartbeat(r: Raft, m: Message): void {
  r.log.commitTo(m.commit);
  r.send(message({ type: MessageType.HeartbeatResp, to: m.from, context: m.context }));
}

/** §7 InstallSnapshot receiver. */
function handleSnapshot(r: Raft, m: Message): void {
  const snapshot = m.snapshot;
  if (snapshot === undefined) return;
  if (r.restore(snapshot)) {
    r.send(message({ type: MessageType.AppResp, to: m.from, index: r.log.lastIndex() }));
  } else {
    r.send(message({ type: MessageType.AppResp, to: m.from, index: r.log.committed }));
  }
}
