// Requests waiting for the log: each is settled once — by the entry that
// carries its ID being applied, by a refusal, or by its deadline (then the
// client learns only that the outcome is unknown: "request timed out").
import type { Clock, Timer } from '../clock.js';
import { RequestTimeoutError } from './errors.js';

interface Waiter<T> {
  resolve(value: T): void;
  reject(error: Error): void;
  timer: Timer;
}

export class Waiters<T> {
  private readonly waiting = new Map<bigint, Waiter<T>>();
  /** Waiters that reached their deadline, since the start. */
  timedOutTotal = 0;

  constructor(private readonly timeoutMs: number, private readonly clock: Clock) {}

  get size(): number {
    return this.waiting.size;
  }

  /** Registers `id`; the promise settles when `resolve`/`reject` is called for it, or at the deadline. */
  wait(id: bigint): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      const timer = this.clock.after(this.timeoutMs, () => {
        this.waiting.delete(id);
        this.timedOutTotal++;
        reject(new RequestTimeoutError());
      });
      this.waiting.set(id, { resolve, reject, timer });
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
    waiter.timer.cancel();
    this.waiting.delete(id);
    return waiter;
  }
}
