// The mixes of calls the properties draw from: every client RPC, weighted
// toward those with the most structure (KV, above all Txn).
import fc from 'fast-check';
import type { FuzzCall } from './calls.js';
import { garbageCall } from './garbage.js';
import { kvCall } from './kv-requests.js';
import { serviceCall, type TargetFacts } from './service-requests.js';
import { keepAliveCall, observeCall, watchCall } from './stream-requests.js';

/** Generated requests to every client RPC: unary calls and stream scripts. */
export function structuredCall(facts: TargetFacts): fc.Arbitrary<FuzzCall> {
  return fc.oneof(
    { arbitrary: kvCall(), weight: 6 },
    { arbitrary: serviceCall(facts), weight: 5 },
    { arbitrary: watchCall(), weight: 2 },
    { arbitrary: keepAliveCall(), weight: 1 },
    { arbitrary: observeCall(), weight: 1 },
  );
}

/** Random and mutated bytes as the bodies of unary methods. */
export function garbageOnly(facts: TargetFacts): fc.Arbitrary<FuzzCall> {
  return garbageCall(fc.oneof(kvCall(), serviceCall(facts)));
}

/** Both, mostly structured. */
export function mixedCall(facts: TargetFacts): fc.Arbitrary<FuzzCall> {
  return fc.oneof({ arbitrary: structuredCall(facts), weight: 4 }, { arbitrary: garbageOnly(facts), weight: 1 });
}
