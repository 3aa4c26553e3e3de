// WAL record framing. Each record is
//
//   u32 LE length of (type + payload) | u32 LE CRC-32C of (type + payload) | u8 type | payload
//
// The CRC is computed when a record is encoded and checked when it is read,
// so a torn or flipped record is never mistaken for data.
import { crc32c } from '@node-rs/crc32';

export const RecordType = {
  entry: 1,
  hardState: 2,
  snapshot: 3,
} as const;
export type RecordType = (typeof RecordType)[keyof typeof RecordType];

export const recordHeaderBytes = 8;
/** A record larger than this is corrupt, whatever its CRC says. */
export const recordBytesMax = 64 * 1024 * 1024;

export interface WalRecord {
  type: RecordType;
  payload: Buffer;
}

export function encodeRecord(type: RecordType, payload: Uint8Array): Buffer {
  const bytes = Buffer.allocUnsafe(recordBytes(payload));
  writeRecord(bytes, 0, type, payload);
  return bytes;
}

/** Bytes the record holding `payload` takes. */
export function recordBytes(payload: Uint8Array): number {
  return recordHeaderBytes + 1 + payload.length;
}

/** Frames `payload` into `target` at `offset`; returns the offset after the record. */
export function writeRecord(target: Buffer, offset: number, type: RecordType, payload: Uint8Array): number {
  const body = payload.length + 1;
  if (body > recordBytesMax) throw new Error(`wal: record of ${body} bytes exceeds ${recordBytesMax}`);
  const start = offset + recordHeaderBytes;
  target[start] = type;
  target.set(payload, start + 1);
  target.writeUInt32LE(body, offset);
  target.writeUInt32LE(crc32c(target.subarray(start, start + body)), offset + 4);
  return start + body;
}

export type DecodeOutcome =
  | { kind: 'record'; record: WalRecord; next: number }
  | { kind: 'end' }
  /** The bytes from `offset` do not hold a whole record (a torn write at the tail). */
  | { kind: 'torn'; offset: number }
  /** A whole record whose CRC does not match. */
  | { kind: 'corrupt'; offset: number; reason: string };

/** Decodes the record starting at `offset` of `bytes`. */
export function decodeRecord(bytes: Buffer, offset: number): DecodeOutcome {
  if (offset === bytes.length) return { kind: 'end' };
  if (bytes.length - offset < recordHeaderBytes) return { kind: 'torn', offset };
  const body = bytes.readUInt32LE(offset);
  if (body === 0 || body > recordBytesMax) {
    return isZeroFrom(bytes, offset) ? { kind: 'torn', offset } : { kind: 'corrupt', offset, reason: `bad record length ${body}` };
  }
  const start = offset + recordHeaderBytes;
  if (start + body > bytes.length) return { kind: 'torn', offset };
  const content = bytes.subarray(start, start + body);
  if (crc32c(content) !== bytes.readUInt32LE(offset + 4)) {
    return { kind: 'corrupt', offset, reason: 'crc mismatch' };
  }
  const type = content[0];
  if (type !== RecordType.entry && type !== RecordType.hardState && type !== RecordType.snapshot) {
    return { kind: 'corrupt', offset, reason: `unknown record type ${type}` };
  }
  return { kind: 'record', record: { type, payload: content.subarray(1) }, next: start + body };
}

const zeros = Buffer.alloc(64 * 1024);

/**
 * Whether every byte of `bytes` from `offset` on is zero, compared a chunk at
 * a time natively: a WAL segment's preallocated space runs to megabytes.
 */
export function isZeroFrom(bytes: Buffer, offset: number): boolean {
  for (let at = offset; at < bytes.length; at += zeros.length) {
    const chunk = bytes.subarray(at, Math.min(at + zeros.length, bytes.length));
    if (!chunk.equals(zeros.subarray(0, chunk.length))) return false;
  }
  return true;
}

/** One past the last non-zero byte of `bytes` (0 when all are zero). */
export function nonZeroEnd(bytes: Buffer): number {
  for (let end = bytes.length; end > 0; end -= zeros.length) {
    const start = Math.max(0, end - zeros.length);
    const chunk = bytes.subarray(start, end);
    if (chunk.equals(zeros.subarray(0, chunk.length))) continue;
    for (let at = end - 1; at >= start; at--) if (bytes[at] !== 0) return at + 1;
  }
  return 0;
}
