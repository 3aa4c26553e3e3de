// Arbitraries for the streams: scripts of Watch creates, cancels and progress
// requests; LeaseKeepAlive requests; Election.Observe opened and cancelled.
// Any of them may carry a message of random bytes.
import fc from 'fast-check';
import { WatchCreateRequest } from '../../proto/gen/etcdserverpb/rpc.js';
import type { KeepAliveAction, KeepAliveCall, ObserveCall, StreamEnding, WatchAction, WatchCall } from './calls.js';
import { binary, enumNumber, fuzzPrefix, int64, keyRange, leaseId, readKey } from './values.js';

/** Bounds of one stream script: few messages, read briefly, so a run stays short. */
const actionsMax = 6;
const settleMs = { min: 20, max: 150 };
const observeOpenMs = { min: 20, max: 200 };

/** Client-chosen watch IDs: a few, so creates collide and cancels find them. */
const watchIds = [0n, 1n, 2n, 7n, -1n, (1n << 63n) - 1n];

function ending(): fc.Arbitrary<StreamEnding> {
  return fc.constantFrom<StreamEnding>('cancel', 'half-close');
}

function watchCreate(): fc.Arbitrary<WatchAction> {
  return fc
    .record({
      range: keyRange(fc.oneof({ arbitrary: readKey('any'), weight: 3 }, { arbitrary: fc.constant(Buffer.from(fuzzPrefix)), weight: 1 })),
      startRevision: fc.oneof({ arbitrary: fc.constant(0n), weight: 3 }, { arbitrary: int64(), weight: 2 }),
      startBack: fc.option(fc.integer({ min: -2, max: 20 }), { freq: 3 }),
      progressNotify: fc.boolean(),
      filters: fc.array(enumNumber([0, 1]), { maxLength: 3 }),
      prevKv: fc.boolean(),
      watchId: fc.oneof({ arbitrary: fc.constantFrom(...watchIds), weight: 3 }, { arbitrary: int64(), weight: 1 }),
      fragment: fc.boolean(),
    })
    .map(({ range, startBack, ...fields }): WatchAction => {
      const create = WatchCreateRequest.fromPartial({ ...range, ...fields });
      return startBack === null ? { create } : { create, startBack };
    });
}

function watchAction(): fc.Arbitrary<WatchAction> {
  return fc.oneof(
    { arbitrary: watchCreate(), weight: 5 },
    { arbitrary: fc.oneof(fc.constantFrom(...watchIds), int64()).map((cancel): WatchAction => ({ cancel })), weight: 2 },
    { arbitrary: fc.constant<WatchAction>({ progress: true }), weight: 1 },
  );
}

/**
 * Actions with, in about one script in eight, a message of random bytes
 * slipped in (it ends the stream, so it must not be in most).
 */
function withGarbage<T>(actions: fc.Arbitrary<T[]>, garbage: (bytes: Buffer) => T): fc.Arbitrary<T[]> {
  const slipped = fc.option(fc.record({ at: fc.nat(actionsMax), bytes: binary(24) }), { freq: 8 });
  return fc.tuple(actions, slipped).map(([list, extra]) => (extra === null ? list : [...list.slice(0, extra.at), garbage(extra.bytes), ...list.slice(extra.at)]));
}

export function watchCall(): fc.Arbitrary<WatchCall> {
  return fc.record({
    kind: fc.constant('watch' as const),
    actions: withGarbage(fc.array(watchAction(), { minLength: 1, maxLength: actionsMax }), (garbage): WatchAction => ({ garbage })),
    settleMs: fc.integer(settleMs),
    ending: ending(),
  });
}

export function keepAliveCall(): fc.Arbitrary<KeepAliveCall> {
  const ids = fc.array(leaseId().map((id): KeepAliveAction => ({ id })), { minLength: 1, maxLength: actionsMax });
  return fc.record({
    kind: fc.constant('keep-alive' as const),
    actions: withGarbage(ids, (garbage): KeepAliveAction => ({ garbage })),
    ending: ending(),
  });
}

export function observeCall(): fc.Arbitrary<ObserveCall> {
  const name = fc.oneof(
    { arbitrary: fc.constantFrom('a', 'b').map((name) => Buffer.from(`${fuzzPrefix}elect/${name}`)), weight: 4 },
    { arbitrary: fc.constantFrom(Buffer.alloc(0), Buffer.from([0]), Buffer.from([0xff])), weight: 1 },
  );
  return fc.record({ kind: fc.constant('observe' as const), name, openMs: fc.integer(observeOpenMs) });
}
