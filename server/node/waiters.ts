// Requests waiting for the log: each is settled once — by the entry that
// carries its ID being applied, by a refusal, or by its deadline (then the
// client learns only that the outcome is unknown: "request timed out").
//
// Every waiter gets the same timeout, so the order they were registered in is
// the order of their deadlines: one timer, armed for the oldest, serves them
// all (a timer per request was a measurable share of a put's cost).
import type { Clock, Timer } from '../clock.js';
import { RequestTimeoutError } from './errors.js';

/**
 * How a waiter hears its outcome: an error, or none and the value. Called
 * once, synchronously, by whatever settles it (the apply loop answering a
 * request, a refusal, the deadline's timer).
 */
export type Settle<T> = (error: Error | undefined, value?: T) => void;

/** The promise of what `start` settles: the one way the callback paths (waitWith, proposeWith and theirs) become promises. */
export function promiseOf<T>(start: (settle: (error: unknown, value?: T) => void) => void): Promise<T> {
  return new Promise<T>((resolve, reject) => start((error, value) => (error === undefined ? resolve(value as T) : reject(error))));
}

interface Waiter<T> {
  settle: Settle<T>;
  /** On the clock's monotonic time. */
  deadlineMs: number;
}

export class Waiters<T> {
  /** In registration order, which is deadline order. */
  private readonly waiting = new Map<bigint, Waiter<T>>();
  /** Armed for the oldest waiter's deadline while any waits (it may have settled since: the timer then re-arms). */
  private timer: Timer | undefined;
  /** Waiters that reached their deadline, since the start. */
  timedOutTotal = 0;

  constructor(private readonly timeoutMs: number, private readonly clock: Clock) {}

  get size(): number {
    return this.waiting.size;
  }

  /** Registers `id`; the promise settles when `resolve`/`reject` is called for it, or at the deadline. */
  wait(id: bigint): Promise<T> {
    return promiseOf<T>((settle) => this.waitWith(id, settle));
  }

  /** Registers `id`; `settle` is called when `resolve`/`reject` is called for it, or at the deadline. No promise, no turn of the loop in between. */
  waitWith(id: bigint, settle: Settle<T>): void {
    this.waiting.set(id, { settle, deadlineMs: this.clock.nowMs() + this.timeoutMs });
    this.arm();
  }

  has(id: bigint): boolean {
    return this.waiting.has(id);
  }

  resolve(id: bigint, value: T): void {
    this.take(id)?.settle(undefined, value);
  }

  reject(id: bigint, error: Error): void {
    this.take(id)?.settle(error);
  }

  rejectAll(error: Error): void {
    for (const id of [...this.waiting.keys()]) this.reject(id, error);
  }

  private take(id: bigint): Waiter<T> | undefined {
    const waiter = this.waiting.get(id);
    if (waiter === undefined) return undefined;
    this.waiting.delete(id);
    if (this.waiting.size === 0) this.disarm();
    return waiter;
  }

  private arm(): void {
    if (this.timer !== undefined) return;
    const oldest = this.waiting.values().next().value;
    if (oldest === undefined) return;
    this.timer = this.clock.after(Math.max(0, oldest.deadlineMs - this.clock.nowMs()), () => {
      this.timer = undefined;
      this.expire();
    });
  }

  private disarm(): void {
    this.timer?.cancel();
    this.timer = undefined;
  }

  /** Times out every waiter whose deadline passed (they are at the front), then re-arms for the next. */
  private expire(): void {
    const now = this.clock.nowMs();
    for (const [id, waiter] of this.waiting) {
      if (waiter.deadlineMs > now) break;
      this.waiting.delete(id);
      this.timedOutTotal++;
      waiter.settle(new RequestTimeoutError());
    }
    this.arm();
  }
}
