/**
 * Reading an element a test expects to exist (`results[0]`, `map.get(id)`) without a bare `!`:
 * `must(value, what)` fails the test with a message naming what was missing, then hands back the
 * narrowed value.
 */
import { assert } from 'chai';

export function must<T>(value: T | undefined, what: string): T {
  assert.isDefined(value, `expected ${what}`);
  return value;
}
