/**
 * Raft: the consensus state machine of one node (Ongaro & Ousterhout, extended version; section
 * numbers below refer to it, "thesis" to Ongaro's PhD thesis). It performs no I/O: inputs are
 * tick() and step(message); outputs accumulate in `msgs`, the log's unstable part, `readStates`,
 * and are handed to the application by RawNode.ready().
 *
 * This file holds the state, role transitions, elections and the term rules of step(); the roles'
 * message handlers live in raft-leader.ts and raft-follower.ts.
 */
import { assertSafe, invariant } from './assert.js';
import { resolveConfig, type RaftConfig, type ResolvedConfig } from './config.js';
import { ConfChangeType, type ConfChange } from './conf-change.js';
import { RaftLog } from './log.js';
import { ReadOnly } from './read-only.js';
import { ProgressTracker, VoteResult } from './tracker.js';
import {
  campaignTransferContext,
  EntryType,
  isEmptyHardState,
  message,
  MessageType,
  None,
  StateType,
  type ConfState,
  type Entry,
  type HardState,
  type Message,
  type ReadState,
  type Snapshot,
  type SoftState,
} from './types.js';
import { bcastAppend, bcastHeartbeat, releasePendingReadIndexMessages, stepLeader } from './raft-leader.js';
import { stepCandidate, stepFollower } from './raft-follower.js';

export const CampaignType = { PreElection: 'pre-election', Election: 'election', Transfer: 'transfer' } as const;
export type CampaignType = (typeof CampaignType)[keyof typeof CampaignType];

export class Raft {
  readonly id: number;
  readonly config: ResolvedConfig;
  term = 0;
  /** Invariant: at most one vote per term; only changes from None (or to the same id). */
  vote = None;
  state: StateType = StateType.Follower;
  lead = None;
  readonly log: RaftLog;
  readonly tracker: ProgressTracker;
  /** Messages to send once the Ready that carries them is persisted. */
  msgs: Message[] = [];
  readStates: ReadState[] = [];
  /** Leader: ReadIndex requests received before an entry of this term committed (§6.4 step 1). */
  pendingReadIndexMessages: Message[] = [];
  readOnly = new ReadOnly();
  /** Leader: the node leadership is being transferred to, or None. */
  leadTransferee = None;
  /** Leader: index of the last conf change proposed; a new one waits until it is applied. */
  pendingConfIndex = 0;
  /** Leader: bytes of entries appended but not yet committed (bounded by config). */
  uncommittedSizeBytes = 0;
  electionElapsed = 0;
  heartbeatElapsed = 0;
  randomizedElectionTimeout = 0;

  constructor(c: RaftConfig) {
    this.config = resolveConfig(c);
    this.id = this.config.id;
    this.log = new RaftLog(this.config.storage, this.config.maxCommittedSizePerReadyBytes);
    this.tracker = new ProgressTracker(this.config.maxInflightMsgs, this.config.maxInflightBytes);
    const { hardState, confState } = this.config.storage.initialState();
    this.applyConfState(confState);
    if (!isEmptyHardState(hardState)) this.loadState(hardState);
    if (this.config.applied > 0) this.log.appliedTo(this.config.applied);
    this.becomeFollower(this.term, None);
  }

  private loadState(hs: HardState): void {
    invariant(
      hs.commit >= this.log.committed && hs.commit <= this.log.lastIndex(),
      () => `hard state commit ${hs.commit} is out of range [${this.log.committed}, ${this.log.lastIndex()}]`,
    );
    this.log.committed = hs.commit;
    this.term = hs.term;
    this.vote = hs.vote;
  }

  hardState(): HardState {
    return { term: this.term, vote: this.vote, commit: this.log.committed };
  }

  softState(): SoftState {
    return { lead: this.lead, state: this.state };
  }

  /** The last index on stable storage (everything before the unstable entries). */
  persistedIndex(): number {
    return this.log.unstable.offset - 1;
  }

  /** A member that may become leader: a voter of the current configuration. */
  promotable(): boolean {
    return this.tracker.isVoter(this.id);
  }

  // ---- sending ------------------------------------------------------------------------------

  /** Queue a message. Vote traffic carries its own term; everything else gets ours. */
  send(m: Message): void {
    m.from = this.id;
    if (m.type === MessageType.Vote || m.type === MessageType.VoteResp || m.type === MessageType.PreVote || m.type === MessageType.PreVoteResp) {
      invariant(m.term !== 0, () => `term should be set when sending ${m.type}`);
    } else {
      invariant(m.term === 0, () => `term should not be set when sending ${m.type} (was ${m.term})`);
      // Proposals and read requests forwarded to the leader are local messages for it: no term.
      if (m.type !== MessageType.Prop && m.type !== MessageType.ReadIndex) m.term = this.term;
    }
    this.msgs.push(m);
  }

  // ---- role transitions --------------------------------------------------------------------

  private setTerm(term: number): void {
    assertSafe(term, 'term');
    invariant(term >= this.term, () => `term cannot go back from ${this.term} to ${term}`);
    if (term !== this.term) {
      this.term = term;
      this.vote = None;
    }
  }

  /** Record a vote. Invariant (§5.2): one vote per term, never changed once cast. */
  setVote(id: number): void {
    invariant(
      this.config.bugs.voteTwicePerTerm === true || this.vote === None || this.vote === id,
      () => `node ${this.id} voted twice in term ${this.term}: ${this.vote} then ${id}`,
    );
    this.vote = id;
  }

  private reset(term: number): void {
    this.setTerm(term);
    this.lead = None;
    this.electionElapsed = 0;
    this.heartbeatElapsed = 0;
    this.randomizedElectionTimeout = this.config.electionTicks + this.config.random.intBelow(this.config.electionTicks);
    this.leadTransferee = None;
    this.tracker.resetVotes();
    const last = this.log.lastIndex();
    for (const id of this.tracker.memberIds()) {
      const pr = this.tracker.newProgress(id, 0, last + 1);
      if (id === this.id) pr.match = this.persistedIndex();
    }
    this.pendingConfIndex = 0;
    this.uncommittedSizeBytes = 0;
    this.readOnly = new ReadOnly();
    this.pendingReadIndexMessages = [];
  }

  becomeFollower(term: number, lead: number): void {
    this.reset(term);
    this.lead = lead;
    this.state = StateType.Follower;
  }

  becomePreCandidate(): void {
    invariant(this.state !== StateType.Leader, 'invalid transition [leader -> pre-candidate]');
    // A pre-election changes neither term nor vote (§9.6): it only asks whether it could win.
    this.tracker.resetVotes();
    this.lead = None;
    this.state = StateType.PreCandidate;
  }

  becomeCandidate(): void {
    invariant(this.state !== StateType.Leader, 'invalid transition [leader -> candidate]');
    this.reset(this.term + 1);
    this.setVote(this.id);
    this.state = StateType.Candidate;
  }

  becomeLeader(): void {
    invariant(this.state !== StateType.Follower, 'invalid transition [follower -> leader]');
    this.reset(this.term);
    this.lead = this.id;
    this.state = StateType.Leader;
    this.tracker.progress.get(this.id)!.becomeReplicate();
    // Conservatively forbid conf changes until everything in our log (which may hold an unapplied
    // conf change from an earlier leader) has been applied.
    this.pendingConfIndex = this.log.lastIndex();
    // §8: an empty entry of the new term lets the leader learn what is committed (§5.4.2).
    const ok = this.appendEntries([{ type: EntryType.Normal, term: 0, index: 0, data: new Uint8Array(0) }]);
    invariant(ok, 'empty entry was dropped');
  }

  // ---- time ---------------------------------------------------------------------------------

  tick(): void {
    if (this.state === StateType.Leader) this.tickHeartbeat();
    else this.tickElection();
  }

  private pastElectionTimeout(): boolean {
    return this.electionElapsed >= this.randomizedElectionTimeout;
  }

  private tickElection(): void {
    this.electionElapsed++;
    if (this.promotable() && this.pastElectionTimeout()) {
      this.electionElapsed = 0;
      this.step(message({ type: MessageType.Hup, from: this.id }));
    }
  }

  private tickHeartbeat(): void {
    this.heartbeatElapsed++;
    this.electionElapsed++;
    if (this.electionElapsed >= this.config.electionTicks) {
      this.electionElapsed = 0;
      if (this.config.checkQuorum) this.step(message({ type: MessageType.CheckQuorum, from: this.id }));
      // A transfer that did not finish within an election timeout is abandoned (thesis §3.10).
      if (this.state === StateType.Leader && this.leadTransferee !== None) this.leadTransferee = None;
    }
    if (this.state !== StateType.Leader) return;
    if (this.heartbeatElapsed >= this.config.heartbeatTicks) {
      this.heartbeatElapsed = 0;
      this.step(message({ type: MessageType.Beat, from: this.id }));
    }
  }

  // ---- elections (§5.2, §9.6 PreVote) -------------------------------------------------------

  hup(t: CampaignType): void {
    if (this.state === StateType.Leader) return;
    if (!this.promotable()) return;
    if (this.hasUnappliedConfChanges()) return;
    this.campaign(t);
  }

  private hasUnappliedConfChanges(): boolean {
    if (this.log.applied >= this.log.committed) return false;
    const ents = this.log.slice(this.log.applied + 1, this.log.committed + 1, Number.MAX_SAFE_INTEGER) ?? [];
    return ents.some((e) => e.type === EntryType.ConfChange);
  }

  campaign(t: CampaignType): void {
    let voteType: typeof MessageType.Vote | typeof MessageType.PreVote;
    let term: number;
    if (t === CampaignType.PreElection) {
      this.becomePreCandidate();
      voteType = MessageType.PreVote;
      term = this.term + 1; // the term we would campaign in
    } else {
      this.becomeCandidate();
      voteType = MessageType.Vote;
      term = this.term;
    }
    if (this.poll(this.id, true) === VoteResult.Won) {
      // A single-voter configuration wins at once.
      if (t === CampaignType.PreElection) this.campaign(CampaignType.Election);
      else this.becomeLeader();
      return;
    }
    const lastIndex = this.log.lastIndex();
    const lastTerm = this.log.lastTerm();
    for (const id of [...this.tracker.voters].sort((a, b) => a - b)) {
      if (id === this.id) continue;
      this.send(message({
        type: voteType, to: id, term, index: lastIndex, logTerm: lastTerm,
        context: t === CampaignType.Transfer ? campaignTransferContext : '',
      }));
    }
  }

  poll(id: number, granted: boolean): VoteResult {
    this.tracker.recordVote(id, granted);
    return this.tracker.tallyVotes().result;
  }

  // ---- step: the term rules common to every role (§5.1) --------------------------------------

  step(m: Message): void {
    if (m.term > this.term) {
      if (!this.acceptHigherTerm(m)) return;
    } else if (m.term !== 0 && m.term < this.term) {
      this.answerStaleTerm(m);
      return;
    }
    switch (m.type) {
      case MessageType.Hup:
        this.hup(this.config.preVote ? CampaignType.PreElection : CampaignType.Election);
        return;
      case MessageType.Vote:
      case MessageType.PreVote:
        this.handleVoteRequest(m);
        return;
      default:
        this.stepRole(m);
    }
  }

  private stepRole(m: Message): void {
    switch (this.state) {
      case StateType.Leader:
        stepLeader(this, m);
        return;
      case StateType.Follower:
        stepFollower(this, m);
        return;
      default:
        stepCandidate(this, m);
    }
  }

  /** A message from a higher term. Returns false if it must be ignored. */
  private acceptHigherTerm(m: Message): boolean {
    if (m.type === MessageType.Vote || m.type === MessageType.PreVote) {
      // CheckQuorum leases (thesis §4.2.3): while we hear from a leader, ignore vote requests so a
      // removed or partitioned node cannot depose it. A transfer campaign overrides the lease.
      const force = m.context === campaignTransferContext;
      const inLease = this.config.checkQuorum && this.lead !== None && this.electionElapsed < this.config.electionTicks;
      if (!force && inLease) return false;
    }
    if (m.type === MessageType.PreVote) return true; // never changes our term
    if (m.type === MessageType.PreVoteResp && !m.reject) return true; // the term is hypothetical
    const fromLeader = m.type === MessageType.App || m.type === MessageType.Heartbeat || m.type === MessageType.Snap;
    this.becomeFollower(m.term, fromLeader ? m.from : None);
    return true;
  }

  private answerStaleTerm(m: Message): void {
    if ((this.config.checkQuorum || this.config.preVote) && (m.type === MessageType.Heartbeat || m.type === MessageType.App)) {
      // A stale leader (e.g. partitioned, then healed) whose vote requests we would ignore learns of
      // the newer term from this response and steps down.
      this.send(message({ type: MessageType.AppResp, to: m.from }));
    } else if (m.type === MessageType.PreVote) {
      // Tell the pre-candidate our term, or it would wait for answers forever.
      this.send(message({ type: MessageType.PreVoteResp, to: m.from, term: this.term, reject: true }));
    }
  }

  /** §5.2 / §5.4.1: grant if we have not voted for another in this term and its log is up to date. */
  private handleVoteRequest(m: Message): void {
    const respType = m.type === MessageType.Vote ? MessageType.VoteResp : MessageType.PreVoteResp;
    const canVote =
      this.vote === m.from ||
      (this.vote === None && this.lead === None) ||
      (m.type === MessageType.PreVote && m.term > this.term) ||
      (m.type === MessageType.Vote && this.config.bugs.voteTwicePerTerm === true && this.state !== StateType.Leader);
    if (canVote && this.log.isUpToDate(m.index, m.logTerm)) {
      // A pre-vote answer carries the term the pre-candidate would use, so it counts it.
      this.send(message({ type: respType, to: m.from, term: m.term }));
      if (m.type === MessageType.Vote) {
        this.electionElapsed = 0;
        this.setVote(m.from);
      }
    } else {
      this.send(message({ type: respType, to: m.from, term: this.term, reject: true }));
    }
  }

  /** Candidate / pre-candidate: count a vote response. */
  handleVoteResponse(m: Message): void {
    const result = this.poll(m.from, !m.reject);
    if (result === VoteResult.Won) {
      if (this.state === StateType.PreCandidate) {
        this.campaign(CampaignType.Election);
      } else {
        this.becomeLeader();
        bcastAppend(this);
      }
    } else if (result === VoteResult.Lost) {
      this.becomeFollower(this.term, None);
    }
  }

  // ---- the leader's log ---------------------------------------------------------------------

  /** Leader: stamp and append entries to our own log. False if dropped (uncommitted size limit). */
  appendEntries(ents: Entry[]): boolean {
    const last = this.log.lastIndex();
    const stamped = ents.map((e, i): Entry => ({ type: e.type, term: this.term, index: last + 1 + i, data: e.data }));
    const size = stamped.reduce((s, e) => s + e.data.length, 0);
    const limit = this.config.maxUncommittedEntriesSizeBytes;
    if (limit > 0 && size > 0 && this.uncommittedSizeBytes > 0 && this.uncommittedSizeBytes + size > limit) return false;
    this.uncommittedSizeBytes += size;
    // The leader's own copy counts towards a quorum only once it is persisted (advance), so the
    // application may send these entries to followers while it writes them (thesis §10.2.1).
    this.log.append(stamped);
    return true;
  }

  /**
   * Leader: advance commit to the highest index stored on a quorum — only if it is an entry of the
   * current term (§5.4.2). Returns true if commit moved.
   */
  maybeCommit(): boolean {
    const before = this.log.committed;
    const quorumIndex = this.tracker.committed();
    if (this.config.bugs.commitPreviousTermEntries === true) {
      if (quorumIndex > this.log.committed) this.log.commitTo(quorumIndex);
    } else {
      this.log.maybeCommit(quorumIndex, this.term);
    }
    if (this.log.committed === before) return false;
    this.reduceUncommittedSize(before);
    return true;
  }

  private reduceUncommittedSize(previousCommit: number): void {
    if (this.uncommittedSizeBytes === 0) return;
    const ents = this.log.slice(previousCommit + 1, this.log.committed + 1, Number.MAX_SAFE_INTEGER) ?? [];
    const size = ents.reduce((s, e) => s + e.data.length, 0);
    this.uncommittedSizeBytes = Math.max(0, this.uncommittedSizeBytes - size);
  }

  /** Has the leader committed an entry of its own term yet? (needed before serving reads) */
  committedEntryInCurrentTerm(): boolean {
    return (this.log.term(this.log.committed) ?? 0) === this.term;
  }

  /** Leader or follower: handle a local proposal. Throws ProposalDroppedError. */
  propose(entries: Entry[]): void {
    this.step(message({ type: MessageType.Prop, from: this.id, entries }));
  }

  // ---- snapshots and membership -------------------------------------------------------------

  /** Follower: install a snapshot from the leader. Returns false if it was not needed. */
  restore(s: Snapshot): boolean {
    if (s.metadata.index <= this.log.committed) return false;
    if (this.log.matchTerm(s.metadata.index, s.metadata.term)) {
      // We already have the entries the snapshot covers: just commit up to it.
      this.log.commitTo(s.metadata.index);
      return false;
    }
    this.log.restore(s);
    this.applyConfState(s.metadata.confState);
    const last = this.log.lastIndex();
    for (const id of this.tracker.memberIds()) this.tracker.newProgress(id, 0, last + 1);
    return true;
  }

  private applyConfState(cs: ConfState): void {
    this.tracker.voters = new Set(cs.voters);
    this.tracker.learners = new Set(cs.learners);
    this.tracker.progress.clear();
    const last = this.log.lastIndex();
    for (const id of this.tracker.memberIds()) this.tracker.newProgress(id, 0, last + 1);
  }

  /** Apply a committed ConfChange (single-server change). Returns the new ConfState. */
  applyConfChange(cc: ConfChange): ConfState {
    const t = this.tracker;
    const id = cc.nodeId;
    const last = this.log.lastIndex();
    switch (cc.type) {
      case ConfChangeType.AddNode:
        if (t.learners.delete(id)) {
          t.voters.add(id);
          t.progress.get(id)!.isLearner = false;
        } else if (!t.voters.has(id)) {
          t.voters.add(id);
          t.newProgress(id, 0, last + 1);
        }
        break;
      case ConfChangeType.AddLearner:
        if (!t.voters.has(id) && !t.learners.has(id)) {
          t.learners.add(id);
          t.newProgress(id, 0, last + 1);
        }
        break;
      case ConfChangeType.RemoveNode:
        t.voters.delete(id);
        t.learners.delete(id);
        t.progress.delete(id);
        if (this.leadTransferee === id) this.leadTransferee = None;
        break;
    }
    if (this.state === StateType.Leader) {
      if (!t.voters.has(this.id)) {
        // A leader removed from the configuration steps down once the removal is applied.
        this.becomeFollower(this.term, None);
      } else if (t.voters.size > 0 && this.maybeCommit()) {
        bcastAppend(this); // the quorum may have shrunk
      }
    }
    return t.confState();
  }

  /** Called by RawNode.advance once the application persisted / applied a Ready. */
  advance(appliedIndex: number, stable: { index: number; term: number } | undefined, snapshotIndex: number | undefined): void {
    if (appliedIndex > 0) this.log.appliedTo(appliedIndex);
    if (stable !== undefined) {
      // Pairs with the Ready contract: what the caller says it persisted, storage must hold.
      invariant(this.log.storage.lastIndex() >= stable.index, () => `advance: entries up to ${stable.index} were not persisted (storage ends at ${this.log.storage.lastIndex()})`);
      this.log.stableTo(stable.index, stable.term);
    }
    if (snapshotIndex !== undefined) this.log.stableSnapTo(snapshotIndex);
    if (this.state === StateType.Leader && this.tracker.progress.get(this.id)?.maybeUpdate(this.persistedIndex()) === true && this.maybeCommit()) {
      releasePendingReadIndexMessages(this);
      bcastAppend(this);
    }
    this.assertInvariants();
  }

  /** applied ≤ committed ≤ lastIndex; leader's own progress matches its log. */
  assertInvariants(): void {
    const { applied, committed } = this.log;
    const last = this.log.lastIndex();
    invariant(applied <= committed && committed <= last, () => `node ${this.id}: applied(${applied}) <= committed(${committed}) <= lastIndex(${last}) broken`);
    if (this.state === StateType.Leader) {
      invariant(this.lead === this.id, 'a leader leads itself');
    }
  }

  /** Used by the leader's heartbeat broadcast: exposes bcastHeartbeat for tests. */
  broadcastHeartbeat(): void {
    bcastHeartbeat(this);
  }
}
