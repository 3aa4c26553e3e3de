// Logs that keep what they are told, for tests that check what a module logs.
import type { Log } from '../log.js';

/** A Log that appends every message, whatever its level, to `lines`. */
export function linesLog(lines: string[]): Log {
  const push = (message: string): void => void lines.push(message);
  return { debug: push, info: push, warn: push, error: push };
}
