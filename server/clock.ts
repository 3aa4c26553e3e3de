// The one source of time in the server. Everything that reads the time or
// waits for it — election and heartbeat ticks, lease deadlines, request and
// read timeouts, retries, keep-alive answers, progress notifications — is
// given a Clock; only `realClock` below touches Node's timers and clocks
// (test/clock-purity.test.ts enforces it). The simulator (test/sim/) gives
// each member a virtual clock instead, which is what lets one seed replay a
// whole cluster's history exactly.

/** A pending callback of a Clock; cancelling it twice, or after it ran, does nothing. */
export interface Timer {
  cancel(): void;
  /** Lets the process exit while only this timer is pending (background work); returns the timer. */
  unref(): Timer;
}

export interface Clock {
  /** Milliseconds on a clock that only moves forward, at the rate of real time; its zero means nothing. */
  nowMs(): number;
  /**
   * Milliseconds since the Unix epoch. Only for values that must differ
   * across restarts (request IDs, member ID salts, log lines), never for
   * durations: the wall clock can step back or forward at any time.
   */
  wallMs(): number;
  /** Calls `fn` once, `ms` from now. */
  after(ms: number, fn: () => void): Timer;
  /** Calls `fn` every `ms` until cancelled. */
  every(ms: number, fn: () => void): Timer;
  /**
   * Calls `fn` once the current turn is over and the I/O that completed
   * meanwhile was handled: work arriving together (proposals, reads) is then
   * handled together.
   */
  soon(fn: () => void): void;
}

/** Resolves after `ms` on `clock`. */
export function sleep(clock: Clock, ms: number): Promise<void> {
  return new Promise((resolve) => clock.after(ms, resolve));
}

/** Resolves once the current turn is over (lets other work run between batches of a long job). */
export function nextTurn(clock: Clock): Promise<void> {
  return new Promise((resolve) => clock.soon(resolve));
}

class NodeTimer implements Timer {
  constructor(private readonly handle: NodeJS.Timeout, private readonly repeating: boolean) {}

  cancel(): void {
    if (this.repeating) clearInterval(this.handle);
    else clearTimeout(this.handle);
  }

  unref(): Timer {
    this.handle.unref();
    return this;
  }
}

/**
 * The process's clocks and timers. `nowMs` is monotonic, never the wall
 * clock: a step of the date (NTP, an operator) would otherwise expire every
 * lease at once, or keep lapsed ones alive for as long as the step.
 */
export const realClock: Clock = {
  nowMs: () => performance.now(),
  wallMs: () => Date.now(),
  after: (ms, fn) => new NodeTimer(setTimeout(fn, ms), false),
  every: (ms, fn) => new NodeTimer(setInterval(fn, ms), true),
  soon: (fn) => void setImmediate(fn),
};
