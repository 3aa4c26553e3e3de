/**
 * A member's clock in the simulator: virtual milliseconds that move only when the simulation says
 * (`advance`), at the member's own rate (the cluster skews them), and a queue of `soon` callbacks
 * the simulation runs after every event it hands the member (`drain`) — where Node would run them
 * after the current turn. Timers due at the same instant fire in the order they were set.
 */
import type { Clock, Timer } from '../../server/clock.js';
import { MinHeap } from './heap.js';

interface Pending {
  at: number;
  seq: number;
  fn: () => void;
  /** Repeats every this many ms; 0: once. */
  everyMs: number;
  /** Shared by every record of one timer. */
  state: { cancelled: boolean };
}

/** What a virtual wall clock reads at virtual time 0 (any fixed value: runs must replay exactly). */
const epochMs = 1_700_000_000_000;

/** Soon-callbacks run in one drain before the member is considered looping forever. */
const drainCallbacksMax = 100_000;

export class SimClock implements Clock {
  private now = 0;
  private seq = 0;
  private readonly timers = new MinHeap<Pending>();
  private queue: Array<() => void> = [];

  nowMs(): number {
    return this.now;
  }

  wallMs(): number {
    return epochMs + this.now;
  }

  after(ms: number, fn: () => void): Timer {
    return this.add(ms, fn, 0);
  }

  every(ms: number, fn: () => void): Timer {
    return this.add(ms, fn, Math.max(ms, 1));
  }

  soon(fn: () => void): void {
    this.queue.push(fn);
  }

  /** Runs the soon-callbacks, and those they queue, until none is left. */
  drain(): void {
    for (let ran = 0; this.queue.length > 0; ran++) {
      if (ran > drainCallbacksMax) throw new Error(`a member queued more than ${drainCallbacksMax} callbacks without waiting for anything`);
      const fn = this.queue.shift()!;
      fn();
    }
  }

  /** Moves time forward by `ms`, firing every timer due on the way (each followed by a drain). */
  advance(ms: number): void {
    const end = this.now + ms;
    for (let t = this.timers.peek(); t !== undefined && t.at <= end; t = this.timers.peek()) {
      this.timers.pop();
      if (t.state.cancelled) continue;
      this.now = t.at;
      if (t.everyMs > 0) this.timers.push({ ...t, at: t.at + t.everyMs, seq: this.seq++ });
      t.fn();
      this.drain();
    }
    this.now = end;
  }

  private add(ms: number, fn: () => void, everyMs: number): Timer {
    // A repeating timer is queued again under a new record each time; all of them share `state`.
    const state = { cancelled: false };
    this.timers.push({ at: this.now + Math.max(ms, 0), seq: this.seq++, fn, everyMs, state });
    const timer: Timer = {
      cancel: () => {
        state.cancelled = true;
      },
      unref: () => timer,
    };
    return timer;
  }
}
