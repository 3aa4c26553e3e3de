/**
 * The leader's message handling: replication with per-follower flow control (§5.3), commit
 * (§5.4.2), CheckQuorum, ReadIndex (§6.4) and leadership transfer (thesis §3.10).
 */
import { ConfChangeType, decodeConfChange } from './conf-change.js';
import { ReadOnlyOption } from './config.js';
import { ProposalDroppedError, SnapshotTemporarilyUnavailableError } from './errors.js';
import { ProgressState, type Progress } from './progress.js';
import type { Raft } from './raft.js';
import { EntryType, entrySizeBytes, message, MessageType, None, type Entry, type Message } from './types.js';

export function stepLeader(r: Raft, m: Message): void {
  switch (m.type) {
    case MessageType.Beat:
      bcastHeartbeat(r);
      return;
    case MessageType.CheckQuorum:
      checkQuorum(r);
      return;
    case MessageType.Prop:
      handleProposal(r, m);
      return;
    case MessageType.ReadIndex:
      handleReadIndex(r, m);
      return;
  }
  const pr = r.tracker.progress.get(m.from);
  if (pr === undefined) return; // not (or no longer) a member
  switch (m.type) {
    case MessageType.AppResp:
      handleAppendResponse(r, m, pr);
      return;
    case MessageType.HeartbeatResp:
      handleHeartbeatResponse(r, m, pr);
      return;
    case MessageType.SnapStatus:
      // The transport reports whether the snapshot reached the follower. Either way, probe: on
      // success from after the snapshot, on failure from match + 1 (and a new snapshot if needed).
      if (pr.state !== ProgressState.Snapshot) return;
      if (m.reject) pr.pendingSnapshot = 0;
      pr.becomeProbe();
      pr.probeSent = true; // wait for the follower's answer or the next heartbeat
      return;
    case MessageType.Unreachable:
      if (pr.state === ProgressState.Replicate) pr.becomeProbe();
      return;
    case MessageType.TransferLeader:
      handleTransferLeader(r, m, pr);
      return;
  }
}

/** A leader that has not heard from a quorum within an election timeout steps down. */
function checkQuorum(r: Raft): void {
  if (!r.tracker.quorumActive(r.id)) r.becomeFollower(r.term, None);
  for (const [id, pr] of r.tracker.progress) pr.recentActive = id === r.id;
}

function handleProposal(r: Raft, m: Message): void {
  if (m.entries.length === 0) throw new ProposalDroppedError('empty proposal');
  if (!r.tracker.progress.has(r.id)) throw new ProposalDroppedError('leader was removed from the configuration');
  if (r.leadTransferee !== None) throw new ProposalDroppedError(`leadership transfer to ${r.leadTransferee} in progress`);
  const entries = m.entries.map((e, i): Entry => {
    if (e.type !== EntryType.ConfChange) return e;
    // Single-server changes must not overlap: one unapplied conf change at a time (thesis §4.1),
    // and a new leader first commits an entry of its own term (the raft-dev 2015 fix).
    if (r.pendingConfIndex > r.log.applied || !r.committedEntryInCurrentTerm() || !confChangeAllowed(r, e)) {
      return { type: EntryType.Normal, term: 0, index: 0, data: new Uint8Array(0) };
    }
    r.pendingConfIndex = r.log.lastIndex() + i + 1;
    return e;
  });
  if (!r.appendEntries(entries)) throw new ProposalDroppedError('too many uncommitted bytes');
  bcastAppend(r);
}

/** Refuse changes that would leave no voter. */
function confChangeAllowed(r: Raft, e: Entry): boolean {
  const cc = decodeConfChange(e.data);
  if (cc.type === ConfChangeType.RemoveNode && r.tracker.voters.has(cc.nodeId)) return r.tracker.voters.size > 1;
  return true;
}

// ---- replication (§5.3) -----------------------------------------------------------------------

/**
 * Send entries (or a snapshot, if they are compacted) to one follower, unless flow control pauses
 * it. Returns true if a message was sent.
 */
export function sendAppend(r: Raft, to: number, sendIfEmpty = true): boolean {
  const pr = r.tracker.progress.get(to);
  if (pr === undefined || pr.isPaused()) return false;
  const prevTerm = r.log.term(pr.next - 1);
  const entries = r.log.entriesFrom(pr.next, r.config.maxSizePerMsgBytes);
  if (prevTerm === undefined || entries === undefined) return sendSnapshot(r, to, pr);
  if (entries.length === 0 && !sendIfEmpty) return false;
  r.send(message({ type: MessageType.App, to, index: pr.next - 1, logTerm: prevTerm, entries, commit: r.log.committed }));
  const lastEntry = entries[entries.length - 1];
  if (lastEntry !== undefined) {
    const last = lastEntry.index;
    if (pr.state === ProgressState.Replicate) {
      pr.optimisticUpdate(last);
      pr.inflights.add(last, entries.reduce((s, e) => s + entrySizeBytes(e), 0));
    } else {
      pr.probeSent = true;
    }
  }
  return true;
}

function sendSnapshot(r: Raft, to: number, pr: Progress): boolean {
  // A snapshot is expensive: only send it to a follower we heard from recently.
  if (!pr.recentActive) return false;
  let snapshot;
  try {
    snapshot = r.log.snapshot();
  } catch (e) {
    if (e instanceof SnapshotTemporarilyUnavailableError) return false;
    throw e;
  }
  pr.becomeSnapshot(snapshot.metadata.index);
  r.send(message({ type: MessageType.Snap, to, snapshot }));
  return true;
}

export function bcastAppend(r: Raft): void {
  for (const id of r.tracker.progress.keys()) if (id !== r.id) sendAppend(r, id);
}

export function bcastHeartbeat(r: Raft): void {
  const context = r.readOnly.lastPendingContext();
  for (const id of r.tracker.progress.keys()) if (id !== r.id) sendHeartbeat(r, id, context);
}

function sendHeartbeat(r: Raft, to: number, context: string): void {
  // Never tell a follower to commit beyond what it is known to have: it might not have it yet.
  const commit = Math.min(r.tracker.progress.get(to)!.match, r.log.committed);
  r.send(message({ type: MessageType.Heartbeat, to, commit, context }));
}

function handleAppendResponse(r: Raft, m: Message, pr: Progress): void {
  pr.recentActive = true;
  if (m.reject) {
    // Fast backtracking: the follower told us the last index ≤ m.index whose term ≤ m.logTerm;
    // skip our own entries of terms above that as well.
    let nextProbe = m.rejectHint;
    if (m.logTerm > 0) nextProbe = r.log.findConflictByTerm(m.rejectHint, m.logTerm)[0];
    if (pr.maybeDecrTo(m.index, nextProbe)) {
      if (pr.state === ProgressState.Replicate) pr.becomeProbe();
      sendAppend(r, m.from);
    }
    return;
  }
  const wasPaused = pr.isPaused();
  if (!pr.maybeUpdate(m.index)) return;
  if (pr.state === ProgressState.Probe) pr.becomeReplicate();
  else if (pr.state === ProgressState.Snapshot && pr.match >= pr.pendingSnapshot) pr.becomeProbe();
  else if (pr.state === ProgressState.Replicate) pr.inflights.freeLE(m.index);

  if (r.maybeCommit()) {
    releasePendingReadIndexMessages(r);
    bcastAppend(r);
  } else if (wasPaused) {
    sendAppend(r, m.from);
  }
  // Flow control may have opened: send as many (size-limited) messages as it now allows.
  while (sendAppend(r, m.from, false)) { /* keep streaming */ }
  if (m.from === r.leadTransferee && pr.match === r.log.lastIndex()) sendTimeoutNow(r, m.from);
}

function handleHeartbeatResponse(r: Raft, m: Message, pr: Progress): void {
  pr.recentActive = true;
  pr.probeSent = false;
  // The follower is alive: let one more message through even if the window is full.
  if (pr.state === ProgressState.Replicate && pr.inflights.full()) pr.inflights.freeFirstOne();
  if (pr.match < r.log.lastIndex()) sendAppend(r, m.from);

  if (r.config.readOnlyOption !== ReadOnlyOption.Safe || m.context === '') return;
  const acks = r.readOnly.recvAck(m.from, m.context);
  if (acks === undefined) return;
  let granted = 0;
  for (const id of acks) if (r.tracker.voters.has(id)) granted++;
  if (granted < r.tracker.quorum()) return;
  for (const rs of r.readOnly.advance(m.context)) respondToReadIndex(r, rs.request, rs.index);
}

// ---- ReadIndex (§6.4) ---------------------------------------------------------------------------

function handleReadIndex(r: Raft, m: Message): void {
  if (r.tracker.voters.size === 1 && r.tracker.voters.has(r.id)) {
    respondToReadIndex(r, m, r.log.committed);
    return;
  }
  // Until an entry of this term commits, the leader's commit index may lag the true one (§6.4 step 1).
  if (!r.committedEntryInCurrentTerm()) {
    r.pendingReadIndexMessages.push(m);
    return;
  }
  serveReadIndex(r, m);
}

function serveReadIndex(r: Raft, m: Message): void {
  if (r.config.readOnlyOption === ReadOnlyOption.LeaseBased) {
    respondToReadIndex(r, m, r.log.committed);
    return;
  }
  r.readOnly.addRequest(r.log.committed, m);
  r.readOnly.recvAck(r.id, m.context);
  for (const id of r.tracker.progress.keys()) if (id !== r.id) sendHeartbeat(r, id, m.context);
}

function respondToReadIndex(r: Raft, request: Message, index: number): void {
  if (request.from === None || request.from === r.id) {
    r.readStates.push({ index, context: request.context });
  } else {
    r.send(message({ type: MessageType.ReadIndexResp, to: request.from, index, context: request.context }));
  }
}

export function releasePendingReadIndexMessages(r: Raft): void {
  if (r.pendingReadIndexMessages.length === 0 || !r.committedEntryInCurrentTerm()) return;
  const pending = r.pendingReadIndexMessages;
  r.pendingReadIndexMessages = [];
  for (const m of pending) serveReadIndex(r, m);
}

// ---- leadership transfer (thesis §3.10) ---------------------------------------------------------

function handleTransferLeader(r: Raft, m: Message, pr: Progress): void {
  const transferee = m.from;
  if (pr.isLearner) return;
  if (r.leadTransferee !== None) {
    if (r.leadTransferee === transferee) return; // already in progress
    r.leadTransferee = None; // abort the previous one
  }
  if (transferee === r.id) return;
  r.electionElapsed = 0; // the transfer must finish within one election timeout
  r.leadTransferee = transferee;
  if (pr.match === r.log.lastIndex()) sendTimeoutNow(r, transferee);
  else sendAppend(r, transferee);
}

function sendTimeoutNow(r: Raft, to: number): void {
  r.send(message({ type: MessageType.TimeoutNow, to }));
}
