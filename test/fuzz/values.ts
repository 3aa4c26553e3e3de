// Arbitraries for the fields of etcd requests, biased toward the values that
// break servers: empty and binary keys ("\0", runs of 0xff), range ends before
// their key, int64 extremes, unknown enum numbers, oversized payloads. Writes
// stay on a small set of keys under fuzzPrefix (plus a few fixed hostile
// keys), so the store stays small however long the fuzzer runs.
import fc from 'fast-check';
import { prefixEnd } from '../../server/coordination/coordination.js';

/** Every key the fuzzer writes starts with this, except the fixed hostile keys in rawWriteKeys. */
export const fuzzPrefix = 'fuzz/';

const int64Max = (1n << 63n) - 1n;
const int64Min = -(1n << 63n);
const uint64Max = (1n << 64n) - 1n;

/** Sizes past the limits: under --max-request-bytes, over it (1.5 MiB), and over gRPC's receive limit (2 MiB). */
export const hugeSizes = { underRequestLimit: 64 * 1024, overRequestLimit: 1_600_000, overGrpcLimit: 2_200_000 } as const;

const bytes = (text: string): Buffer => Buffer.from(text, 'latin1');

/** Suffixes under fuzzPrefix: few, so that requests keep meeting each other's keys. */
const keySuffixes = ['a', 'b', 'c', 'a/b', '', '\0', '\xff', '\xff\xff\xff\xff', 'a\0b', '\x7f', '\xe9t\xe9'];

/** Keys written outside fuzzPrefix: the hostile edges of the key space, fixed so they stay few. */
const rawWriteKeys = ['\0', '\0\0', '\xff', '\xff\xff\xff\xff\xff\xff\xff\xff'];

const int64Edges = [
  0n, 1n, -1n, 2n, 3n, 63n, -63n,
  (1n << 31n) - 1n, 1n << 31n, 1n << 32n,
  (1n << 53n) - 1n, 1n << 53n, (1n << 53n) + 1n, -(1n << 53n),
  1n << 62n, int64Max, int64Max - 1n, int64Min, int64Min + 1n,
];

/** An int64: mostly an edge or a small number, sometimes any. */
export function int64(): fc.Arbitrary<bigint> {
  return fc.oneof(
    { arbitrary: fc.constantFrom(...int64Edges), weight: 4 },
    { arbitrary: fc.bigInt(-5n, 100n), weight: 3 },
    { arbitrary: fc.bigInt(int64Min, int64Max), weight: 1 },
  );
}

/** A uint64 (member IDs): edges, small numbers, or any. */
export function uint64(): fc.Arbitrary<bigint> {
  return fc.oneof(
    { arbitrary: fc.constantFrom(0n, 1n, 2n, int64Max, 1n << 63n, uint64Max, uint64Max - 1n), weight: 3 },
    { arbitrary: fc.bigInt(0n, 1000n), weight: 1 },
    { arbitrary: fc.bigInt(0n, uint64Max), weight: 2 },
  );
}

/** An enum field: a known value, or a number the server has never heard of. */
export function enumNumber(known: readonly number[]): fc.Arbitrary<number> {
  return fc.oneof(
    { arbitrary: fc.constantFrom(...known), weight: 4 },
    { arbitrary: fc.constantFrom(-1, known.length, 7, 99, 0x7fffffff, -0x80000000), weight: 1 },
    { arbitrary: fc.integer(), weight: 1 },
  );
}

/** Short binary bytes, 0xff and 0x00 heavy. */
export function binary(maxLength = 16): fc.Arbitrary<Buffer> {
  const byte = fc.oneof(fc.constantFrom(0x00, 0xff, 0x2f, 0x61), fc.integer({ min: 0, max: 255 }));
  return fc.array(byte, { maxLength }).map((values) => Buffer.from(values));
}

/** A key under fuzzPrefix. */
export function fuzzKey(): fc.Arbitrary<Buffer> {
  return fc.oneof(
    { arbitrary: fc.constantFrom(...keySuffixes).map((suffix) => bytes(fuzzPrefix + suffix)), weight: 8 },
    { arbitrary: binary(2).map((suffix) => Buffer.concat([bytes(fuzzPrefix), suffix])), weight: 1 },
  );
}

/** A huge key or value under fuzzPrefix: one of three fixed sizes around the request limits. */
function huge(): fc.Arbitrary<Buffer> {
  return fc.constantFrom(...Object.values(hugeSizes)).map((size) => Buffer.alloc(size, 0x6b));
}

/**
 * Whether keys and values may be huge. Only requests that carry one or two
 * ask for 'any': in a txn of many, one huge value would make nearly every
 * txn a request over the limits.
 */
export type Size = 'small' | 'any';

/** A key a write may name: the fuzz keys, the fixed hostile keys, empty, and (rarely, if `size` allows) huge. */
export function writeKey(size: Size): fc.Arbitrary<Buffer> {
  const small = fc.oneof(
    { arbitrary: fuzzKey(), weight: 10 },
    { arbitrary: fc.constantFrom(...rawWriteKeys).map(bytes), weight: 1 },
    { arbitrary: fc.constant(Buffer.alloc(0)), weight: 1 },
  );
  if (size === 'small') return small;
  return fc.oneof({ arbitrary: small, weight: 30 }, { arbitrary: huge().map((key) => Buffer.concat([bytes(fuzzPrefix), key])), weight: 1 });
}

/** A key a read may name: anything a write may, plus any short binary key. */
export function readKey(size: Size): fc.Arbitrary<Buffer> {
  return fc.oneof({ arbitrary: writeKey(size), weight: 6 }, { arbitrary: binary(), weight: 1 });
}

/** A range end for `key`: none, "\0" (every key from key on), its prefix end, key itself, one before it, or anything. */
export function rangeEndFor(key: Buffer): fc.Arbitrary<Buffer> {
  return fc.oneof(
    { arbitrary: fc.constant(Buffer.alloc(0)), weight: 4 },
    { arbitrary: fc.constant(Buffer.from([0])), weight: 1 },
    { arbitrary: fc.constant(prefixEnd(key)), weight: 2 },
    { arbitrary: fc.constant(key), weight: 1 },
    { arbitrary: fc.constant(key.subarray(0, Math.max(0, key.length - 1))), weight: 1 },
    { arbitrary: fc.constant(bytes(fuzzPrefix)), weight: 1 },
    { arbitrary: binary(), weight: 1 },
  );
}

/** A key and a range end for it, as a pair (the end depends on the key). */
export function keyRange(key: fc.Arbitrary<Buffer>): fc.Arbitrary<{ key: Buffer; rangeEnd: Buffer }> {
  return key.chain((chosen) => rangeEndFor(chosen).map((rangeEnd) => ({ key: chosen, rangeEnd })));
}

/** A value: empty, short text, binary, or (rarely, if `size` allows) huge. */
export function value(size: Size): fc.Arbitrary<Buffer> {
  const small = fc.oneof(
    { arbitrary: fc.constant(Buffer.alloc(0)), weight: 1 },
    { arbitrary: fc.string({ maxLength: 12 }).map((text) => Buffer.from(text)), weight: 2 },
    { arbitrary: binary(32), weight: 1 },
  );
  if (size === 'small') return small;
  return fc.oneof({ arbitrary: small, weight: 20 }, { arbitrary: huge(), weight: 1 });
}

/** Lease IDs the fuzzer grants (and so may find alive), next to edges and random ones. */
export const leasePool = [0x7a01n, 0x7a02n, 0x7a03n, 0x7a04n];

/** A lease ID: 0 (none), one of the pool, or an edge. */
export function leaseId(): fc.Arbitrary<bigint> {
  return fc.oneof(
    { arbitrary: fc.constant(0n), weight: 3 },
    { arbitrary: fc.constantFrom(...leasePool), weight: 4 },
    { arbitrary: int64(), weight: 2 },
  );
}

/** A lease TTL in seconds: short (expires during the run), edges, or past the maximum. */
export function ttlSeconds(): fc.Arbitrary<bigint> {
  return fc.oneof(
    { arbitrary: fc.bigInt(1n, 8n), weight: 3 },
    { arbitrary: fc.constantFrom(9_000_000_000n, 9_000_000_001n), weight: 1 },
    { arbitrary: int64(), weight: 2 },
  );
}
