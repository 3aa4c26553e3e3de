// gRPC's framing on HTTP/2 (PROTOCOL-HTTP2.md of grpc/grpc): each message is
// a 5-byte prefix (a compressed flag, then the length as a big-endian uint32)
// and the bytes; DATA frames cut messages anywhere, so the reader reassembles
// them. Also the grpc-timeout header and the compressed messages a client
// may send (identity, deflate, gzip: what cairn announces it accepts).
import { gunzipSync, inflateSync } from 'node:zlib';
import { status } from '@grpc/grpc-js';

const prefixBytes = 5;

/** A status the call ends with: its code and details, as gRPC sends them. */
export class CallStatusError extends Error {
  constructor(readonly code: status, readonly details: string) {
    super(details);
    this.name = 'CallStatusError';
  }
}

/** One message as read: whether it is compressed, and its bytes (a view into what arrived, or a copy when it spanned chunks). */
export interface FramedMessage {
  compressed: boolean;
  bytes: Buffer;
}

/**
 * Reassembles messages from DATA chunks. A message longer than
 * `messageBytesMax` is refused as soon as its prefix is read, with the status
 * grpc-js gives (RESOURCE_EXHAUSTED "Received message larger than max (N vs M)").
 */
export class MessageReader {
  /** Bytes of an unfinished message, kept as they came (joined once the message is whole). */
  private pending: Buffer[] = [];
  private pendingBytes = 0;
  /** Prefix and body of the unfinished message, once its prefix is known. */
  private pendingNeeded = prefixBytes;

  constructor(private readonly messageBytesMax: number) {}

  /** The messages `chunk` completes, in order. Throws CallStatusError for a message over the limit. */
  push(chunk: Buffer): FramedMessage[] {
    let data = chunk;
    if (this.pendingBytes > 0) {
      this.pending.push(chunk);
      this.pendingBytes += chunk.length;
      // A large message arrives in many chunks: join them once, when it is whole, not at every chunk.
      if (this.pendingBytes < this.pendingNeeded) return [];
      data = Buffer.concat(this.pending, this.pendingBytes);
      this.pending = [];
      this.pendingBytes = 0;
    }
    const messages: FramedMessage[] = [];
    let offset = 0;
    while (data.length - offset >= prefixBytes) {
      const length = this.lengthAt(data, offset);
      if (data.length - offset - prefixBytes < length) break;
      const start = offset + prefixBytes;
      messages.push({ compressed: data[offset] === 1, bytes: data.subarray(start, start + length) });
      offset = start + length;
    }
    if (offset < data.length) {
      const rest = data.subarray(offset);
      this.pending = [rest];
      this.pendingBytes = rest.length;
      this.pendingNeeded = rest.length >= prefixBytes ? prefixBytes + this.lengthAt(rest, 0) : prefixBytes;
    }
    return messages;
  }

  /** Whether a message was begun and not finished (a half-close then cuts it). */
  get partial(): boolean {
    return this.pendingBytes > 0;
  }

  private lengthAt(data: Buffer, offset: number): number {
    const length = data.readUInt32BE(offset + 1);
    if (length > this.messageBytesMax) throw new CallStatusError(status.RESOURCE_EXHAUSTED, `Received message larger than max (${length} vs ${this.messageBytesMax})`);
    return length;
  }
}

/** `bytes` as one gRPC message, uncompressed. */
export function frameMessage(bytes: Uint8Array): Buffer {
  const framed = Buffer.allocUnsafe(prefixBytes + bytes.length);
  framed[0] = 0;
  framed.writeUInt32BE(bytes.length, 1);
  framed.set(bytes, prefixBytes);
  return framed;
}

/**
 * Messages lent by the codec (server/codec.ts lendEncoded: message i is
 * bytes[ends[i - 1] ?? 0 .. ends[i]]) as gRPC messages, uncompressed, in one
 * buffer of their own: the bytes frameMessage would give for each, concatenated.
 */
export function frameLent(bytes: Uint8Array, ends: readonly number[]): Buffer {
  const framed = Buffer.allocUnsafe(bytes.length + prefixBytes * ends.length);
  let start = 0;
  let offset = 0;
  for (const end of ends) {
    framed[offset] = 0;
    framed.writeUInt32BE(end - start, offset + 1);
    framed.set(bytes.subarray(start, end), offset + prefixBytes);
    offset += prefixBytes + end - start;
    start = end;
  }
  return framed;
}

/** The message's bytes as the handler's decoder takes them, decompressed with the call's grpc-encoding when flagged. */
export function messageBytes(message: FramedMessage, encoding: string, messageBytesMax: number): Buffer {
  if (!message.compressed) return message.bytes;
  if (encoding !== 'deflate' && encoding !== 'gzip') throw new CallStatusError(status.UNIMPLEMENTED, `Received message compressed with unsupported encoding "${encoding}"`);
  try {
    const options = { maxOutputLength: Math.max(1, messageBytesMax) };
    return encoding === 'gzip' ? gunzipSync(message.bytes, options) : inflateSync(message.bytes, options);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ERR_BUFFER_TOO_LARGE') {
      throw new CallStatusError(status.RESOURCE_EXHAUSTED, `Received message that decompresses to a size larger than ${messageBytesMax}`);
    }
    throw new CallStatusError(status.INTERNAL, 'Failed to decompress message');
  }
}

const timeoutUnitsMs: Record<string, number> = { H: 3_600_000, M: 60_000, S: 1_000, m: 1, u: 0.001, n: 0.000_001 };

/** A grpc-timeout value ("100m", "5S"…) in ms; throws CallStatusError as grpc-js does for one it cannot read. */
export function timeoutMsOf(header: string): number {
  const match = /(\d{1,8})\s*([HMSmun])/.exec(header);
  if (match === null) throw new CallStatusError(status.INTERNAL, `Invalid grpc-timeout value "${header}"`);
  return Number(match[1]) * (timeoutUnitsMs[match[2] as string] as number);
}
