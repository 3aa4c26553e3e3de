/**
 * RawNode: the application's handle on one Raft node. Single-threaded, synchronous, no I/O.
 *
 * The caller's loop, in this order (etcd-io/raft's contract; Raft's safety depends on it):
 *
 *   1. Inputs: tick() every tick interval; step(m) for each message received from a peer;
 *      propose(data) / proposeConfChange / readIndex / transferLeader for client requests.
 *   2. if hasReady(): rd = ready(), then
 *      a. PERSIST rd.snapshot (if any), then rd.entries (appending, replacing any conflicting
 *         suffix), then rd.hardState (if any) — durably (fsync) when rd.mustSync.
 *      b. SEND rd.messages (only now: a vote or an append ack promises what was just persisted).
 *         Report an unreachable peer with reportUnreachable, a snapshot's fate with reportSnapshot.
 *      c. APPLY rd.snapshot then rd.committedEntries to the state machine, in order; for a
 *         ConfChange entry call applyConfChange. Serve reads from rd.readStates once applied ≥ index.
 *      d. ADVANCE: advance(rd). Only then may ready() be called again.
 *
 * Between ready() and advance() the caller may still tick and step (the next Ready will carry what
 * that produced), which lets persistence of one batch overlap the processing of the next input.
 */
import { invariant } from './assert.js';
import type { RaftConfig } from './config.js';
import { encodeConfChange, type ConfChange } from './conf-change.js';
import { LocalMessageError, UnknownPeerError } from './errors.js';
import type { Progress } from './progress.js';
import { Raft } from './raft.js';
import {
  EntryType,
  hardStateEqual,
  isEmptyHardState,
  message,
  MessageType,
  None,
  type ConfState,
  type Entry,
  type HardState,
  type Message,
  type ReadState,
  type Snapshot,
  type SoftState,
} from './types.js';

export interface Ready {
  /** Present when lead or role changed; informational, never persisted. */
  readonly softState: SoftState | undefined;
  /** Present when it changed: persist before sending messages. */
  readonly hardState: HardState | undefined;
  /** Append to stable storage before sending messages. */
  readonly entries: Entry[];
  /** Persist (replacing the log) and apply before the committed entries. */
  readonly snapshot: Snapshot | undefined;
  /** Apply in order. They are already persisted, or are part of `entries` of this same Ready. */
  readonly committedEntries: Entry[];
  /** Send after persisting. */
  readonly messages: Message[];
  readonly readStates: ReadState[];
  /** Whether the writes above must be fsynced (vote, term or entries changed). */
  readonly mustSync: boolean;
}

export interface Status {
  readonly id: number;
  readonly hardState: HardState;
  readonly softState: SoftState;
  readonly applied: number;
  readonly lastIndex: number;
  /** Leader only: each member's progress. */
  readonly progress: ReadonlyMap<number, Pick<Progress, 'match' | 'next' | 'state'>>;
}

const localTypes: ReadonlySet<string> = new Set([MessageType.Hup, MessageType.Beat, MessageType.CheckQuorum]);
const responseTypes: ReadonlySet<string> = new Set([
  MessageType.AppResp, MessageType.HeartbeatResp, MessageType.VoteResp, MessageType.PreVoteResp,
]);

export class RawNode {
  readonly raft: Raft;
  private prevSoftState: SoftState;
  private prevHardState: HardState;
  private readyInFlight = false;

  constructor(config: RaftConfig) {
    this.raft = new Raft(config);
    this.prevSoftState = this.raft.softState();
    this.prevHardState = this.raft.hardState();
  }

  /** Advance logical time by one tick (heartbeats and election timeouts are counted in ticks). */
  tick(): void {
    this.raft.tick();
  }

  /** Start an election now (as if the election timeout elapsed). */
  campaign(): void {
    this.raft.step(message({ type: MessageType.Hup, from: this.raft.id }));
  }

  /**
   * Propose data to be appended to the log. On a follower the proposal is forwarded to the leader.
   * Throws ProposalDroppedError if it cannot be (no leader, transfer in progress, limits). A
   * proposal that does not throw may still be lost (leader change): the caller retries on timeout.
   */
  propose(data: Uint8Array): void {
    this.raft.propose([{ type: EntryType.Normal, term: 0, index: 0, data }]);
  }

  /** Propose a single-server membership change. Same errors as propose(). */
  proposeConfChange(cc: ConfChange): void {
    this.raft.propose([{ type: EntryType.ConfChange, term: 0, index: 0, data: encodeConfChange(cc) }]);
  }

  /** Apply a committed conf change (call while applying its entry). Returns the new membership. */
  applyConfChange(cc: ConfChange): ConfState {
    return this.raft.applyConfChange(cc);
  }

  /**
   * Step a message received from a peer. Throws LocalMessageError for local-only kinds and
   * UnknownPeerError for a response from a non-member. A forwarded proposal the leader cannot
   * accept is dropped silently (the proposer times out), as it would be on the network.
   */
  step(m: Message): void {
    if (localTypes.has(m.type)) throw new LocalMessageError(m.type);
    if (responseTypes.has(m.type) && !this.raft.tracker.progress.has(m.from)) throw new UnknownPeerError(m.from);
    try {
      this.raft.step(m);
    } catch (e) {
      if (e instanceof Error && e.name === 'ProposalDroppedError') return;
      throw e;
    }
  }

  /** Request a linearizable read; the answer arrives as a ReadState with this context. */
  readIndex(context: string): void {
    this.raft.step(message({ type: MessageType.ReadIndex, from: None, entries: [], context }));
  }

  /** Ask the leader to hand leadership to `transferee` (thesis §3.10). */
  transferLeader(transferee: number): void {
    this.raft.step(message({ type: MessageType.TransferLeader, from: transferee, to: this.raft.lead }));
  }

  /** The transport could not reach `id`: the leader stops streaming to it and probes instead. */
  reportUnreachable(id: number): void {
    this.raft.step(message({ type: MessageType.Unreachable, from: id }));
  }

  /** The transport finished (or failed) sending a snapshot to `id`. */
  reportSnapshot(id: number, failed: boolean): void {
    this.raft.step(message({ type: MessageType.SnapStatus, from: id, reject: failed }));
  }

  /** The snapshot the core took from the leader and waits to hand out in a Ready, if any. */
  pendingSnapshot(): Snapshot | undefined {
    return this.raft.log.unstable.snapshot;
  }

  hasReady(): boolean {
    const r = this.raft;
    const ss = r.softState();
    if (ss.lead !== this.prevSoftState.lead || ss.state !== this.prevSoftState.state) return true;
    const hs = r.hardState();
    if (!isEmptyHardState(hs) && !hardStateEqual(hs, this.prevHardState)) return true;
    if (r.log.unstable.snapshot !== undefined) return true;
    if (r.log.unstable.entries.length > 0 || r.msgs.length > 0 || r.readStates.length > 0) return true;
    return r.log.hasNextCommittedEntries();
  }

  /** What to persist, send and apply now. Invariant: the previous Ready was advanced. */
  ready(): Ready {
    invariant(!this.readyInFlight, 'ready() called again before advance()');
    const r = this.raft;
    const ss = r.softState();
    const hs = r.hardState();
    const softChanged = ss.lead !== this.prevSoftState.lead || ss.state !== this.prevSoftState.state;
    const hardChanged = !isEmptyHardState(hs) && !hardStateEqual(hs, this.prevHardState);
    const entries = r.log.unstableEntries();
    const rd: Ready = {
      softState: softChanged ? ss : undefined,
      hardState: hardChanged ? hs : undefined,
      entries,
      snapshot: r.log.unstable.snapshot,
      committedEntries: r.log.nextCommittedEntries(),
      messages: r.msgs,
      readStates: r.readStates,
      mustSync: entries.length > 0 || hs.term !== this.prevHardState.term || hs.vote !== this.prevHardState.vote,
    };
    r.msgs = [];
    r.readStates = [];
    this.prevSoftState = ss;
    this.readyInFlight = true;
    return rd;
  }

  /** The Ready was persisted, sent and applied. */
  advance(rd: Ready): void {
    invariant(this.readyInFlight, 'advance() without a ready()');
    this.readyInFlight = false;
    if (rd.hardState !== undefined) this.prevHardState = rd.hardState;
    let applied = 0;
    const lastCommitted = rd.committedEntries[rd.committedEntries.length - 1];
    if (lastCommitted !== undefined) applied = lastCommitted.index;
    else if (rd.snapshot !== undefined) applied = rd.snapshot.metadata.index;
    const last = rd.entries[rd.entries.length - 1];
    this.raft.advance(applied, last === undefined ? undefined : { index: last.index, term: last.term }, rd.snapshot?.metadata.index);
  }

  status(): Status {
    const r = this.raft;
    const progress = new Map<number, Pick<Progress, 'match' | 'next' | 'state'>>();
    if (r.state === 'leader') {
      for (const [id, pr] of r.tracker.progress) progress.set(id, { match: pr.match, next: pr.next, state: pr.state });
    }
    return { id: r.id, hardState: r.hardState(), softState: r.softState(), applied: r.log.applied, lastIndex: r.log.lastIndex(), progress };
  }
}
