/**
 * SimCluster: N real RawNodes in one process, in virtual time, over a faulty network and a disk
 * whose writes complete later (so a crash loses whatever was not yet persisted).
 *
 * One `step()` of the simulation is one unit of virtual time:
 *   1. disk writes due now complete: persist (snapshot, entries, hard state), then send the Ready's
 *      messages, then apply the committed entries, then advance — the caller's duties in order;
 *   2. messages due now are delivered (or dropped: partition, crashed receiver, random loss);
 *   3. every live node ticks according to its own clock rate (slow and fast clocks).
 * Every input to a node is followed by the safety checks (SafetyChecker.observe) and by taking its
 * next Ready, if any, onto the disk queue.
 */
import {
  decodeConfChange,
  EntryType,
  MemoryStorage,
  MessageType,
  ConfChangeType,
  ProposalDroppedError,
  RawNode,
  UnknownPeerError,
  SeededRandom,
  type ConfState,
  type DeliberateBugs,
  type Entry,
  type Message,
  type Raft,
  type Ready,
  type ReadState,
} from '../../server/raft/index.js';
import { SafetyChecker } from './checker.js';
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

interface DiskWrite {
  at: number;
  seq: number;
  id: number;
  incarnation: number;
  rd: Ready;
}

export interface SimNode {
  readonly id: number;
  readonly storage: MemoryStorage;
  node: RawNode | undefined;
  incarnation: number;
  readyInFlight: boolean;
  clockRate: number;
  clockDebt: number;
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
  private readonly disk = new MinHeap<DiskWrite>();
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
    const storage = new MemoryStorage(voters, learners);
    const skew = this.options.clockSkew;
    const n: SimNode = {
      id, storage, node: undefined, incarnation: 0, readyInFlight: false,
      clockRate: 1 - skew + 2 * skew * this.rng.next(), clockDebt: 0,
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

  // ---- node lifecycle ---------------------------------------------------------------------------

  private start(n: SimNode): void {
    const snapshot = n.storage.snapshot();
    const { hardState, confState } = n.storage.initialState();
    this.checker.restarted(n.id, hardState.commit, (i) => safeTerm(n.storage, i), n.storage.firstIndex());
    this.restoreStateMachine(n, snapshot.metadata.index, snapshot.data);
    n.confState = confState;
    n.incarnation++;
    n.readyInFlight = false;
    n.node = new RawNode({
      id: n.id,
      storage: n.storage,
      electionTicks: this.options.electionTicks,
      heartbeatTicks: this.options.heartbeatTicks,
      random: new SeededRandom(this.options.seed * 7919 + n.id * 131 + n.incarnation),
      applied: snapshot.metadata.index,
      maxInflightMsgs: this.options.maxInflightMsgs,
      maxSizePerMsgBytes: this.options.maxSizePerMsgBytes,
      checkQuorum: true,
      preVote: true,
      bugs: this.options.bugs,
    });
  }

  crash(id: number): void {
    const n = this.nodes.get(id)!;
    if (n.node === undefined) return;
    this.onCrash?.(id);
    n.node = undefined;
    n.readyInFlight = false;
    n.lastRole = '';
    this.stats.crashes++;
    this.trace.record(this.now, `crash ${id}`);
  }

  restart(id: number): void {
    const n = this.nodes.get(id)!;
    if (n.node !== undefined) return;
    this.stats.restarts++;
    this.trace.record(this.now, `restart ${id}`);
    this.start(n);
    this.after(n);
  }

  /** Remove a node for good (after a membership change removed it). */
  destroy(id: number): void {
    const n = this.nodes.get(id);
    if (n === undefined) return;
    if (n.node !== undefined) this.onCrash?.(id);
    n.node = undefined;
    n.incarnation++; // its pending disk writes are lost with it
    this.stats.removals++;
    this.nodes.delete(id);
    this.shutdownAt.delete(id);
    this.trace.record(this.now, `shutdown ${id}`);
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

  /** Run fn on a live node's RawNode, then check and pump it. */
  input(id: number, what: string, fn: (node: RawNode) => void): boolean {
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
    for (let w = this.disk.peek(); w !== undefined && w.at <= this.now; w = this.disk.peek()) {
      this.disk.pop();
      this.completeWrite(w);
    }
    for (let f = this.network.peek(); f !== undefined && f.at <= this.now; f = this.network.peek()) {
      this.network.pop();
      this.deliver(f.m);
    }
    for (const n of this.nodes.values()) {
      if (n.node === undefined) continue;
      n.clockDebt += n.clockRate;
      while (n.clockDebt >= 1 && n.node !== undefined) {
        n.clockDebt -= 1;
        n.node.tick();
        this.after(n);
      }
    }
  }

  // ---- network ----------------------------------------------------------------------------------

  private send(messages: Message[]): void {
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

  // ---- the caller's duties: persist, send, apply, advance ---------------------------------------

  /** After any input: safety checks, then hand the next Ready to the disk. */
  private after(n: SimNode): void {
    const node = n.node;
    if (node === undefined) return;
    this.observe(n, node.raft);
    if (n.readyInFlight || !node.hasReady()) return;
    const rd = node.ready();
    n.readyInFlight = true;
    const delay = this.faults.maxDiskDelay === 0 ? 0 : this.rng.intBelow(this.faults.maxDiskDelay + 1);
    const w: DiskWrite = { at: this.now + delay, seq: this.seq++, id: n.id, incarnation: n.incarnation, rd };
    if (delay === 0) this.completeWrite(w);
    else this.disk.push(w);
  }

  private completeWrite(w: DiskWrite): void {
    const n = this.nodes.get(w.id);
    if (n === undefined || n.incarnation !== w.incarnation || n.node === undefined) return; // crashed: lost
    const { rd } = w;
    // 1. persist
    if (rd.snapshot !== undefined) n.storage.applySnapshot(rd.snapshot);
    if (rd.entries.length > 0) {
      n.storage.append(rd.entries);
      for (const e of rd.entries) {
        const prev = safeTerm(n.storage, e.index - 1);
        if (prev !== undefined) this.checker.persisted(n.id, e, prev);
      }
    }
    if (rd.hardState !== undefined) n.storage.setHardState(rd.hardState);
    // 2. send
    this.send(rd.messages);
    // 3. apply
    if (rd.snapshot !== undefined) {
      this.restoreStateMachine(n, rd.snapshot.metadata.index, rd.snapshot.data);
      n.confState = rd.snapshot.metadata.confState;
    }
    for (const e of rd.committedEntries) this.apply(n, e);
    for (const rs of rd.readStates) this.onRead?.(n, rs);
    // 4. advance
    n.readyInFlight = false;
    n.node.advance(rd);
    this.maybeSnapshot(n);
    this.after(n);
  }

  private apply(n: SimNode, e: Entry): void {
    if (e.index <= n.appliedIndex) return; // already in the state machine (snapshot)
    n.chain = this.checker.applied(n.id, e, n.chain, n.appliedIndex);
    n.appliedIndex = e.index;
    if (e.type === EntryType.ConfChange) {
      const cc = decodeConfChange(e.data);
      n.confState = n.node!.applyConfChange(cc);
      this.trace.record(this.now, `conf @${n.id} ${cc.type} ${cc.nodeId} -> voters ${n.confState.voters.join(',')} learners ${n.confState.learners.join(',')}`);
      this.membershipApplied(e.index, cc.type, cc.nodeId);
    }
    this.onApply?.(n, e);
  }

  private maybeSnapshot(n: SimNode): void {
    const interval = this.options.snapshotInterval;
    const snapIndex = n.storage.snapshot().metadata.index;
    if (interval === 0 || n.appliedIndex - snapIndex < interval) return;
    const data = encoder.encode(JSON.stringify({ chain: n.chain, sm: this.stateMachineImage?.(n) ?? null }));
    n.storage.createSnapshot(n.appliedIndex, n.confState, data);
    const compactTo = n.appliedIndex - this.rng.intBelow(this.options.snapshotKeepMax + 1);
    if (compactTo > n.storage.firstIndex() - 1) n.storage.compact(compactTo);
    this.trace.record(this.now, `snapshot @${n.id} ${n.appliedIndex} compact ${compactTo}`);
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

function safeTerm(storage: MemoryStorage, i: number): number | undefined {
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
