// The node loop: the one Ready loop around the Raft core, run by the server
// (server/node/raft-node.ts) and by the simulator (test/sim/cluster.ts)
// alike. It is given a Clock, a Sender, the log storage and the state
// machine as interfaces and owns nothing else; what they are — a WAL on disk
// and the MVCC backend, or the simulator's faulty disk and register machine —
// it does not know.
//
// It does the caller's duties in the order Raft's safety needs (rawnode.ts):
// persist, send, apply, advance — with two optimisations, both exercised by
// every simulated seed:
//
//  - A leader's appends and heartbeats promise nothing about its own disk (the
//    core counts the leader's copy only at advance, once it is durable), so
//    they are sent while the leader's write is in flight (thesis §10.2.1).
//    Every other message — a vote, an append ack — promises what was just
//    written, and waits for the sync.
//  - Committed entries already durable here are applied while this Ready's own
//    entries are being written (the sync is asked for before they are
//    applied), so a client's answer does not wait for the sync of the next
//    batch, nor the sync for the applying.
//
// It is deterministic: everything it does happens in a call from its caller or
// in a callback of its Clock or of the log's sync, in an order those fix.
import type { Clock, Timer } from '../clock.js';
import {
  MessageType,
  None,
  RawNode,
  StateType,
  type ConfChange,
  type ConfState,
  type DeliberateBugs,
  type Entry,
  type HardState,
  type Message,
  type Random,
  type Raft,
  type ReadState,
  type Ready,
  type Snapshot,
  type SoftState,
  type Status,
  type Storage,
} from '../raft/index.js';

/** Delivers messages to peers; delivery may fail or reorder: Raft copes. */
export interface Sender {
  send(messages: readonly Message[]): void;
}

/**
 * The Raft log on stable storage. Writes take effect at once for the core
 * (`storage`) but are durable only once a later `sync` has called back. What
 * `storage` holds when the loop starts is durable (it was read back from disk).
 */
export interface LogStorage {
  /** What the core reads: every entry written, durable or not, behind the latest snapshot. */
  readonly storage: Storage;
  /** Appends entries (replacing any suffix they conflict with), then the hard state. Not yet durable. */
  write(entries: readonly Entry[], hardState: HardState | undefined): void;
  /** Calls `done` once every write made before the call is durable, or with the error after which the member must stop. */
  sync(done: (error?: Error) => void): void;
  /** Restarts the log at a snapshot installed from the leader (not yet durable: the Ready's sync covers it). */
  installSnapshot(snapshot: Snapshot): void;
}

/** The core's side of a committed membership change. */
export interface ConfChangeTarget {
  /** Applies `cc` to the core's configuration (call while applying its entry); returns the new one. */
  applyConfChange(cc: ConfChange): ConfState;
}

/** The replicated state machine. */
export interface StateMachine {
  /**
   * Applies committed entries, in log order, each at most once (entries it
   * already holds are redelivered after a restart). A ConfChange entry is
   * handed to `core.applyConfChange` in its turn, redelivered or not.
   * Throws only when the member must stop.
   */
  apply(entries: readonly Entry[], core: ConfChangeTarget): void;
  /** Replaces the state with a snapshot's; `done` once it is durable, or with the error after which the member must stop. */
  install(snapshot: Snapshot, done: (error?: Error) => void): void;
  /** Everything up to `appliedIndex` is applied (and its Ready advanced past): the moment to take a snapshot. */
  checkpoint(appliedIndex: number, confState: ConfState): void;
}

/** What the member around the loop learns from it. */
export interface LoopEvents {
  /** Called before each Ready is taken: the moment to hand the core work gathered meanwhile (a batch of reads). */
  beforeReady(): void;
  /** The leader known to this member, or its role, changed from `previous` to `soft`. */
  roleChanged(soft: SoftState, previous: SoftState): void;
  /** Answers to ReadIndex requests, and entries up to `appliedIndex` are applied. */
  applied(appliedIndex: number, readStates: readonly ReadState[]): void;
  /** The loop stopped for good: storage or the state machine failed, or an invariant broke. */
  fatal(error: Error): void;
}

export interface LoopOptions {
  id: number;
  tickMs: number;
  electionTicks: number;
  heartbeatTicks: number;
  random: Random;
  /** The state machine holds every entry up to here (its snapshot's index on restart). */
  applied: number;
  maxSizePerMsgBytes: number;
  maxInflightMsgs: number;
  maxUncommittedEntriesSizeBytes?: number;
  /** Only the simulator sets these (proving that it catches broken cores). */
  bugs?: DeliberateBugs;
}

export interface LoopParts {
  clock: Clock;
  sender: Sender;
  log: LogStorage;
  stateMachine: StateMachine;
  events: LoopEvents;
}

/** What only a leader sends: replication that may leave before the leader's own write is durable. */
const leaderMessageTypes: ReadonlySet<string> = new Set([MessageType.App, MessageType.Heartbeat, MessageType.Snap]);

export class NodeLoop implements ConfChangeTarget {
  private readonly raw: RawNode;
  private ticker: Timer | undefined;
  /** A turn of the loop is due (queued on the clock). */
  private scheduled = false;
  /** The Ready being persisted and applied; the next is taken only once it is advanced. */
  private inFlight: Ready | undefined;
  private pausedBy: (() => void) | undefined;
  private idleWaiters: Array<() => void> = [];
  private stopped = false;
  private soft: SoftState = { lead: None, state: StateType.Follower };
  private confStateValue: ConfState;
  private appliedIndexValue: number;
  /**
   * The last index whose entry is durable: covered by a sync that called back,
   * and not replaced since. Kept here, where every write and sync is issued,
   * so no log storage has to track it.
   */
  private durableIndex: number;

  constructor(private readonly parts: LoopParts, private readonly options: LoopOptions) {
    this.confStateValue = parts.log.storage.initialState().confState;
    this.appliedIndexValue = options.applied;
    this.durableIndex = parts.log.storage.lastIndex();
    this.raw = new RawNode({
      id: options.id,
      storage: parts.log.storage,
      electionTicks: options.electionTicks,
      heartbeatTicks: options.heartbeatTicks,
      random: options.random,
      applied: options.applied,
      maxSizePerMsgBytes: options.maxSizePerMsgBytes,
      maxInflightMsgs: options.maxInflightMsgs,
      maxUncommittedEntriesSizeBytes: options.maxUncommittedEntriesSizeBytes ?? 0,
      bugs: options.bugs,
    });
  }

  /** The core's state, to read (status, checks); every change goes through the methods below. */
  get raft(): Raft {
    return this.raw.raft;
  }

  status(): Status {
    return this.raw.status();
  }

  get lead(): number {
    return this.soft.lead;
  }

  get state(): StateType {
    return this.soft.state;
  }

  get confState(): ConfState {
    return this.confStateValue;
  }

  get appliedIndex(): number {
    return this.appliedIndexValue;
  }

  /** The snapshot from the leader the core waits to install, if any. */
  get pendingSnapshot(): Snapshot | undefined {
    return this.raw.pendingSnapshot();
  }

  get isStopped(): boolean {
    return this.stopped;
  }

  /**
   * Starts ticking. As etcd (initial election tick advance), most of the
   * first election timeout is skipped, so a new cluster elects a leader
   * within about one heartbeat once its members are up; PreVote and the
   * leader lease keep a restarted member from disrupting a leader it has not
   * heard from yet. A lone voter campaigns at once.
   */
  start(): void {
    this.ticker = this.parts.clock.every(this.options.tickMs, () => this.tick());
    for (let tick = 1; tick < this.options.electionTicks; tick++) this.raw.tick();
    this.campaignIfAlone();
    this.schedule();
  }

  tick(): void {
    if (this.stopped) return;
    this.raw.tick();
    this.schedule();
  }

  /** Starts an election now, as if the election timeout elapsed. */
  campaign(): void {
    this.raw.campaign();
    this.schedule();
  }

  /** A message from a peer, already checked. Throws what RawNode.step throws (UnknownPeerError…). */
  step(m: Message): void {
    if (this.stopped) return;
    this.raw.step(m);
    this.schedule();
  }

  /** Throws ProposalDroppedError when the core cannot take it (no leader, transfer, limits). */
  propose(data: Uint8Array): void {
    this.raw.propose(data);
    this.schedule();
  }

  /** Throws ProposalDroppedError as propose(). */
  proposeConfChange(cc: ConfChange): void {
    this.raw.proposeConfChange(cc);
    this.schedule();
  }

  readIndex(context: string): void {
    this.raw.readIndex(context);
    this.schedule();
  }

  transferLeader(transferee: number): void {
    this.raw.transferLeader(transferee);
    this.schedule();
  }

  reportUnreachable(id: number): void {
    if (this.stopped) return;
    this.raw.reportUnreachable(id);
    this.schedule();
  }

  reportSnapshot(id: number, failed: boolean): void {
    if (this.stopped) return;
    this.raw.reportSnapshot(id, failed);
    this.schedule();
  }

  /** Something outside the core has work for the next turn (reads queued while no leader was known). */
  wake(): void {
    this.schedule();
  }

  applyConfChange(cc: ConfChange): ConfState {
    this.confStateValue = this.raw.applyConfChange(cc);
    return this.confStateValue;
  }

  /** Resolves once no Ready is in flight; no other is taken until `resume`. */
  pause(): Promise<void> {
    return new Promise((resolve) => {
      this.pausedBy = resolve;
      if (this.inFlight === undefined) this.settleIdle();
    });
  }

  resume(): void {
    this.pausedBy = undefined;
    this.schedule();
  }

  /** Stops ticking and taking Readys; resolves once the Ready in flight, if any, is done. */
  stop(): Promise<void> {
    this.stopped = true;
    this.ticker?.cancel();
    if (this.inFlight === undefined) return Promise.resolve();
    return new Promise((resolve) => this.idleWaiters.push(resolve));
  }

  private schedule(): void {
    if (this.scheduled || this.inFlight !== undefined || this.stopped || this.pausedBy !== undefined) return;
    this.scheduled = true;
    this.parts.clock.soon(() => {
      this.scheduled = false;
      this.guarded(() => this.turn());
    });
  }

  /** Runs a step of the loop; what it throws stops the member (it cannot trust what it would do next). */
  private guarded(work: () => void): void {
    try {
      work();
    } catch (error) {
      this.fail(error as Error);
    }
  }

  private turn(): void {
    if (this.inFlight !== undefined || this.stopped || this.pausedBy !== undefined) return;
    this.parts.events.beforeReady();
    if (!this.raw.hasReady()) return;
    const rd = this.raw.ready();
    this.inFlight = rd;
    if (rd.softState !== undefined) this.roleChanged(rd.softState);
    if (rd.snapshot === undefined) return this.persist(rd);
    const snapshot = rd.snapshot;
    this.parts.stateMachine.install(snapshot, (error) =>
      this.guarded(() => {
        if (error !== undefined) throw error;
        this.parts.log.installSnapshot(snapshot);
        this.durableIndex = Math.min(this.durableIndex, snapshot.metadata.index);
        this.appliedIndexValue = snapshot.metadata.index;
        this.confStateValue = snapshot.metadata.confState;
        this.persist(rd);
      }),
    );
  }

  private roleChanged(soft: SoftState): void {
    const previous = this.soft;
    this.soft = soft;
    this.parts.events.roleChanged(soft, previous);
  }

  /** Writes the Ready, sends what may leave before the sync, applies what is already durable, then syncs. */
  private persist(rd: Ready): void {
    const { log, sender } = this.parts;
    const early: Message[] = [];
    const late: Message[] = [];
    for (const m of rd.messages) (leaderMessageTypes.has(m.type) ? early : late).push(m);
    if (early.length > 0) sender.send(early);
    // Entries this Ready replaces are not the durable ones any more: only those below its first entry count.
    const firstWritten = rd.entries[0];
    if (firstWritten !== undefined) this.durableIndex = Math.min(this.durableIndex, firstWritten.index - 1);
    const durableIndex = this.durableIndex;
    const split = rd.committedEntries.findIndex((entry) => entry.index > durableIndex);
    const applyNow = split === -1 ? rd.committedEntries : rd.committedEntries.slice(0, split);
    const applyAfterSync = split === -1 ? [] : rd.committedEntries.slice(split);
    if (rd.entries.length > 0 || rd.hardState !== undefined) log.write(rd.entries, rd.hardState);
    // A snapshot restarts the log: its record is synced too, though the core asks only for entries and votes.
    if (!rd.mustSync && rd.snapshot === undefined) {
      this.apply(applyNow);
      return this.finish(rd, late, applyAfterSync);
    }
    const covered = log.storage.lastIndex();
    // The sync is asked for first, so applying what is durable already overlaps the disk's work
    // (and comes first all the same, should a log's sync call back at once).
    let durableToApply: Entry[] | undefined = applyNow;
    const applyDurable = (): void => {
      const entries = durableToApply;
      durableToApply = undefined;
      if (entries !== undefined) this.apply(entries);
    };
    log.sync((error) =>
      this.guarded(() => {
        if (error !== undefined) throw error;
        this.durableIndex = Math.max(this.durableIndex, covered);
        applyDurable();
        this.finish(rd, late, applyAfterSync);
      }),
    );
    applyDurable();
  }

  /** The Ready's writes are durable: send the rest, apply the rest, answer reads, advance. */
  private finish(rd: Ready, late: Message[], applyAfterSync: Entry[]): void {
    if (this.stopped) return this.settleIdle();
    if (late.length > 0) this.parts.sender.send(late);
    this.apply(applyAfterSync);
    this.parts.events.applied(this.appliedIndexValue, rd.readStates);
    this.parts.stateMachine.checkpoint(this.appliedIndexValue, this.confStateValue);
    this.raw.advance(rd);
    this.inFlight = undefined;
    this.campaignIfAlone();
    if (this.pausedBy !== undefined) return this.settleIdle();
    // Always another turn: work may have been handed over while this Ready was in flight (reads
    // queued by wake()) without the core having a Ready yet.
    this.schedule();
  }

  private apply(entries: Entry[]): void {
    const last = entries[entries.length - 1];
    if (last === undefined) return;
    this.parts.stateMachine.apply(entries, this);
    this.appliedIndexValue = last.index;
  }

  /** The only voter need not wait out an election timeout (a single-node cluster starts at once). */
  private campaignIfAlone(): void {
    const { voters } = this.confStateValue;
    if (this.soft.lead === None && voters.length === 1 && voters[0] === this.options.id && this.raw.raft.state === StateType.Follower) this.raw.campaign();
  }

  private settleIdle(): void {
    this.inFlight = undefined;
    this.pausedBy?.();
    const waiters = this.idleWaiters;
    this.idleWaiters = [];
    for (const wake of waiters) wake();
  }

  private fail(error: Error): void {
    if (this.stopped) return;
    this.stopped = true;
    this.ticker?.cancel();
    this.settleIdle();
    this.parts.events.fatal(error);
  }
}
