// Proposal tracking: every request a client makes through the log, from its
// ID to its answer. A request gets a member-unique ID, is handed to the core
// (or parked while no leader is known, as etcd's proposals wait for one), and
// is answered when its entry is applied here — or refused, or timed out.
import { InternalRequest } from '../../proto/gen/cairnpb/internal.js';
import type { Member } from '../../proto/gen/etcdserverpb/rpc.js';
import type { ApplyResponse, ApplyResult } from '../apply/applier.js';
import type { Clock } from '../clock.js';
import { encodeMessage } from '../codec.js';
import { encodeConfChangeContext } from '../membership/membership.js';
import { raftNodeId } from '../membership/ids.js';
import { None, ProposalDroppedError, type ConfChange, type ConfChangeType } from '../raft/index.js';
import { LeaderChangedError, NoLeaderError, RequestTooLargeError, TooManyRequestsError } from './errors.js';
import { Waiters, type Settle } from './waiters.js';
import type { ProposalSpans } from '../tracing/proposal-spans.js';

/** The request part of an InternalRequest (everything but its id); `auth` only on what a client asked. */
export type Proposal = Omit<InternalRequest, 'id' | 'auth'> & { auth?: InternalRequest['auth'] };

export interface ProposeOptions {
  /**
   * Whether the client gave up (cancelled, or its deadline passed): a
   * proposal still waiting for a leader is then never submitted, as in etcd.
   */
  gaveUp?: () => boolean;
}

/** The core, as proposals see it (the node loop). */
export interface ProposalTarget {
  /** The leader known, None when none is. */
  readonly lead: number;
  /** Both throw ProposalDroppedError when the core cannot take the proposal. */
  propose(data: Uint8Array): void;
  proposeConfChange(cc: ConfChange): void;
}

export interface ProposalLimits {
  memberId: bigint;
  /** How long a proposal may wait before "request timed out". */
  requestTimeoutMs: number;
  /** Proposals waiting at once; more are refused with "too many requests". */
  pendingProposalsMax: number;
  /** Largest encoded request accepted into the log (--max-request-bytes). */
  requestBytesMax: number;
}

interface Parked {
  /** Whether its client still waits. */
  pending(): boolean;
  propose(): void;
  refuse(error: Error): void;
}

export class Proposals {
  private readonly requests: Waiters<ApplyResponse>;
  private readonly confChanges: Waiters<void>;
  /**
   * Requests by their entry's data, decoded once: our own proposals, and
   * entries decoded when they arrived from a peer (peer-admission.ts).
   * Applying takes them out; the log keeps its entries until a snapshot, not
   * their decoded twins.
   */
  private readonly decoded = new WeakMap<Uint8Array, InternalRequest>();
  /** Proposals made while no leader was known (bounded by pendingProposalsMax through the waiters). */
  private parked: Parked[] = [];
  private requestSequence: bigint;
  /** Proposals that failed before they were applied (refused by the core, or the member stopped); timeouts are counted by the waiters. */
  private failures = 0;

  constructor(
    private readonly target: ProposalTarget,
    private readonly limits: ProposalLimits,
    clock: Clock,
    /** Records spans for traced requests (when the member traces). */
    private readonly spans?: ProposalSpans,
  ) {
    this.requests = new Waiters(limits.requestTimeoutMs, clock);
    this.confChanges = new Waiters(limits.requestTimeoutMs, clock);
    // Request IDs: 16 bits of the member ID, then a clock-based sequence, so
    // they are unique across members and across restarts (etcd's idutil).
    this.requestSequence = ((limits.memberId & 0xffffn) << 48n) | ((BigInt(Math.floor(clock.wallMs())) << 8n) & sequenceMask);
  }

  /**
   * Proposes a request; `settle` hears its response once it is committed
   * and applied here, or why it was refused — once, synchronously from the
   * apply loop, a refusal or the deadline: a client's write then reaches its
   * answer without a turn of the loop on the way (RaftNode.propose makes a
   * promise of it).
   */
  proposeWith(proposal: Proposal, options: ProposeOptions, settle: Settle<ApplyResponse>): void {
    if (this.requests.size >= this.limits.pendingProposalsMax) return settle(new TooManyRequestsError());
    const request: InternalRequest = { ...proposal, auth: proposal.auth, id: this.nextRequestId() };
    const data = encodeMessage(InternalRequest, request);
    if (data.length > this.limits.requestBytesMax) return settle(new RequestTooLargeError());
    this.requests.waitWith(request.id, this.spans === undefined ? settle : this.traced(request.id, settle, this.spans));
    this.decoded.set(data, request);
    // With a leader known (nearly always) the entry goes to the core now, without the closures a parked proposal needs.
    if (this.target.lead !== None) this.proposeRequest(request.id, data);
    else this.submit(this.parkable(request.id, data, options.gaveUp ?? (() => false)));
  }

  /** `settle`, with the request's span opened now and closed when it settles. */
  private traced(id: bigint, settle: Settle<ApplyResponse>, spans: ProposalSpans): Settle<ApplyResponse> {
    spans.proposed(id);
    return (error, response) => {
      spans.settled(id);
      settle(error, response);
    };
  }

  private proposeRequest(id: bigint, data: Uint8Array): void {
    try {
      this.target.propose(data);
    } catch (error) {
      if (!(error instanceof ProposalDroppedError)) throw error;
      this.refuseRequest(id, this.droppedError());
    }
  }

  /** A client request as it waits for a leader: dropped if its client gave up meanwhile. */
  private parkable(id: bigint, data: Uint8Array, gaveUp: () => boolean): Parked {
    return {
      pending: () => this.requests.has(id) && !gaveUp(),
      propose: () => this.target.propose(data),
      refuse: (error) => this.refuseRequest(id, error),
    };
  }

  private refuseRequest(id: bigint, error: Error): void {
    if (this.requests.has(id)) this.failures++;
    this.requests.reject(id, error);
  }

  /** Proposes a membership change; resolves once it is applied here. */
  changeMembership(type: ConfChangeType, memberId: bigint, member?: Member): Promise<void> {
    const requestId = this.nextRequestId();
    const applied = this.confChanges.wait(requestId);
    const change = { type, nodeId: raftNodeId(memberId), context: encodeConfChangeContext({ requestId, member }) };
    this.submit({
      pending: () => this.confChanges.has(requestId),
      propose: () => this.target.proposeConfChange(change),
      refuse: (error) => this.confChanges.reject(requestId, error),
    });
    return applied;
  }

  /** A request decoded on arrival from a peer: applying it will not decode it again. */
  remember(data: Uint8Array, request: InternalRequest): void {
    this.decoded.set(data, request);
  }

  /** The request an entry's data carries, if it was decoded before (then it is forgotten here). */
  take(data: Uint8Array): InternalRequest | undefined {
    const request = this.decoded.get(data);
    if (request !== undefined) this.decoded.delete(data);
    return request;
  }

  /** Answers the clients of applied requests (those that still wait here). */
  answer(results: ReadonlyArray<readonly [bigint, ApplyResult]>): void {
    for (const [id, result] of results) {
      if (!this.requests.has(id)) continue;
      if (result.ok) this.requests.resolve(id, result.response);
      else this.requests.reject(id, result.error);
    }
  }

  /** Answers the callers of applied membership changes: refused with the error, or done. */
  answerConfChanges(results: ReadonlyArray<readonly [bigint, Error | undefined]>): void {
    for (const [id, refused] of results) {
      if (refused === undefined) this.confChanges.resolve(id, undefined);
      else this.confChanges.reject(id, refused);
    }
  }

  /** A leader is known again: proposals that waited for one go to the core, unless their clients gave up. */
  leaderKnown(): void {
    const parked = this.parked;
    this.parked = [];
    for (const proposal of parked) if (proposal.pending()) this.submit(proposal);
  }

  /** Request `id` is about to be applied: what ends its trace's apply span (undefined when it is not traced here). */
  traceApply(id: bigint): (() => void) | undefined {
    return this.spans?.applying(id);
  }

  /** Proposals waiting to be applied. */
  get pending(): number {
    return this.requests.size;
  }

  /** Proposals that failed before being applied (etcd's proposals_failed_total: timed out, dropped, or the member stopped). */
  get failedTotal(): number {
    return this.failures + this.requests.timedOutTotal;
  }

  rejectAll(error: Error): void {
    this.failures += this.requests.size;
    this.requests.rejectAll(error);
    this.confChanges.rejectAll(error);
  }

  /** Hands a proposal to the core now, or — while no leader is known — once one is. */
  private submit(proposal: Parked): void {
    if (this.target.lead === None) {
      // Those whose clients gave up are dropped, so a long leaderless spell cannot grow this list.
      if (this.parked.length >= this.limits.pendingProposalsMax) this.parked = this.parked.filter((parked) => parked.pending());
      this.parked.push(proposal);
      return;
    }
    try {
      proposal.propose();
    } catch (error) {
      if (!(error instanceof ProposalDroppedError)) throw error;
      proposal.refuse(this.droppedError());
    }
  }

  /** Why the core dropped a proposal, as the client hears it. */
  private droppedError(): Error {
    return this.target.lead === None ? new NoLeaderError() : new LeaderChangedError();
  }

  private nextRequestId(): bigint {
    this.requestSequence = (this.requestSequence & ~sequenceMask) | ((this.requestSequence + 1n) & sequenceMask);
    return this.requestSequence;
  }
}

/** The low 48 bits of a request ID: the sequence. */
const sequenceMask = (1n << 48n) - 1n;
