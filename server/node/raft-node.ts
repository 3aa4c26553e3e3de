// The member's I/O loop around the Raft core (server/raft, a pure state
// machine). It does the caller's duties in the order docs/raft.md gives:
// persist (WAL append + one fdatasync per Ready: group commit across every
// proposal that arrived meanwhile), send, apply (one backend transaction per
// Ready), answer reads, advance. It also takes snapshots every
// --snapshot-count applied entries and installs the ones the leader sends.
import { rmSync } from 'node:fs';
import { InternalRequest } from '../../proto/gen/cairnpb/internal.js';
import type { Member } from '../../proto/gen/etcdserverpb/rpc.js';
import type { Applier, ApplyResponse, ApplyResult } from '../apply/applier.js';
import { encodeMessage } from '../codec.js';
import { LogThrottle } from '../log-throttle.js';
import { encodeConfChangeContext, type Membership } from '../membership/membership.js';
import type { Backend } from '../mvcc/backend.js';
import type { MvccStore, RevisionChanges } from '../mvcc/store.js';
import {
  EntryType,
  hardStateToPb,
  MessageType,
  None,
  ProposalDroppedError,
  RawNode,
  SeededRandom,
  StateType,
  UnknownPeerError,
  type ConfChangeType,
  type ConfState,
  type Entry,
  type MemoryStorage,
  type Message,
  type Ready,
  type Snapshot,
  type SoftState,
} from '../raft/index.js';
import type { Wal } from '../storage/wal.js';
import type { PeerTransport } from '../transport/peer-transport.js';
import { appendBytesTarget } from '../transport/peer-checks.js';
import { entryToPbShared } from '../transport/wire.js';
import { committedConfChange, committedRequest } from './entry-payloads.js';
import {
  BadLeaderTransfereeError,
  LeaderChangedError,
  LearnerNotSupportedError,
  NoLeaderError,
  NotLeaderError,
  RequestTimeoutError,
  RequestTooLargeError,
  ServerStoppedError,
  TooManyRequestsError,
} from './errors.js';
import { admissionRefusal, type AdmissionParts } from './peer-admission.js';
import { ReadBatches } from './reads.js';
import { Snapshots } from './snapshots.js';
import { Waiters } from './waiters.js';

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
  log(line: string): void;
}

export interface ProposeOptions {
  /** The member's own bookkeeping, which a learner may propose too. */
  internal?: boolean;
  /**
   * Whether the client gave up (cancelled, or its deadline passed): a
   * proposal still waiting for a leader is then never submitted, as in etcd.
   */
  gaveUp?: () => boolean;
}

/** The request part of an InternalRequest (everything but its id). */
export type Proposal = Omit<InternalRequest, 'id'>;

export interface RaftNodeParts {
  wal: Wal;
  storage: MemoryStorage;
  store: MvccStore;
  backend: Backend;
  applier: Applier;
  membership: Membership;
}

export class RaftNode {
  readonly id: number;
  private readonly raw: RawNode;
  private transport: PeerTransport | undefined;
  private readonly proposals: Waiters<ApplyResponse>;
  private readonly confChanges: Waiters<void>;
  private readonly reads: ReadBatches;
  /**
   * Requests by their entry's data, decoded once: our own proposals, and
   * entries decoded when they arrived from a peer (peer-admission.ts).
   * Applying takes them out; the log keeps its entries until a snapshot, not
   * their decoded twins.
   */
  private readonly decoded = new WeakMap<Uint8Array, InternalRequest>();
  private readonly admission: AdmissionParts;
  /** Peer messages dropped here, logged at most every droppedLogIntervalMs per sender and type. */
  private readonly droppedLog: LogThrottle;
  private leaderWaiters: Array<() => void> = [];
  /** Proposals made while no leader was known (bounded by pendingProposalsMax through the waiters). */
  private parked: Array<{ pending: () => boolean; propose: () => void; refuse: (error: Error) => void }> = [];
  private lead = None;
  private state: StateType = StateType.Follower;
  private confState: ConfState;
  private appliedIndex: number;
  private readonly snapshots: Snapshots;
  private requestSequence: bigint;
  private tickTimer: NodeJS.Timeout | undefined;
  private processing: Promise<void> | undefined;
  private paused: Promise<void> | undefined;
  private stopped = false;
  private removedFromCluster = false;

  constructor(
    private readonly parts: RaftNodeParts,
    private readonly options: RaftNodeOptions,
    private readonly hooks: RaftNodeHooks,
  ) {
    this.id = Number(options.memberId);
    const initial = parts.storage.initialState();
    this.snapshots = new Snapshots(parts, options, { snapshotInstalled: () => hooks.snapshotInstalled(), fatal: (error) => this.failStop(error), log: hooks.log });
    this.confState = initial.confState;
    this.appliedIndex = this.snapshots.index;
    this.raw = new RawNode({
      id: this.id,
      storage: parts.storage,
      electionTicks: options.electionTicks,
      heartbeatTicks: 1,
      random: new SeededRandom(options.seed),
      // Entries after the snapshot are delivered again; those the backend already holds are skipped when applied.
      applied: this.snapshots.index,
      // Peers refuse larger appends (transport/peer-checks.ts).
      maxSizePerMsgBytes: appendBytesTarget,
      maxInflightMsgs: 256,
      maxUncommittedEntriesSizeBytes: 64 * 1024 * 1024,
    });
    this.admission = {
      membership: parts.membership,
      limits: { txnOpsMax: options.txnOpsMax, requestBytesMax: options.requestBytesMax },
      remember: (data, request) => this.decoded.set(data, request),
    };
    this.droppedLog = new LogThrottle(hooks.log, droppedLogIntervalMs);
    this.proposals = new Waiters(options.requestTimeoutMs);
    this.confChanges = new Waiters(options.requestTimeoutMs);
    this.reads = new ReadBatches(options.requestTimeoutMs, `read-${options.memberId.toString(16)}-${Date.now().toString(16)}`);
    // Request IDs: 16 bits of the member ID, then a clock-based sequence, so
    // they are unique across members and across restarts (etcd's idutil).
    this.requestSequence = ((options.memberId & 0xffffn) << 48n) | ((BigInt(Date.now()) << 8n) & ((1n << 48n) - 1n));
  }

  get memberId(): bigint {
    return this.options.memberId;
  }

  get term(): bigint {
    return BigInt(this.raw.raft.term);
  }

  get committedIndex(): number {
    return this.raw.raft.log.committed;
  }

  get appliedIndexValue(): number {
    return this.appliedIndex;
  }

  /** The leader's member ID, 0n when none is known. */
  get leaderId(): bigint {
    return BigInt(this.lead);
  }

  get isLeader(): boolean {
    return this.state === StateType.Leader;
  }

  get isLearner(): boolean {
    return this.confState.learners.includes(this.id);
  }

  /** The leader's view of each member's replication (empty on followers). */
  progress(): ReadonlyMap<number, { match: number }> {
    return this.raw.status().progress;
  }

  /** Starts ticking. A lone voter campaigns at once instead of waiting out an election timeout. */
  start(transport: PeerTransport): void {
    this.transport = transport;
    this.hooks.membership(this.parts.membership.list());
    this.tickTimer = setInterval(() => {
      this.raw.tick();
      this.schedule();
    }, this.options.tickMs);
    // As etcd (initial election tick advance): skip most of the first election timeout, so a new
    // cluster elects a leader within about one heartbeat once its members are up. PreVote and the
    // leader lease keep a restarted member from disrupting a leader it has not heard from yet.
    for (let tick = 1; tick < this.options.electionTicks; tick++) this.raw.tick();
    this.campaignIfAlone();
    this.schedule();
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
    const raft = this.raw.raft;
    const core = { term: raft.term, lead: raft.lead, lastIndex: raft.log.lastIndex(), isLearner: this.isLearner };
    const refused = admissionRefusal(m, core, this.admission);
    if (refused !== undefined) return this.dropped(m, refused);
    try {
      this.raw.step(m);
    } catch (error) {
      // A late reply from a removed member: the network would have lost it too.
      if (!(error instanceof UnknownPeerError)) this.dropped(m, (error as Error).message);
      return;
    }
    this.schedule();
  }

  private dropped(m: Message, reason: string): void {
    this.droppedLog.line(`${m.from} ${m.type}`, `dropped ${m.type} from ${m.from.toString(16)}: ${reason}`);
  }

  /** The transport could not reach peer `id`: the leader probes it instead of streaming. */
  reportUnreachable(id: number): void {
    if (this.stopped) return;
    this.raw.reportUnreachable(id);
    this.schedule();
  }

  /** The transport finished (or failed) sending a snapshot to `id`. */
  reportSnapshot(id: number, failed: boolean): void {
    if (this.stopped) return;
    this.raw.reportSnapshot(id, failed);
    this.schedule();
  }

  /** A snapshot from the leader, its backend image complete and verified at `path`, which is now the node's. */
  receiveSnapshot(m: Message, path: string): void {
    const data = Buffer.from(path, 'utf8');
    if (!this.stopped && m.snapshot !== undefined) this.stepChecked({ ...m, snapshot: { metadata: m.snapshot.metadata, data } });
    // The core takes a snapshot only if it needs it (it may have caught up meanwhile); otherwise its image goes.
    if (this.raw.raft.log.unstable.snapshot?.data !== data) rmSync(path, { force: true });
  }

  /**
   * Proposes a request; resolves with its response once it is committed and
   * applied here. Learners refuse client requests but may propose the
   * member's own bookkeeping (`internal`).
   */
  propose(proposal: Proposal, options: ProposeOptions = {}): Promise<ApplyResponse> {
    if (this.stopped) return Promise.reject(new ServerStoppedError());
    if (this.isLearner && options.internal !== true) return Promise.reject(new LearnerNotSupportedError());
    if (this.proposals.size >= this.options.pendingProposalsMax) return Promise.reject(new TooManyRequestsError());
    const request: InternalRequest = { ...proposal, id: this.nextRequestId() };
    const data = encodeMessage(InternalRequest, request);
    if (data.length > this.options.requestBytesMax) return Promise.reject(new RequestTooLargeError());
    const response = this.proposals.wait(request.id);
    this.decoded.set(data, request);
    const gaveUp = options.gaveUp ?? (() => false);
    this.submit(() => this.proposals.has(request.id) && !gaveUp(), () => this.raw.propose(data), (error) => this.proposals.reject(request.id, error));
    return response;
  }

  /**
   * Hands a proposal to the core now, or — while no leader is known — once
   * one is (as etcd, whose proposals wait for a leader until the request
   * times out). `pending` says whether its client still waits.
   */
  private submit(pending: () => boolean, propose: () => void, refuse: (error: Error) => void): void {
    if (this.lead === None) {
      // Those whose clients gave up are dropped, so a long leaderless spell cannot grow this list.
      if (this.parked.length >= this.options.pendingProposalsMax) this.parked = this.parked.filter((proposal) => proposal.pending());
      this.parked.push({ pending, propose, refuse });
      return;
    }
    try {
      propose();
    } catch (error) {
      refuse(this.dropReason(error));
      return;
    }
    this.schedule();
  }

  /** Resolves once a read may be served linearizably from this member's state (ReadIndex). */
  readBarrier(): Promise<void> {
    if (this.stopped) return Promise.reject(new ServerStoppedError());
    if (this.isLearner) return Promise.reject(new LearnerNotSupportedError());
    const ready = this.reads.wait();
    this.schedule();
    return ready;
  }

  /** Proposes a membership change; resolves once it is applied here. */
  changeMembership(type: ConfChangeType, memberId: bigint, member?: Member): Promise<void> {
    if (this.stopped) return Promise.reject(new ServerStoppedError());
    const requestId = this.nextRequestId();
    const applied = this.confChanges.wait(requestId);
    const change = { type, nodeId: Number(memberId), context: encodeConfChangeContext({ requestId, member }) };
    this.submit(() => this.confChanges.has(requestId), () => this.raw.proposeConfChange(change), (error) => this.confChanges.reject(requestId, error));
    return applied;
  }

  /** Hands leadership to `target` (must be called on the leader); resolves once it leads. */
  async transferLeadership(target: bigint): Promise<void> {
    if (!this.isLeader) throw new NotLeaderError();
    const id = Number(target);
    if (!this.confState.voters.includes(id)) throw new BadLeaderTransfereeError();
    if (id === this.id) return;
    this.raw.transferLeader(id);
    this.schedule();
    const deadline = performance.now() + this.options.requestTimeoutMs;
    while (this.lead !== id) {
      if (performance.now() > deadline || this.stopped) throw new RequestTimeoutError();
      await new Promise<void>((resolve) => {
        this.leaderWaiters.push(resolve);
        setTimeout(resolve, 100);
      });
    }
  }

  /** Runs `work` while nothing is applied (defragmentation swaps the backend under it). */
  async exclusive<T>(work: () => Promise<T>): Promise<T> {
    while (this.paused !== undefined) await this.paused;
    let release!: () => void;
    this.paused = new Promise((resolve) => (release = resolve));
    try {
      await this.processing;
      return await work();
    } finally {
      this.paused = undefined;
      release();
      this.schedule();
    }
  }

  async stop(): Promise<void> {
    this.stopped = true;
    if (this.tickTimer !== undefined) clearInterval(this.tickTimer);
    await this.processing;
    await this.snapshots.settled();
    this.proposals.rejectAll(new ServerStoppedError());
    this.confChanges.rejectAll(new ServerStoppedError());
    this.reads.rejectAll(new ServerStoppedError());
  }

  private nextRequestId(): bigint {
    this.requestSequence = (this.requestSequence & ~((1n << 48n) - 1n)) | ((this.requestSequence + 1n) & ((1n << 48n) - 1n));
    return this.requestSequence;
  }

  private dropReason(error: unknown): Error {
    if (!(error instanceof ProposalDroppedError)) throw error;
    return this.lead === None ? new NoLeaderError() : new LeaderChangedError();
  }

  private schedule(): void {
    if (this.processing !== undefined || this.stopped || this.paused !== undefined) return;
    this.processing = new Promise<void>((done) => setImmediate(done))
      .then(() => this.process())
      .catch((error: Error) => this.failStop(error))
      .finally(() => {
        this.processing = undefined;
        if (!this.stopped && (this.raw.hasReady() || this.readsCanStart())) this.schedule();
      });
  }

  private readsCanStart(): boolean {
    return this.reads.hasQueued && this.lead !== None;
  }

  private async process(): Promise<void> {
    while (!this.stopped && this.paused === undefined) {
      if (this.readsCanStart()) this.raw.readIndex(this.reads.startBatch());
      if (!this.raw.hasReady()) return;
      const rd = this.raw.ready();
      await this.handle(rd);
      this.raw.advance(rd);
      this.campaignIfAlone();
    }
  }

  /** The only voter need not wait out an election timeout (a single-node cluster starts at once). */
  private campaignIfAlone(): void {
    const { voters } = this.confState;
    if (this.lead === None && voters.length === 1 && voters[0] === this.id && this.state === StateType.Follower) this.raw.campaign();
  }

  /** One Ready, in the order Raft's safety needs: persist, send, apply. */
  private async handle(rd: Ready): Promise<void> {
    if (rd.softState !== undefined) this.softStateChanged(rd.softState);
    if (rd.snapshot !== undefined) await this.installSnapshot(rd.snapshot);
    // A leader's appends and heartbeats promise nothing about its own disk (the core counts the
    // leader's copy only once persisted), so they go out while the write is in flight (thesis
    // §10.2.1); every other message waits for the fsync.
    const early = rd.messages.filter((m) => leaderMessageTypes.has(m.type));
    const late = early.length === 0 ? rd.messages : rd.messages.filter((m) => !leaderMessageTypes.has(m.type));
    this.transport?.send(early);
    // Committed entries already on disk are applied while this Ready's own entries are written
    // (they never include entries being overwritten: committed entries are never replaced), so a
    // client's answer does not wait for the fsync of the next batch.
    const durableIndex = this.parts.wal.lastEntryIndex;
    const split = rd.committedEntries.findIndex((entry) => entry.index > durableIndex);
    const applyNow = split === -1 ? rd.committedEntries : rd.committedEntries.slice(0, split);
    const applyAfterSync = split === -1 ? [] : rd.committedEntries.slice(split);
    if (rd.entries.length > 0 || rd.hardState !== undefined) {
      this.parts.wal.append(rd.entries.map(entryToPbShared), rd.hardState === undefined ? undefined : hardStateToPb(rd.hardState));
      this.parts.storage.append(rd.entries);
      if (rd.hardState !== undefined) this.parts.storage.setHardState(rd.hardState);
    }
    if (applyNow.length > 0) this.apply(applyNow);
    if (rd.mustSync) await this.parts.wal.sync();
    this.transport?.send(late);
    if (applyAfterSync.length > 0) this.apply(applyAfterSync);
    for (const readState of rd.readStates) this.reads.confirmed(readState.context, readState.index, this.appliedIndex);
    this.reads.applied(this.appliedIndex);
    this.snapshots.maybeTake(this.appliedIndex, this.confState, () => this.stopped);
  }

  /** A leader is known again: proposals that waited for one go to the core, unless their clients gave up. */
  private submitParked(): void {
    const parked = this.parked;
    this.parked = [];
    for (const proposal of parked) if (proposal.pending()) this.submit(proposal.pending, proposal.propose, proposal.refuse);
  }

  private softStateChanged(soft: SoftState): void {
    const wasLeader = this.state === StateType.Leader;
    if (soft.lead !== this.lead) {
      this.lead = soft.lead;
      this.reads.leaderChanged();
      if (this.lead !== None) this.submitParked();
      const waiters = this.leaderWaiters;
      this.leaderWaiters = [];
      for (const wake of waiters) wake();
    }
    this.state = soft.state;
    const isLeader = soft.state === StateType.Leader;
    if (isLeader !== wasLeader) this.hooks.leadership(isLeader);
  }

  /**
   * Applies committed entries in one backend transaction. Entries the
   * backend already holds (redelivered after a restart or a snapshot) only
   * replay their membership change into the core.
   */
  private apply(entries: Entry[]): void {
    const answers: Array<[bigint, ApplyResult]> = [];
    const confAnswers: Array<[bigint, Error | undefined]> = [];
    let membershipChanged = false;
    this.parts.backend.transaction(() => {
      for (const entry of entries) {
        const fresh = entry.index > this.parts.store.consistentIndex;
        if (entry.type === EntryType.ConfChange) {
          const { cc, context } = committedConfChange(entry);
          const refused = fresh ? this.parts.membership.applyConfChange(cc, context.member) : undefined;
          this.confState = this.raw.applyConfChange(cc);
          membershipChanged = true;
          if (context.requestId !== 0n) confAnswers.push([context.requestId, refused]);
        } else if (fresh && entry.data.length > 0) {
          const known = this.decoded.get(entry.data);
          if (known !== undefined) this.decoded.delete(entry.data);
          const request = known ?? committedRequest(entry);
          const result = this.applyRequest(request);
          if (result.membership) membershipChanged = true;
          answers.push([request.id, result.result]);
        }
        if (fresh) this.parts.store.setConsistentIndex(entry.index);
      }
    });
    this.appliedIndex = entries[entries.length - 1].index;
    this.hooks.changes(this.parts.store.takeChanges());
    for (const [id, result] of answers) {
      if (!this.proposals.has(id)) continue;
      if (result.ok) this.proposals.resolve(id, result.response);
      else this.proposals.reject(id, result.error);
    }
    for (const [id, refused] of confAnswers) {
      if (refused === undefined) this.confChanges.resolve(id, undefined);
      else this.confChanges.reject(id, refused);
    }
    if (membershipChanged) this.membershipChanged();
  }

  private applyRequest(request: InternalRequest): { result: ApplyResult; membership: boolean } {
    const { membership } = this.parts;
    if (request.memberAttributes !== undefined) {
      const attributes = request.memberAttributes;
      membership.setAttributes(attributes.memberId, attributes.name, attributes.clientUrls);
      return { result: { ok: true, response: {} as ApplyResponse }, membership: true };
    }
    if (request.memberPeerUrls !== undefined) {
      const refused = membership.setPeerUrls(request.memberPeerUrls.memberId, request.memberPeerUrls.peerUrls);
      return { result: refused === undefined ? { ok: true, response: {} as ApplyResponse } : { ok: false, error: refused }, membership: true };
    }
    return { result: this.parts.applier.apply(request), membership: false };
  }

  private membershipChanged(): void {
    this.hooks.membership(this.parts.membership.list());
    const self = this.parts.membership.get(this.options.memberId);
    if (self === undefined && this.parts.membership.isRemoved(this.options.memberId) && !this.removedFromCluster) {
      this.removedFromCluster = true;
      this.hooks.removed();
    }
  }

  /** Installs a snapshot from the leader (snapshots.ts); the member's applied state is then the snapshot's. */
  private async installSnapshot(snapshot: Snapshot): Promise<void> {
    await this.snapshots.install(snapshot);
    this.appliedIndex = snapshot.metadata.index;
    this.confState = snapshot.metadata.confState;
    this.hooks.log(`installed a snapshot at index ${snapshot.metadata.index} (backend at ${this.parts.store.consistentIndex}, revision ${this.parts.store.currentRevision})`);
    this.membershipChanged();
  }

  /** Stops the member: it cannot trust what it would do next. */
  private failStop(error: Error): void {
    this.stopped = true;
    this.hooks.fatal(error);
  }
}

/** Peer messages dropped for the same reason are logged at most this often. */
const droppedLogIntervalMs = 5_000;

/** What only a leader sends: replication that may leave before the leader's own write is durable. */
const leaderMessageTypes: ReadonlySet<string> = new Set([MessageType.App, MessageType.Heartbeat, MessageType.Snap]);

