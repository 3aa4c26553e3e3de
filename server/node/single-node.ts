// The single-node I/O loop: proposals are appended to the WAL in batches, one
// fdatasync per batch (group commit), then applied to the store in one
// backend transaction, then answered. A proposal is acknowledged only after
// its entry is durable, so kill -9 at any moment loses no acknowledged write.
//
// Replication will replace this loop with a Raft node; the WAL, the entry
// format and the apply path stay the same.
import { InternalRequest } from '../../proto/gen/cairnpb/internal.js';
import { EntryType, type Entry } from '../../proto/gen/raftpb/raft.js';
import type { Applier, ApplyResponse, ApplyResult } from '../apply/applier.js';
import { encodeMessage } from '../codec.js';
import type { Backend } from '../mvcc/backend.js';
import type { MvccStore, RevisionChanges } from '../mvcc/store.js';
import type { Wal } from '../storage/wal.js';
import { RequestTooLargeError, ServerStoppedError, TooManyRequestsError } from './errors.js';

export interface SingleNodeLimits {
  /** Proposals waiting for the log at once; more are refused with "too many requests". */
  pendingProposalsMax: number;
  /** Entries written and fsynced together. */
  batchEntriesMax: number;
  /** Largest encoded request accepted into the log (--max-request-bytes). */
  requestBytesMax: number;
}

export const defaultSingleNodeLimits: SingleNodeLimits = {
  pendingProposalsMax: 20_000,
  batchEntriesMax: 2_000,
  requestBytesMax: 1.5 * 1024 * 1024,
};

/** The request part of an InternalRequest (everything but its id). */
export type Proposal = Omit<InternalRequest, 'id'>;

interface Waiter {
  request: InternalRequest;
  /** The request as the log stores it. */
  data: Buffer;
  resolve(response: ApplyResponse): void;
  reject(error: Error): void;
}

/** Single-node Raft has one term; it never changes. */
const term = 1n;

export class SingleNode {
  private pending: Waiter[] = [];
  private flushing: Promise<void> | undefined;
  /** Set while exclusive work runs: proposals queue but are not committed. */
  private paused: Promise<void> | undefined;
  private nextId = 1n;
  private stopped = false;
  private lastIndexValue: number;
  private appliedIndexValue: number;
  /** Called with the changes of each committed batch, after the backend committed them (the watch hub). */
  private onChanges: (changes: RevisionChanges[]) => void = () => {};

  constructor(
    private readonly wal: Wal,
    private readonly store: MvccStore,
    private readonly backend: Backend,
    private readonly applier: Applier,
    private readonly limits: SingleNodeLimits = defaultSingleNodeLimits,
  ) {
    this.lastIndexValue = wal.lastEntryIndex;
    this.appliedIndexValue = store.consistentIndex;
  }

  /** Sets who receives the changes of committed batches. */
  observeChanges(listener: (changes: RevisionChanges[]) => void): void {
    this.onChanges = listener;
  }

  get term(): bigint {
    return term;
  }

  get committedIndex(): number {
    return this.lastIndexValue;
  }

  get appliedIndex(): number {
    return this.appliedIndexValue;
  }

  /** Applies entries the WAL holds beyond the backend's consistent index (after a restart). */
  replay(entries: Entry[]): number {
    const missing = entries.filter((entry) => Number(entry.index) > this.store.consistentIndex);
    for (let start = 0; start < missing.length; start += this.limits.batchEntriesMax) {
      const batch = missing.slice(start, start + this.limits.batchEntriesMax);
      this.applyBatch(Number(batch[0].index), batch.map((entry) => (entry.data.length > 0 ? InternalRequest.decode(entry.data) : undefined)));
    }
    this.appliedIndexValue = this.store.consistentIndex;
    this.store.discardChanges(); // nobody watches yet during recovery
    return missing.length;
  }

  /** Proposes a request; resolves with its response once it is durable and applied. */
  propose(proposal: Proposal): Promise<ApplyResponse> {
    if (this.stopped) return Promise.reject(new ServerStoppedError());
    if (this.pending.length >= this.limits.pendingProposalsMax) return Promise.reject(new TooManyRequestsError());
    const request: InternalRequest = { ...proposal, id: this.nextId++ };
    const data = encodeMessage(InternalRequest, request);
    if (data.length > this.limits.requestBytesMax) return Promise.reject(new RequestTooLargeError());
    return new Promise((resolve, reject) => {
      this.pending.push({ request, data, resolve, reject });
      this.scheduleFlush();
    });
  }

  /**
   * Runs `work` while no batch is being committed (defragmentation swaps
   * the backend under it). Proposals arriving meanwhile wait in the queue.
   */
  async exclusive<T>(work: () => Promise<T>): Promise<T> {
    while (this.paused !== undefined) await this.paused;
    let release!: () => void;
    this.paused = new Promise((resolve) => (release = resolve));
    try {
      await this.flushing;
      return await work();
    } finally {
      this.paused = undefined;
      release();
      this.scheduleFlush();
    }
  }

  private scheduleFlush(): void {
    if (this.paused !== undefined || this.pending.length === 0) return;
    this.flushing ??= new Promise<void>((done) => setImmediate(done)).then(() => this.flush());
  }

  /** Stops taking proposals and waits for those in flight to finish. */
  async stop(): Promise<void> {
    this.stopped = true;
    await this.flushing;
  }

  private async flush(): Promise<void> {
    try {
      while (this.pending.length > 0 && this.paused === undefined) {
        const batch = this.pending.splice(0, this.limits.batchEntriesMax);
        await this.commit(batch);
      }
    } finally {
      this.flushing = undefined;
    }
  }

  private async commit(batch: Waiter[]): Promise<void> {
    const first = this.lastIndexValue + 1;
    const entries: Entry[] = batch.map((waiter, i) => ({
      type: EntryType.EntryNormal,
      term,
      index: BigInt(first + i),
      data: waiter.data,
    }));
    try {
      this.wal.append(entries);
      await this.wal.sync();
    } catch (error) {
      // The log can no longer be trusted to hold what we acknowledge: stop.
      for (const waiter of batch) waiter.reject(error as Error);
      throw error;
    }
    this.lastIndexValue = first + batch.length - 1;
    const results = this.applyBatch(first, batch.map((waiter) => waiter.request));
    this.appliedIndexValue = this.lastIndexValue;
    this.onChanges(this.store.takeChanges());
    for (const [i, result] of results.entries()) {
      if (result === undefined) throw new Error('single node: a proposal was applied without a request');
      if (result.ok) batch[i].resolve(result.response);
      else batch[i].reject(result.error);
    }
  }

  /**
   * Applies consecutive log entries from index `first` in one backend
   * transaction, recording each index as applied with its effects (an entry
   * without a request only advances the index). The same path serves commits
   * and replay after a restart.
   */
  private applyBatch(first: number, requests: Array<InternalRequest | undefined>): Array<ApplyResult | undefined> {
    return this.backend.transaction(() =>
      requests.map((request, i) => {
        const result = request === undefined ? undefined : this.applier.apply(request);
        this.store.setConsistentIndex(first + i);
        return result;
      }),
    );
  }
}
