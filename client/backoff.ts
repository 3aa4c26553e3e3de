// Backoff for re-opening streams (unary calls use p-retry with the same policy).
import type { RetryOptions } from './connection.js';

/**
 * Delay before re-opening a stream after `attempt` consecutive failures
 * (0-based): exponential from `minDelayMs`, capped at `maxDelayMs`, with full
 * jitter — a uniform draw in [delay/2, delay] so many clients do not reconnect in step.
 * `random` is injectable so tests can make it deterministic.
 */
export function backoffDelayMs(attempt: number, policy: Required<RetryOptions>, random: () => number = Math.random): number {
  const exponential = Math.min(policy.maxDelayMs, policy.minDelayMs * 2 ** Math.min(attempt, 30));
  return Math.round(exponential / 2 + (exponential / 2) * random());
}
