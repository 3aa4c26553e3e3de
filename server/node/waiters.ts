// Requests waiting for the log: each is settled once — by the entry that
// carries its ID being applied, by a refusal, or by its deadline (then the
// client learns only that the outcome is unknown: "request timed out").
//
// Every waiter gets the same timeout, so the order they were registered in is
// the order of their deadlines: one timer, armed for the oldest, serves them
// all (a timer per request was a measurable share of a put's cost).
import type { Clock, Timer } from '../clock.js';
import { RequestTimeoutError } from './errors.js';

interface Waiter<T> {
  resolve(value: T): void;
  reject(error: Error): void;
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
    return new Promise<T>((resolve, reject) => {
      this.waiting.set(id, { resolve, reject, deadlineMs: this.clock.nowMs() + this.timeoutMs });
      this.arm();
    });
  }

  has(id: bigint): boolean {
    return this.waiting.has(id);
  }

  resolve(id: bigint, value: T): void {
    const waiter = this.take(id);
    waiter?.resolve(value);
  }

  reject(id: bigint, error: Error): void {
    const waiter = this.take(id);
    waiter?.reject(error);
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
      waiter.reject(new RequestTimeoutError());
    }
    this.arm();
  }
}
