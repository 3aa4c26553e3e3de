// Request bodies no client library would send: random bytes, valid requests
// with bytes flipped, cut or inserted, and hand-made protobuf that the
// decoders find hard (overlong varints, lengths past the end, groups,
// reserved wire types, txns nested far past any limit). Sent as the body of
// a unary method with an identity serializer.
import fc from 'fast-check';
import type { GarbageCall, UnaryCall, UnaryMethod } from './calls.js';
import { unaryMethods, waitDeadlineMs, waitingMethods } from './calls.js';

export type Mutation = { kind: 'flip' | 'set' | 'truncate' | 'insert' | 'duplicate'; at: number; byte: number; inserted: Buffer };

/** Where in the body a mutation applies, as a fraction of its length in thousandths (so it shrinks toward the start). */
const positionScale = 1000;
export const mutationsMax = 4;

export function mutation(): fc.Arbitrary<Mutation> {
  return fc.record({
    kind: fc.constantFrom<Mutation['kind']>('flip', 'set', 'truncate', 'insert', 'duplicate'),
    at: fc.integer({ min: 0, max: positionScale }),
    byte: fc.oneof(fc.constantFrom(0x00, 0xff, 0x80, 0x7f, 0x0a, 0x12), fc.integer({ min: 0, max: 255 })),
    inserted: fc.uint8Array({ maxLength: 12 }).map((bytes) => Buffer.from(bytes)),
  });
}

export function mutate(body: Buffer, mutations: Mutation[]): Buffer {
  let out = Buffer.from(body);
  for (const { kind, at, byte, inserted } of mutations) {
    const index = Math.min(out.length, Math.floor((at / positionScale) * out.length));
    switch (kind) {
      case 'flip':
        if (index < out.length) out.writeUInt8(out.readUInt8(index) ^ (byte === 0 ? 1 : byte), index);
        break;
      case 'set':
        if (index < out.length) out[index] = byte;
        break;
      case 'truncate':
        out = out.subarray(0, index);
        break;
      case 'insert':
        out = Buffer.concat([out.subarray(0, index), inserted, out.subarray(index)]);
        break;
      case 'duplicate':
        out = Buffer.concat([out.subarray(0, index), out.subarray(index, index + 16), out.subarray(index)]);
        break;
    }
  }
  return out;
}

/** A protobuf varint. */
function varint(value: number): Buffer {
  const bytes: number[] = [];
  let rest = value;
  while (rest > 0x7f) {
    bytes.push((rest & 0x7f) | 0x80);
    rest = Math.floor(rest / 0x80);
  }
  bytes.push(rest);
  return Buffer.from(bytes);
}

/** Field `field` of wire type 2 (length-delimited) holding `payload`. */
function lengthDelimited(field: number, payload: Buffer): Buffer {
  return Buffer.concat([varint((field << 3) | 2), varint(payload.length), payload]);
}

/** A TxnRequest nested `levels` deep: success (2) → RequestOp.request_txn (4) → ... */
function nestedTxnBytes(levels: number): Buffer {
  let body: Buffer = Buffer.alloc(0);
  for (let level = 0; level < levels; level++) body = lengthDelimited(2, lengthDelimited(4, body));
  return body;
}

/** Hand-made bodies that walk the decoder's edge cases. */
export const craftedBodies: Buffer[] = [
  Buffer.alloc(0),
  Buffer.from([0x08, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01]), // varint of 11 bytes
  Buffer.from([0x08, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80]), // varint with no end
  Buffer.from([0x0a, 0xff, 0xff, 0xff, 0xff, 0x0f, 0x61]), // length far past the end
  Buffer.from([0x0a, 0x05, 0x61]), // length past the end
  Buffer.from([0x0b, 0x08, 0x01, 0x0c]), // a group (wire type 3 ... 4)
  Buffer.from([0x0b, 0x0b, 0x0b, 0x0b]), // groups never closed
  Buffer.from([0x0c]), // end-group with no start
  Buffer.from([0x0e, 0x01]), // wire type 6
  Buffer.from([0x0f, 0x01]), // wire type 7
  Buffer.from([0x00]), // field number 0
  Buffer.from([0xf8, 0xff, 0xff, 0xff, 0x0f, 0x01]), // the largest field number
  Buffer.from([0x0d, 0x01, 0x02]), // fixed32 cut short
  Buffer.from([0x09, 0x01, 0x02, 0x03]), // fixed64 cut short
  nestedTxnBytes(60),
  nestedTxnBytes(2_000),
];

/** Methods whose garbage bodies the sender may refuse to send (see sendable in send.ts). */
const garbageMethods = Object.keys(unaryMethods) as UnaryMethod[];

/**
 * A garbage call: random bytes, a crafted body, or (most often) a valid
 * request of the given structured arbitrary with bytes mutated.
 */
export function garbageCall(structured: fc.Arbitrary<UnaryCall>): fc.Arbitrary<GarbageCall> {
  const method = fc.constantFrom(...garbageMethods);
  const random = fc.record({ method, body: fc.uint8Array({ maxLength: 96 }).map((bytes) => Buffer.from(bytes)) });
  const crafted = fc.record({ method, body: fc.constantFrom(...craftedBodies) });
  const mutated = fc.record({ call: structured, mutations: fc.array(mutation(), { minLength: 1, maxLength: mutationsMax }) }).map(({ call, mutations }) => {
    const definition = unaryMethods[call.method];
    return { method: call.method, body: mutate(Buffer.from(definition.requestSerialize(call.request as never)), mutations) };
  });
  return fc
    .record({ garbage: fc.oneof({ arbitrary: mutated, weight: 5 }, { arbitrary: random, weight: 2 }, { arbitrary: crafted, weight: 2 }), deadlineMs: fc.integer(waitDeadlineMs) })
    .map(({ garbage: { method, body }, deadlineMs }): GarbageCall => ({ kind: 'garbage', method, body, ...(waitingMethods.includes(method) ? { deadlineMs } : {}) }));
}
