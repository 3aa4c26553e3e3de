// Protobuf encoding on hot paths. ts-proto's `encode` starts every message in
// a fresh writer that grows by doubling (allocate, zero, copy) and then
// copies the result out; at thousands of 1 KiB puts a second that is a large
// share of the server's garbage. One shared writer keeps its grown buffer.
//
// Two ways out of it:
// - encodeMessage copies the bytes into a Buffer of their own (one exact-size
//   allocation: a new ArrayBuffer, which costs about a microsecond): for
//   bytes that are kept (a log entry's data, a response held by the socket);
// - lendEncoded lends them: a view of the writer's own buffer, with no
//   allocation at all, valid until the next encode through this module: for
//   bytes copied at once (a record into the WAL's write, a key's value into
//   lmdb inside its write transaction, a response into its gRPC frame).
import { BinaryWriter } from '@bufbuild/protobuf/wire';

/** A writer that has grown past this is dropped after use, so one huge message does not pin memory. */
const sharedWriterBytesMax = 4 * 1024 * 1024;

export interface MessageEncoder<T> {
  encode(message: T, writer?: BinaryWriter): BinaryWriter;
}

/**
 * What lendEncoded reads of @bufbuild/protobuf's BinaryWriter (private in
 * its typings): the buffer it writes into and the position it writes at.
 * Checked once at load, so a release that renames them fails at start, not
 * with wrong bytes.
 */
interface WriterState {
  buffer: Uint8Array;
  pos: number;
}

function stateOf(writer: BinaryWriter): WriterState {
  return writer as unknown as WriterState;
}

function checkWriterShape(): void {
  const writer = new BinaryWriter();
  writer.uint32(300);
  const state = stateOf(writer);
  if (!(state.buffer instanceof Uint8Array) || state.pos !== 2 || state.buffer[0] !== 0xac || state.buffer[1] !== 0x02) {
    throw new Error('codec: @bufbuild/protobuf BinaryWriter no longer keeps its bytes in `buffer` up to `pos`; server/codec.ts must follow it');
  }
}
checkWriterShape();

let shared = new BinaryWriter();

/** Runs `encode` on the shared writer; a failed encode leaves a fresh writer behind (the position is unknown after it). */
function encodeShared(encode: (writer: BinaryWriter) => void): WriterState {
  try {
    encode(shared);
  } catch (error) {
    shared = new BinaryWriter();
    throw error;
  }
  return stateOf(shared);
}

/** Starts the shared writer over; one grown past the bound is replaced (a lent view keeps the old buffer alive while it is read). */
function resetShared(): void {
  const state = stateOf(shared);
  if (state.buffer.length > sharedWriterBytesMax) shared = new BinaryWriter();
  else state.pos = 0;
}

/** Encodes `message` into a new Buffer (which it owns; nothing is shared with later calls). */
export function encodeMessage<T>(type: MessageEncoder<T>, message: T): Buffer {
  const lent = lendEncodedOne(type, message);
  const bytes = Buffer.allocUnsafeSlow(lent.length);
  bytes.set(lent);
  return bytes;
}

/**
 * Encodes `messages` one after another and lends their bytes: message i is
 * `bytes.subarray(ends[i - 1] ?? 0, ends[i])`. The view is of the shared
 * writer's buffer: read or copy it before anything else is encoded here.
 */
export function lendEncoded<T>(type: MessageEncoder<T>, messages: readonly T[]): { bytes: Uint8Array; ends: number[] } {
  const ends: number[] = [];
  const state = encodeShared((writer) => {
    for (const message of messages) {
      type.encode(message, writer);
      ends.push(stateOf(writer).pos);
    }
  });
  const bytes = state.buffer.subarray(0, state.pos);
  resetShared();
  return { bytes, ends };
}

/** lendEncoded of one message: its bytes, lent until the next encode. */
export function lendEncodedOne<T>(type: MessageEncoder<T>, message: T): Uint8Array {
  const state = encodeShared((writer) => type.encode(message, writer));
  const bytes = state.buffer.subarray(0, state.pos);
  resetShared();
  return bytes;
}
