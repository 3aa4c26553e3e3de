/**
 * Reading an element a test expects to exist (`results[0]`, `map.get(id)`) without a bare `!`:
 * `must(value, what)` fails the test with a message naming what was missing, then hands back the
 * narrowed value.
 */
import { assert } from 'chai';
import type { CommandResult } from './command.js';

export function must<T>(value: T | undefined, what: string): T {
  assert.isDefined(value, `expected ${what}`);
  return value;
}

/** Awaits a command (etcdctl, cairn) and fails the test, naming `what` and quoting its stderr, unless it exited 0. */
export async function must0(result: Promise<CommandResult>, what: string): Promise<CommandResult> {
  const done = await result;
  assert.strictEqual(done.code, 0, `${what}: ${done.stderr}`);
  return done;
}
