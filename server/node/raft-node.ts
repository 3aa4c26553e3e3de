// A member's Raft node: the node loop (loop.ts) over the WAL (wal-log.ts)
// and the MVCC state machine (entry-applier.ts), with proposal tracking
// (proposals.ts), ReadIndex batching (reads.ts) and snapshots (snapshots.ts).
// This file only wires them together and checks what peers send before it
// reaches the core; each of those has one job of its own.
import type { Log } from '../log.js';
import type { Member } from '../../proto/gen/etcdserverpb/rpc.js';
import type { Applier, ApplyResponse } from '../apply/applier.js';
import { sleep, type Clock } from '../clock.js';
import { LogThrottle } from '../log-throttle.js';
import type { Membership } from '../membership/membership.js';
import { raftNodeId } from '../membership/ids.js';
import type { Backend } from '../mvcc/backend.js';
import type { MvccStore, RevisionChanges } from '../mvcc/store.js';
import {
  MessageType,
  None,
  SeededRandom,
  StateType,
  UnknownPeerError,
  type ConfChangeType,
  type MemoryStorage,
  type Message,
  type SoftState,
} from '../raft/index.js';
import type { Wal } from '../storage/wal.js';
import type { PeerTransport } from '../transport/peer-transport.js';
import { appendBytesTarget } from '../transport/peer-checks.js';
import { EntryApplier } from './entry-applier.js';
import {
  BadLeaderTransfereeError,
  LearnerNotSupportedError,
  NotLeaderError,
  RequestTimeoutError,
  ServerStoppedError,
} from './errors.js';
import { NodeLoop } from './loop.js';
import { admissionRefusal, type AdmissionParts } from './peer-admission.js';
import { Proposals, type Proposal, type ProposeOptions as ProposalOptions } from './proposals.js';
import { ReadBatches } from './reads.js';
import { Snapshots } from './snapshots.js';
import { WalLog } from './wal-log.js';
import { promiseOf, type Settle } from './waiters.js';
import type { Tracer } from '@opentelemetry/api';
import { ProposalSpans } from '../tracing/proposal-spans.js';
import type { NodeObserver } from './observer.js';

export type { Proposal } from './proposals.js';

export interface RaftNodeOptions {
  memberId: bigint;
  tickMs: number;
  electionTicks: number;
  /** Applied entries between snapshots (--snapshot-count). */
  snapshotCount: number;
  /** Entries kept in the log behind a snapshot, for followers slightly behind. */
  snapshotCatchUpEntries: number;
  /** How long a proposal or read may wait before "request timed out". */
  requestTimeoutMs: number;
  /** Proposals waiting at once; more are refused with "too many requests". */
  pendingProposalsMax: number;
  /** Largest encoded request accepted into the log (--max-request-bytes). */
  requestBytesMax: number;
  /** Most operations in one txn (--max-txn-ops): proposals forwarded by peers are checked too. */
  txnOpsMax: number;
  /** Seeds the election timeout randomization. */
  seed: number;
  /** Traces what clients propose here (--experimental-enable-distributed-tracing); undefined: no spans. */
  tracer?: Tracer;
}

export interface RaftNodeHooks {
  /** Changes of each applied batch, after the backend committed them (the watch hub). */
  changes(changes: RevisionChanges[]): void;
  /** This member became leader, or stopped being leader. */
  leadership(isLeader: boolean): void;
  /** The membership changed (the transport follows it). */
  membership(members: Member[]): void;
  /** The backend was replaced by a snapshot: rebuild what is derived from it. */
  snapshotInstalled(): void;
  /** This member was removed from the cluster. */
  removed(): void;
  /** An error after which the log cannot be trusted: the process must stop. */
  fatal(error: Error): void;
  log: Log;
}

export interface ProposeOptions extends ProposalOptions {
  /** The member's own bookkeeping, which a learner may propose too. */
  internal?: boolean;
}

export interface RaftNodeParts {
  clock: Clock;
  wal: Wal;
  storage: MemoryStorage;
  store: MvccStore;
  backend: Backend;
  applier: Applier;
  membership: Membership;
  /** Told how long each WAL sync and backend commit took (the member's metrics). */
  observer: NodeObserver;
}

export class RaftNode {
  readonly id: number;
  private readonly loop: NodeLoop;
  private transport: PeerTransport | undefined;
  private readonly proposals: Proposals;
  private readonly reads: ReadBatches;
  private readonly snapshots: Snapshots;
  private readonly admission: AdmissionParts;
  /** Peer messages dropped here, logged at most every droppedLogIntervalMs per sender and type. */
  private readonly droppedLog: LogThrottle;
  private leaderWaiters: Array<() => void> = [];
  /** The work `exclusive` runs, one at a time. */
  private exclusiveWork: Promise<unknown> | undefined;
  private stopped = false;
  private removedFromCluster = false;
  /** Times a new leader became known here, since the start. */
  private leaderChanges = 0;

  constructor(
    private readonly parts: RaftNodeParts,
    private readonly options: RaftNodeOptions,
    private readonly hooks: RaftNodeHooks,
  ) {
    this.id = raftNodeId(options.memberId);
    const { clock } = parts;
    this.snapshots = new Snapshots(parts, options, {
      neededFrom: () => this.neededFrom(),
      snapshotInstalled: () => hooks.snapshotInstalled(),
      fatal: (error) => this.failStop(error),
      log: hooks.log,
    });
    // Proposals reach the core through the loop, which is built next (it needs the state machine, which answers proposals).
    const loop = (): NodeLoop => this.loop;
    this.proposals = new Proposals(
      { get lead() { return loop().lead; }, propose: (data) => loop().propose(data), proposeConfChange: (cc) => loop().proposeConfChange(cc) },
      options,
      clock,
      options.tracer === undefined ? undefined : new ProposalSpans(options.tracer, clock),
    );
    const stateMachine = new EntryApplier(
      { ...parts, snapshots: this.snapshots, proposals: this.proposals },
      {
        changes: (changes) => hooks.changes(changes),
        membershipChanged: () => this.membershipChanged(),
        stopped: () => this.stopped,
      },
    );
    this.loop = new NodeLoop(
      {
        clock,
        sender: { send: (messages) => this.transport?.send(messages as Message[]) },
        log: new WalLog(parts.wal, parts.storage, clock, parts.observer),
        stateMachine,
        events: {
          beforeReady: () => this.startReads(),
          roleChanged: (soft, previous) => this.roleChanged(soft, previous),
          applied: (appliedIndex, readStates) => {
            for (const readState of readStates) this.reads.confirmed(readState.context, readState.index, appliedIndex);
            this.reads.applied(appliedIndex);
          },
          fatal: (error) => this.failStop(error),
        },
      },
      {
        id: this.id,
        tickMs: options.tickMs,
        electionTicks: options.electionTicks,
        heartbeatTicks: 1,
        random: new SeededRandom(options.seed),
        // Entries after the snapshot are delivered again; those the backend already holds are skipped when applied.
        applied: this.snapshots.index,
        // Peers refuse larger appends (transport/peer-checks.ts).
        maxSizePerMsgBytes: appendBytesTarget,
        maxInflightMsgs: 256,
        maxUncommittedEntriesSizeBytes: 64 * 1024 * 1024,
      },
    );
    this.admission = {
      membership: parts.membership,
      limits: { txnOpsMax: options.txnOpsMax, requestBytesMax: options.requestBytesMax },
      remember: (data, request) => this.proposals.remember(data, request),
    };
    this.droppedLog = new LogThrottle((line) => hooks.log.warn(line), droppedLogIntervalMs, clock);
    this.reads = new ReadBatches(options.requestTimeoutMs, `read-${options.memberId.toString(16)}-${Math.floor(clock.wallMs()).toString(16)}`, clock);
  }
  get memberId(): bigint {
    return this.options.memberId;
  }

  get term(): bigint {
    return BigInt(this.loop.raft.term);
  }

  get committedIndex(): number {
    return this.loop.raft.log.committed;
  }

  get appliedIndexValue(): number {
    return this.loop.appliedIndex;
  }

  /** The leader's member ID, 0n when none is known. */
  get leaderId(): bigint {
    const lead = this.loop.lead;
    return lead === None ? 0n : (this.parts.membership.idOfNode(lead) ?? BigInt(lead));
  }

  /** Times a new leader became known here (etcd's leader_changes_seen_total). */
  get leaderChangesSeen(): number {
    return this.leaderChanges;
  }

  /** Proposals waiting to be applied. */
  get proposalsPending(): number {
    return this.proposals.pending;
  }

  /** Proposals that failed before being applied: timed out, dropped, or the member stopped. */
  get proposalsFailed(): number {
    return this.proposals.failedTotal;
  }

  get isLeader(): boolean {
    return this.loop.state === StateType.Leader;
  }

  /** See SnapshotHooks.neededFrom: a leader's slowest follower's match + 1. */
  private neededFrom(): number {
    if (!this.isLeader) return Infinity;
    let needed = Infinity;
    for (const [id, progress] of this.loop.raft.tracker.progress) {
      if (id !== this.id) needed = Math.min(needed, progress.match + 1);
    }
    return needed;
  }

  get isLearner(): boolean {
    return this.loop.confState.learners.includes(this.id);
  }

  /** The leader's view of each member's replication (empty on followers). */
  progress(): ReadonlyMap<number, { match: number }> {
    return this.loop.status().progress;
  }

  /** Starts the loop (loop.ts: a lone voter campaigns at once). */
  start(transport: PeerTransport): void {
    this.transport = transport;
    this.hooks.membership(this.parts.membership.list());
    this.loop.start();
  }

  /**
   * A message from a peer, which the transport checked (sender, recipient,
   * type, bounds: transport/peer-checks.ts). What needs the core's state or
   * the meaning of entries is checked here; a message refused is dropped
   * and logged, never stepped.
   */
  step(m: Message): void {
    if (this.stopped) return;
    // Its data names the image to install: only receiveSnapshot, which received the image, may step one.
    if (m.type === MessageType.Snap) return this.dropped(m, 'a MsgSnap arrives only with its image');
    this.stepChecked(m);
  }

  private stepChecked(m: Message): void {
    const raft = this.loop.raft;
    const core = { term: raft.term, lead: raft.lead, lastIndex: raft.log.lastIndex(), isLearner: this.isLearner };
    const refused = admissionRefusal(m, core, this.admission);
    if (refused !== undefined) return this.dropped(m, refused);
    try {
      this.loop.step(m);
    } catch (error) {
      // A late reply from a removed member: the network would have lost it too.
      if (!(error instanceof UnknownPeerError)) this.dropped(m, (error as Error).message);
    }
  }

  private dropped(m: Message, reason: string): void {
    this.droppedLog.line(`${m.from} ${m.type}`, `dropped ${m.type} from ${m.from.toString(16)}: ${reason}`);
  }

  /** The transport could not reach peer `id`: the leader probes it instead of streaming. */
  reportUnreachable(id: number): void {
    this.loop.reportUnreachable(id);
  }

  /** The transport finished (or failed) sending a snapshot to `id`. */
  reportSnapshot(id: number, failed: boolean): void {
    this.loop.reportSnapshot(id, failed);
  }

  /** A snapshot from the leader, its backend image complete and verified at `path`, which is now the node's. */
  receiveSnapshot(m: Message, path: string): void {
    const data = Buffer.from(path, 'utf8');
    if (!this.stopped && m.snapshot !== undefined) this.stepChecked({ ...m, snapshot: { metadata: m.snapshot.metadata, data } });
    this.snapshots.received(path, this.loop.pendingSnapshot);
  }

  /**
   * Proposes a request; resolves with its response once it is committed and
   * applied here (proposals.ts). Learners refuse client requests but may
   * propose the member's own bookkeeping (`internal`).
   */
  propose(proposal: Proposal, options: ProposeOptions = {}): Promise<ApplyResponse> {
    return promiseOf((settle) => this.proposeWith(proposal, options, settle));
  }

  /** As propose, answering through `settle` (once, synchronously where it is settled: waiters.ts) instead of a promise. */
  proposeWith(proposal: Proposal, options: ProposeOptions, settle: Settle<ApplyResponse>): void {
    if (this.stopped) return settle(new ServerStoppedError());
    if (this.isLearner && options.internal !== true) return settle(new LearnerNotSupportedError());
    this.proposals.proposeWith(proposal, options, settle);
  }

  /** Resolves once a read may be served linearizably from this member's state (ReadIndex: reads.ts). */
  readBarrier(): Promise<void> {
    if (this.stopped) return Promise.reject(new ServerStoppedError());
    if (this.isLearner) return Promise.reject(new LearnerNotSupportedError());
    const ready = this.reads.wait();
    this.loop.wake();
    return ready;
  }

  /** Proposes a membership change; resolves once it is applied here. */
  changeMembership(type: ConfChangeType, memberId: bigint, member?: Member): Promise<void> {
    if (this.stopped) return Promise.reject(new ServerStoppedError());
    return this.proposals.changeMembership(type, memberId, member);
  }

  /** Hands leadership to `target` (must be called on the leader); resolves once it leads. */
  async transferLeadership(target: bigint): Promise<void> {
    if (!this.isLeader) throw new NotLeaderError();
    const id = raftNodeId(target);
    if (!this.loop.confState.voters.includes(id)) throw new BadLeaderTransfereeError();
    if (id === this.id) return;
    this.loop.transferLeader(id);
    const { clock } = this.parts;
    const deadline = clock.nowMs() + this.options.requestTimeoutMs;
    while (this.loop.lead !== id) {
      if (clock.nowMs() > deadline || this.stopped) throw new RequestTimeoutError();
      await Promise.race([new Promise<void>((resolve) => this.leaderWaiters.push(resolve)), sleep(clock, leaderPollMs)]);
    }
  }

  /** Runs `work` while nothing is applied (defragmentation swaps the backend under it). */
  async exclusive<T>(work: () => Promise<T>): Promise<T> {
    while (this.exclusiveWork !== undefined) await this.exclusiveWork.catch(() => undefined);
    const run = (async () => {
      await this.loop.pause();
      try {
        return await work();
      } finally {
        this.loop.resume();
      }
    })();
    this.exclusiveWork = run;
    try {
      return await run;
    } finally {
      if (this.exclusiveWork === run) this.exclusiveWork = undefined;
    }
  }

  async stop(): Promise<void> {
    this.stopped = true;
    await this.loop.stop();
    await this.snapshots.settled();
    this.proposals.rejectAll(new ServerStoppedError());
    this.reads.rejectAll(new ServerStoppedError());
  }

  /** Hands the reads queued meanwhile to the core as one ReadIndex request, once a leader is known. */
  private startReads(): void {
    if (this.reads.hasQueued && this.loop.lead !== None) this.loop.readIndex(this.reads.startBatch());
  }

  private roleChanged(soft: SoftState, previous: SoftState): void {
    if (soft.lead !== previous.lead) {
      // etcd's raft.node lines: every member says who leads, and when it lost its leader.
      const memberHex = (node: number): string => (this.parts.membership.idOfNode(node) ?? BigInt(node)).toString(16);
      const self = { 'local-member-id': this.options.memberId.toString(16) };
      if (soft.lead !== None) this.hooks.log.info(`elected leader ${memberHex(soft.lead)} at term ${this.term}`, self);
      else this.hooks.log.warn(`lost leader ${memberHex(previous.lead)} at term ${this.term}`, self);
      this.reads.leaderChanged();
      if (soft.lead !== None) {
        this.leaderChanges++;
        this.proposals.leaderKnown();
        if (this.reads.hasQueued) this.loop.wake();
      }
      const waiters = this.leaderWaiters;
      this.leaderWaiters = [];
      for (const wake of waiters) wake();
    }
    const isLeader = soft.state === StateType.Leader;
    if (isLeader !== (previous.state === StateType.Leader)) this.hooks.leadership(isLeader);
  }

  private membershipChanged(): void {
    this.hooks.membership(this.parts.membership.list());
    const self = this.parts.membership.get(this.options.memberId);
    if (self === undefined && this.parts.membership.isRemoved(this.options.memberId) && !this.removedFromCluster) {
      this.removedFromCluster = true;
      this.hooks.removed();
    }
  }

  /** Stops the member: it cannot trust what it would do next. */
  private failStop(error: Error): void {
    this.stopped = true;
    this.hooks.fatal(error);
  }
}

/** Peer messages dropped for the same reason are logged at most this often. */
const droppedLogIntervalMs = 5_000;

/** A leadership transfer looks at the leader at least this often while it waits. */
const leaderPollMs = 100;
