/**
 * SimCluster: N members in one process, in virtual time, each running the server's own node loop
 * (server/node/loop.ts) over the simulator's fakes of what the loop is given: a virtual clock
 * (clock.ts), a faulty network (here), a disk whose syncs complete later and whose crash loses what
 * was not synced (disk.ts), and a register state machine (workload.ts).
 *
 * One `step()` of the simulation is one unit of virtual time:
 *   1. disk syncs due now complete (the loop then sends what waited for them, applies, advances);
 *   2. messages due now are delivered (or dropped: partition, crashed receiver, random loss);
 *   3. every live member's clock moves one tick interval at its own rate (slow and fast clocks),
 *      which fires its loop's tick timer.
 * Every input to a member is followed by running what its loop queued on its clock (`soon`), then by
 * the safety checks (SafetyChecker.observe).
 */
import { NodeLoop, type ConfChangeTarget, type LoopEvents, type StateMachine } from '../../server/node/loop.js';
import {
  decodeConfChange,
  EntryType,
  MessageType,
  ConfChangeType,
  ProposalDroppedError,
  UnknownPeerError,
  SeededRandom,
  type ConfState,
  type DeliberateBugs,
  type Entry,
  type Message,
  type Raft,
  type ReadState,
  type Snapshot,
} from '../../server/raft/index.js';
import { SafetyChecker } from './checker.js';
import { SimClock } from './clock.js';
import { SimDisk, type SimLog } from './disk.js';
import { MinHeap } from './heap.js';
import { Trace } from './trace.js';

export interface FaultProfile {
  /** Probability that a message is lost. */
  dropRate: number;
  /** Probability that a message is delivered twice. */
  duplicateRate: number;
  /** Messages take 1..maxDelay units (random: this is also what reorders them). */
  maxDelay: number;
  /** A disk write takes 0..maxDiskDelay units. */
  maxDiskDelay: number;
}

export interface ClusterOptions {
  seed: number;
  nodes: number;
  electionTicks: number;
  heartbeatTicks: number;
  /** Take a snapshot after this many applied entries (0: never). */
  snapshotInterval: number;
  /** Entries kept behind a snapshot for slow followers. */
  snapshotKeepMax: number;
  /** Clock rates are drawn from [1 - skew, 1 + skew]. */
  clockSkew: number;
  maxInflightMsgs: number;
  /** Bytes of entries per MsgApp; 1 means one entry per message. */
  maxSizePerMsgBytes: number;
  bugs?: DeliberateBugs;
}

export interface Stats {
  messagesSent: number;
  messagesDropped: number;
  messagesDuplicated: number;
  crashes: number;
  restarts: number;
  partitions: number;
  heals: number;
  proposals: number;
  proposalsDropped: number;
  snapshotsSent: number;
  reads: number;
  transfers: number;
  /** Conf changes accepted by a leader (an entry was appended; it may still be lost). */
  confChangesProposed: number;
  /** Conf changes committed and applied (counted once per log index). */
  confChanges: number;
  /** Of those, removals of the leader that proposed them. */
  leaderRemovalsProposed: number;
  /** New members started after their addition was applied. */
  joins: number;
  /** Removed members shut down. */
  removals: number;
  /** Late responses from removed members, dropped by the transport (UnknownPeerError). */
  unknownPeerDrops: number;
}

interface InFlight {
  at: number;
  seq: number;
  m: Message;
}

interface SyncCompletion {
  at: number;
  seq: number;
  id: number;
  complete: () => void;
}

/** A tick interval of every member, in virtual milliseconds (one unit of virtual time at rate 1). */
const tickMs = 100;

export interface SimNode {
  readonly id: number;
  /** Survives crashes; holds what was synced. */
  readonly disk: SimDisk;
  /** The running member's loop, undefined while crashed. */
  node: NodeLoop | undefined;
  log: SimLog | undefined;
  clock: SimClock | undefined;
  incarnation: number;
  clockRate: number;
  /** The register state machine's applied index (volatile: rebuilt from the snapshot on restart). */
  appliedIndex: number;
  chain: number;
  confState: ConfState;
  lastRole: string;
}

const encoder = new TextEncoder();
const decoder = new TextDecoder();

export type ApplyHook = (node: SimNode, e: Entry) => void;
export type ReadHook = (node: SimNode, rs: ReadState) => void;

export class SimCluster {
  now = 0;
  private seq = 0;
  readonly nodes = new Map<number, SimNode>();
  readonly checker = new SafetyChecker();
  readonly stats: Stats = {
    messagesSent: 0, messagesDropped: 0, messagesDuplicated: 0, crashes: 0, restarts: 0, partitions: 0,
    heals: 0, proposals: 0, proposalsDropped: 0, snapshotsSent: 0, reads: 0, transfers: 0,
    confChangesProposed: 0, leaderRemovalsProposed: 0, confChanges: 0, joins: 0, removals: 0, unknownPeerDrops: 0,
  };
  private readonly network = new MinHeap<InFlight>();
  private readonly syncs = new MinHeap<SyncCompletion>();
  /** Cut links, as from * 1024 + to. */
  readonly blocked = new Set<number>();
  onApply: ApplyHook | undefined;
  onRead: ReadHook | undefined;
  /** Called when a node crashes or is shut down (its clients lose their connection). */
  onCrash: ((id: number) => void) | undefined;
  /** The bootstrap membership every node's fresh disk starts from (like etcd's initial cluster). */
  readonly initialVoters: readonly number[];
  /** Ids whose removal some node applied: never members again (ids are not reused). */
  readonly removed = new Set<number>();
  /** Removed members still running, and when they are shut down. */
  private readonly shutdownAt = new Map<number, number>();
  /** Log indexes of the conf changes applied anywhere (each counted once). */
  private readonly confIndexes = new Set<number>();

  constructor(
    readonly options: ClusterOptions,
    public faults: FaultProfile,
    readonly rng: SeededRandom,
    readonly trace: Trace,
    voters: number[],
  ) {
    this.initialVoters = voters.slice();
    for (const id of voters) this.addNode(id, voters, []);
  }

  /** Create a node with a fresh disk (initial membership as given) and start it. */
  addNode(id: number, voters: number[], learners: number[]): SimNode {
    const skew = this.options.clockSkew;
    const n: SimNode = {
      id, disk: new SimDisk(voters, learners), node: undefined, log: undefined, clock: undefined, incarnation: 0,
      clockRate: 1 - skew + 2 * skew * this.rng.next(),
      appliedIndex: 0, chain: 0, confState: { voters, learners }, lastRole: '',
    };
    this.nodes.set(id, n);
    this.start(n);
    return n;
  }

  liveNodes(): SimNode[] {
    return [...this.nodes.values()].filter((n) => n.node !== undefined);
  }

  /** The live leader with the highest term, if any. */
  leader(): SimNode | undefined {
    let best: SimNode | undefined;
    for (const n of this.nodes.values()) {
      const r = n.node?.raft;
      if (r === undefined || r.state !== 'leader') continue;
      if (best === undefined || r.term > best.node!.raft.term) best = n;
    }
    return best;
  }

  /** The last index in a member's log: the running member's, or what its disk holds while it is down. */
  lastIndex(n: SimNode): number {
    return (n.log?.storage ?? n.disk.durableStorage).lastIndex();
  }

  // ---- node lifecycle ---------------------------------------------------------------------------

  /** Starts a member from what its disk holds: the log as synced, the state machine from the snapshot. */
  private start(n: SimNode): void {
    n.incarnation++;
    const incarnation = n.incarnation;
    const log = n.disk.open({
      written: (entry, previousTerm) => {
        if (previousTerm !== undefined) this.checker.persisted(n.id, entry, previousTerm);
      },
      syncRequested: (complete) => this.scheduleSync(n, incarnation, complete),
    });
    const { storage } = log;
    const snapshot = storage.snapshot();
    const { hardState, confState } = storage.initialState();
    this.checker.restarted(n.id, hardState.commit, (i) => safeTerm(storage, i), storage.firstIndex());
    this.restoreStateMachine(n, snapshot.metadata.index, snapshot.data);
    n.confState = confState;
    const clock = new SimClock();
    n.clock = clock;
    n.log = log;
    n.node = new NodeLoop(
      { clock, sender: { send: (messages) => this.send(messages) }, log, stateMachine: this.stateMachine(n), events: this.events(n) },
      {
        id: n.id,
        tickMs,
        electionTicks: this.options.electionTicks,
        heartbeatTicks: this.options.heartbeatTicks,
        random: new SeededRandom(this.options.seed * 7919 + n.id * 131 + n.incarnation),
        applied: snapshot.metadata.index,
        maxInflightMsgs: this.options.maxInflightMsgs,
        maxSizePerMsgBytes: this.options.maxSizePerMsgBytes,
        bugs: this.options.bugs,
      },
    );
    n.node.start();
    this.after(n);
  }

  /** The register state machine of member n, as its loop sees it. */
  private stateMachine(n: SimNode): StateMachine {
    return {
      apply: (entries, core) => {
        // The commit that lets these entries apply may have happened within this same drain (a
        // leader's own write became durable): the checker learns of it first.
        if (n.node !== undefined) this.observe(n, n.node.raft);
        for (const e of entries) this.apply(n, e, core);
      },
      install: (snapshot: Snapshot, done) => {
        this.restoreStateMachine(n, snapshot.metadata.index, snapshot.data);
        n.confState = snapshot.metadata.confState;
        done();
      },
      checkpoint: (appliedIndex, confState) => this.maybeSnapshot(n, appliedIndex, confState),
    };
  }

  private events(n: SimNode): LoopEvents {
    return {
      beforeReady: () => {},
      roleChanged: () => {},
      applied: (_appliedIndex, readStates) => {
        for (const rs of readStates) this.onRead?.(n, rs);
      },
      fatal: (error) => {
        throw error;
      },
    };
  }

  /** A sync of member n's disk completes after a delay (or at once), unless the member crashed meanwhile. */
  private scheduleSync(n: SimNode, incarnation: number, complete: () => void): void {
    const delay = this.faults.maxDiskDelay === 0 ? 0 : this.rng.intBelow(this.faults.maxDiskDelay + 1);
    const completion = (): void => {
      if (n.incarnation !== incarnation || n.node === undefined) return;
      complete();
    };
    if (delay === 0) completion();
    else this.syncs.push({ at: this.now + delay, seq: this.seq++, id: n.id, complete: completion });
  }

  crash(id: number): void {
    const n = this.nodes.get(id)!;
    if (n.node === undefined) return;
    this.onCrash?.(id);
    const pending = n.disk.pendingRecords;
    const keep = this.rng.intBelow(pending + 1);
    n.disk.crash(keep);
    this.stop(n);
    this.stats.crashes++;
    this.trace.record(this.now, `crash ${id} (kept ${keep} of ${pending} unsynced records)`);
  }

  restart(id: number): void {
    const n = this.nodes.get(id)!;
    if (n.node !== undefined) return;
    this.stats.restarts++;
    this.trace.record(this.now, `restart ${id}`);
    this.start(n);
  }

  /** Remove a node for good (after a membership change removed it). */
  destroy(id: number): void {
    const n = this.nodes.get(id);
    if (n === undefined) return;
    if (n.node !== undefined) this.onCrash?.(id);
    n.disk.crash(0);
    this.stop(n);
    n.incarnation++; // its pending syncs are lost with it
    this.stats.removals++;
    this.nodes.delete(id);
    this.shutdownAt.delete(id);
    this.trace.record(this.now, `shutdown ${id}`);
  }

  /** The process is gone: its loop, clock (timers, queued callbacks) and unsynced writes with it. */
  private stop(n: SimNode): void {
    n.node = undefined;
    n.log = undefined;
    n.clock = undefined;
    n.lastRole = '';
  }

  /** Shut down every removed member still running (the liveness phase does not wait for them). */
  shutdownRemoved(): void {
    for (const id of [...this.shutdownAt.keys()]) this.destroy(id);
  }

  /**
   * The operator's side of a membership change, once some node applied it: start a new member
   * (fresh disk, bootstrap membership; it learns the rest from the log or a snapshot), or schedule
   * the shutdown of a removed one. A removed node keeps running for a while, as a real one would
   * until its operator stops it, so its late messages and campaigns still reach the others.
   */
  private membershipApplied(index: number, type: string, id: number): void {
    if (!this.confIndexes.has(index)) {
      this.confIndexes.add(index);
      this.stats.confChanges++;
    }
    if (type === ConfChangeType.RemoveNode) {
      if (this.removed.has(id)) return;
      this.removed.add(id);
      if (this.nodes.has(id)) this.shutdownAt.set(id, this.now + this.rng.intBelow(40));
    } else if (!this.nodes.has(id) && !this.removed.has(id)) {
      this.stats.joins++;
      this.trace.record(this.now, `join ${id}`);
      this.addNode(id, [...this.initialVoters], []);
    }
  }

  // ---- inputs -----------------------------------------------------------------------------------

  propose(id: number, data: Uint8Array): boolean {
    const n = this.nodes.get(id);
    if (n?.node === undefined) return false;
    this.stats.proposals++;
    try {
      n.node.propose(data);
      this.trace.record(this.now, `propose @${id} ${decoder.decode(data)}`);
      return true;
    } catch (e) {
      if (!(e instanceof ProposalDroppedError)) throw e;
      this.stats.proposalsDropped++;
      return false;
    } finally {
      this.after(n);
    }
  }

  /** Run fn on a live member's loop, then run what it queued and check. */
  input(id: number, what: string, fn: (node: NodeLoop) => void): boolean {
    const n = this.nodes.get(id);
    if (n?.node === undefined) return false;
    this.trace.record(this.now, `${what} @${id}`);
    try {
      fn(n.node);
    } catch (e) {
      if (!(e instanceof ProposalDroppedError)) throw e;
      return false;
    } finally {
      this.after(n);
    }
    return true;
  }

  /** One unit of virtual time. */
  step(): void {
    this.now++;
    for (const [id, at] of this.shutdownAt) if (at <= this.now) this.destroy(id);
    for (let w = this.syncs.peek(); w !== undefined && w.at <= this.now; w = this.syncs.peek()) {
      this.syncs.pop();
      w.complete();
      const n = this.nodes.get(w.id);
      if (n !== undefined) this.after(n);
    }
    for (let f = this.network.peek(); f !== undefined && f.at <= this.now; f = this.network.peek()) {
      this.network.pop();
      this.deliver(f.m);
    }
    for (const n of [...this.nodes.values()]) {
      if (n.clock === undefined) continue;
      n.clock.advance(tickMs * n.clockRate);
      this.after(n);
    }
  }

  // ---- network ----------------------------------------------------------------------------------

  private send(messages: readonly Message[]): void {
    for (const m of messages) {
      this.stats.messagesSent++;
      if (m.type === MessageType.Snap) this.stats.snapshotsSent++;
      this.network.push({ at: this.now + 1 + this.rng.intBelow(this.faults.maxDelay), seq: this.seq++, m });
      if (this.faults.duplicateRate > 0 && this.rng.chance(this.faults.duplicateRate)) {
        this.stats.messagesDuplicated++;
        this.network.push({ at: this.now + 1 + this.rng.intBelow(this.faults.maxDelay), seq: this.seq++, m });
      }
    }
  }

  private deliver(m: Message): void {
    const to = this.nodes.get(m.to);
    const lost = to?.node === undefined || this.blocked.has(m.from * 1024 + m.to) || (this.faults.dropRate > 0 && this.rng.chance(this.faults.dropRate));
    const line = describe(m);
    if (lost) {
      this.stats.messagesDropped++;
      this.trace.record(this.now, `drop ${line}`);
      if (m.type === MessageType.Snap) this.input(m.from, `snapshot-failed ${m.to}`, (node) => node.reportSnapshot(m.to, true));
      return;
    }
    this.trace.record(this.now, line);
    try {
      to.node!.step(m);
    } catch (e) {
      // A late response from a member removed meanwhile: a real transport drops it too.
      if (!(e instanceof UnknownPeerError)) throw e;
      this.stats.unknownPeerDrops++;
      this.trace.record(this.now, `drop-unknown-peer ${m.from}->${m.to}`);
    }
    this.after(to);
    if (m.type === MessageType.Snap) this.input(m.from, `snapshot-sent ${m.to}`, (node) => node.reportSnapshot(m.to, false));
  }

  // ---- the state machine ------------------------------------------------------------------------

  /** After any input: run what the member's loop queued (its turns), then the safety checks. */
  private after(n: SimNode): void {
    n.clock?.drain();
    const node = n.node;
    if (node !== undefined) this.observe(n, node.raft);
  }

  private apply(n: SimNode, e: Entry, core: ConfChangeTarget): void {
    if (e.index <= n.appliedIndex) return; // already in the state machine (snapshot)
    n.chain = this.checker.applied(n.id, e, n.chain, n.appliedIndex);
    n.appliedIndex = e.index;
    if (e.type === EntryType.ConfChange) {
      const cc = decodeConfChange(e.data);
      n.confState = core.applyConfChange(cc);
      this.trace.record(this.now, `conf @${n.id} ${cc.type} ${cc.nodeId} -> voters ${n.confState.voters.join(',')} learners ${n.confState.learners.join(',')}`);
      this.membershipApplied(e.index, cc.type, cc.nodeId);
    }
    this.onApply?.(n, e);
  }

  private maybeSnapshot(n: SimNode, appliedIndex: number, confState: ConfState): void {
    const interval = this.options.snapshotInterval;
    const log = n.log;
    if (log === undefined || interval === 0) return;
    const snapIndex = log.storage.snapshot().metadata.index;
    if (appliedIndex - snapIndex < interval) return;
    const data = encoder.encode(JSON.stringify({ chain: n.chain, sm: this.stateMachineImage?.(n) ?? null }));
    const compactTo = appliedIndex - this.rng.intBelow(this.options.snapshotKeepMax + 1);
    log.checkpoint(appliedIndex, confState, data, compactTo);
    this.trace.record(this.now, `snapshot @${n.id} ${appliedIndex} compact ${compactTo}`);
  }

  /** Hooks for a workload's state machine image in snapshots. */
  stateMachineImage: ((n: SimNode) => unknown) | undefined;
  stateMachineRestore: ((n: SimNode, image: unknown) => void) | undefined;

  private restoreStateMachine(n: SimNode, index: number, data: Uint8Array): void {
    n.appliedIndex = index;
    if (index === 0) {
      n.chain = 0;
      this.stateMachineRestore?.(n, null);
      return;
    }
    const image = JSON.parse(decoder.decode(data)) as { chain: number; sm: unknown };
    this.checker.restoredSnapshot(n.id, index, image.chain);
    n.chain = image.chain;
    this.stateMachineRestore?.(n, image.sm);
  }

  // ---- checks -----------------------------------------------------------------------------------

  private observe(n: SimNode, raft: Raft): void {
    const role = `${raft.state}:${raft.term}`;
    if (role !== n.lastRole) {
      n.lastRole = role;
      this.trace.record(this.now, `role @${n.id} ${raft.state} term ${raft.term}`);
    }
    const before = this.checker.committedMax;
    this.checker.observe(n.id, raft);
    if (this.checker.committedMax > before) {
      const leaders: Array<[number, Raft]> = [];
      for (const m of this.nodes.values()) if (m.node?.raft.state === 'leader') leaders.push([m.id, m.node.raft]);
      this.checker.checkLeaders(leaders, before + 1);
    }
  }
}

function safeTerm(storage: { term(i: number): number }, i: number): number | undefined {
  try {
    return storage.term(i);
  } catch {
    return undefined;
  }
}
function describe(m: Message): string {
  let s = `${m.from}->${m.to} ${m.type} t${m.term}`;
  if (m.type === MessageType.App || m.type === MessageType.AppResp || m.type === MessageType.Vote || m.type === MessageType.PreVote) s += ` i${m.index} lt${m.logTerm}`;
  if (m.entries.length > 0) s += ` n${m.entries.length}`;
  if (m.commit > 0) s += ` c${m.commit}`;
  if (m.reject) s += ` reject hint${m.rejectHint}`;
  if (m.snapshot !== undefined) s += ` snap${m.snapshot.metadata.index}`;
  if (m.context !== '') s += ` ctx=${m.context}`;
  return s;
}
