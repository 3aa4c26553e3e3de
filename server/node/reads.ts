// Linearizable reads (Raft thesis §6.4): reads arriving together share one
// ReadIndex request. Once the leader confirms the read index (and this
// member has applied up to it), every read of the batch may be served from
// the local state machine.
import type { Clock, Timer } from '../clock.js';
import { LeaderChangedError, RequestTimeoutError } from './errors.js';

interface ReadWaiter {
  resolve(): void;
  reject(error: Error): void;
  timer: Timer | undefined;
  settled: boolean;
}

export class ReadBatches {
  /** Reads not yet sent as a ReadIndex request. */
  private queued: ReadWaiter[] = [];
  /** Sent, by request context. */
  private readonly inFlight = new Map<string, ReadWaiter[]>();
  /** Confirmed at an index this member has not applied yet. */
  private awaitingApply: Array<{ index: number; waiters: ReadWaiter[] }> = [];
  private sequence = 0;

  /**
   * `contextPrefix` names this member in its requests' contexts: the leader
   * keeps one pending request per context, so two members must never send
   * the same one (a duplicate would be dropped and its reads time out).
   */
  constructor(
    private readonly timeoutMs: number,
    private readonly contextPrefix: string,
    private readonly clock: Clock,
  ) {}

  /** A read that resolves once it may be served. */
  wait(): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      const waiter: ReadWaiter = { resolve, reject, settled: false, timer: undefined };
      waiter.timer = this.clock.after(this.timeoutMs, () => settle(waiter, new RequestTimeoutError()));
      this.queued.push(waiter);
    });
  }

  get hasQueued(): boolean {
    return this.queued.length > 0;
  }

  /** Moves the queued reads into one request; returns its context. */
  startBatch(): string {
    const context = `${this.contextPrefix}-${++this.sequence}`;
    this.inFlight.set(context, this.queued);
    this.queued = [];
    return context;
  }

  /** The leader confirmed `index` for the batch `context`. */
  confirmed(context: string, index: number, applied: number): void {
    const waiters = this.inFlight.get(context);
    if (waiters === undefined) return;
    this.inFlight.delete(context);
    if (index <= applied) for (const waiter of waiters) settle(waiter);
    else this.awaitingApply.push({ index, waiters });
  }

  /** Entries up to `applied` are in the state machine. */
  applied(applied: number): void {
    if (this.awaitingApply.length === 0) return;
    const still: Array<{ index: number; waiters: ReadWaiter[] }> = [];
    for (const batch of this.awaitingApply) {
      if (batch.index <= applied) for (const waiter of batch.waiters) settle(waiter);
      else still.push(batch);
    }
    this.awaitingApply = still;
  }

  /** The leader changed: requests in flight may have been lost with it. */
  leaderChanged(): void {
    for (const waiters of this.inFlight.values()) for (const waiter of waiters) settle(waiter, new LeaderChangedError());
    this.inFlight.clear();
  }

  rejectAll(error: Error): void {
    for (const waiter of this.queued) settle(waiter, error);
    this.queued = [];
    for (const waiters of this.inFlight.values()) for (const waiter of waiters) settle(waiter, error);
    this.inFlight.clear();
    for (const batch of this.awaitingApply) for (const waiter of batch.waiters) settle(waiter, error);
    this.awaitingApply = [];
  }
}

function settle(waiter: ReadWaiter, error?: Error): void {
  if (waiter.settled) return;
  waiter.settled = true;
  waiter.timer?.cancel();
  if (error === undefined) waiter.resolve();
  else waiter.reject(error);
}
