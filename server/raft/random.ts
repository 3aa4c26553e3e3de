/**
 * Randomness is injected (contract 4): the core only ever calls `Random.intBelow`.
 * SeededRandom is a small, fast, deterministic generator (mulberry32 over a 32-bit state) for tests,
 * the simulator and callers that want reproducible election timeouts.
 */
export interface Random {
  /** A uniformly distributed integer in [0, bound). bound ≥ 1. */
  intBelow(bound: number): number;
}

export class SeededRandom implements Random {
  private state: number;

  constructor(seed: number) {
    this.state = (seed ^ 0x9e3779b9) >>> 0;
  }

  /** A float in [0, 1). */
  next(): number {
    this.state = (this.state + 0x6d2b79f5) >>> 0;
    let t = this.state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  }

  intBelow(bound: number): number {
    return Math.floor(this.next() * bound);
  }

  /** True with probability p. */
  chance(p: number): boolean {
    return this.next() < p;
  }
}
