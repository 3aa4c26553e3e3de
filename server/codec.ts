// Protobuf encoding on hot paths. ts-proto's `encode` starts every message in
// a fresh writer that grows by doubling (allocate, zero, copy) and then
// copies the result out; at thousands of 1 KiB puts a second that is a large
// share of the server's garbage. One shared writer keeps its grown buffer,
// so each encode costs one exact-size copy.
import { BinaryWriter } from '@bufbuild/protobuf/wire';

/** A writer that has grown past this is dropped after use, so one huge message does not pin memory. */
const sharedWriterBytesMax = 4 * 1024 * 1024;

export interface MessageEncoder<T> {
  encode(message: T, writer?: BinaryWriter): BinaryWriter;
}

let shared = new BinaryWriter();

/** Encodes `message` into a new Buffer (which it owns; nothing is shared with later calls). */
export function encodeMessage<T>(type: MessageEncoder<T>, message: T): Buffer {
  let bytes: Uint8Array;
  try {
    bytes = type.encode(message, shared).finish();
  } catch (error) {
    shared = new BinaryWriter(); // its position is unknown after a failed encode
    throw error;
  }
  if ((shared as unknown as { buffer: Uint8Array }).buffer.length > sharedWriterBytesMax) shared = new BinaryWriter();
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.length);
}
