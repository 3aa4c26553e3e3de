// Just enough of HTTP/2's framing (RFC 9113 §4.1, §6) to read a client's
// connection frame by frame before, or instead of, Node's HTTP/2 session
// reading it: see authority-repair.ts. Nothing here interprets a frame
// beyond its header and the padding and priority fields of HEADERS.

/** The 24 bytes every HTTP/2 client sends first (RFC 9113 §3.4). */
export const clientPreface = Buffer.from('PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n');
export const frameHeaderBytes = 9;
/** SETTINGS_MAX_FRAME_SIZE's initial value: every peer takes frames this large. */
export const frameSizeDefault = 16_384;

export const FrameType = { data: 0, headers: 1, settings: 4, ping: 6, goaway: 7, windowUpdate: 8, continuation: 9 } as const;
export const FrameFlag = { endStream: 0x1, ack: 0x1, endHeaders: 0x4, padded: 0x8, priority: 0x20 } as const;
/** PRIORITY's fields in a HEADERS frame: stream dependency (4 bytes) and weight (1). */
const priorityBytes = 5;

export interface Frame {
  readonly type: number;
  readonly flags: number;
  readonly streamId: number;
  readonly payload: Buffer;
  /** The frame as it came: header and payload. */
  readonly bytes: Buffer;
}

/** An empty SETTINGS frame: a server's connection preface that changes no setting. */
export function emptySettingsFrame(): Buffer {
  return frameBytes(FrameType.settings, 0, 0, Buffer.alloc(0));
}

export function frameBytes(type: number, flags: number, streamId: number, payload: Buffer): Buffer {
  const header = Buffer.alloc(frameHeaderBytes);
  header.writeUIntBE(payload.length, 0, 3);
  header.writeUInt8(type, 3);
  header.writeUInt8(flags, 4);
  header.writeUInt32BE(streamId & 0x7fff_ffff, 5);
  return Buffer.concat([header, payload]);
}

/**
 * Cuts a byte stream into frames. push() takes bytes as they arrive and
 * returns the frames they complete; what is left waits for the next push.
 * A frame longer than `frameBytesMax` throws (the caller drops the
 * connection): HTTP/2 allows 16 MiB, but no server takes frames that long
 * unless it said so in its SETTINGS, and Node's does not.
 */
export class FrameReader {
  private pending: Buffer = Buffer.alloc(0);

  constructor(private readonly frameBytesMax: number) {}

  push(chunk: Buffer): Frame[] {
    this.pending = this.pending.length === 0 ? chunk : Buffer.concat([this.pending, chunk]);
    const frames: Frame[] = [];
    for (;;) {
      if (this.pending.length < frameHeaderBytes) break;
      const length = this.pending.readUIntBE(0, 3);
      if (length > this.frameBytesMax) throw new Error(`HTTP/2 frame of ${length} bytes, longer than ${this.frameBytesMax}`);
      const end = frameHeaderBytes + length;
      if (this.pending.length < end) break;
      const bytes = this.pending.subarray(0, end);
      frames.push({
        type: bytes.readUInt8(3),
        flags: bytes.readUInt8(4),
        streamId: bytes.readUInt32BE(5) & 0x7fff_ffff,
        payload: bytes.subarray(frameHeaderBytes),
        bytes,
      });
      this.pending = this.pending.subarray(end);
    }
    return frames;
  }

  /** Bytes of a frame not complete yet. */
  get pendingBytes(): number {
    return this.pending.length;
  }

  /** Hands over the bytes of the frame not complete yet, and forgets them. */
  takePending(): Buffer {
    const pending = this.pending;
    this.pending = Buffer.alloc(0);
    return pending;
  }
}

/** A HEADERS frame's parts: its priority fields (if any) and its header block fragment without padding. */
export function headersParts(frame: Frame): { priority: Buffer | undefined; fragment: Buffer } {
  let payload = frame.payload;
  if ((frame.flags & FrameFlag.padded) !== 0) {
    const padLength = payload.readUInt8(0);
    if (padLength >= payload.length) throw new Error('HTTP/2 HEADERS frame: padding longer than the payload');
    payload = payload.subarray(1, payload.length - padLength);
  }
  if ((frame.flags & FrameFlag.priority) === 0) return { priority: undefined, fragment: payload };
  if (payload.length < priorityBytes) throw new Error('HTTP/2 HEADERS frame: priority fields cut short');
  return { priority: payload.subarray(0, priorityBytes), fragment: payload.subarray(priorityBytes) };
}

/**
 * A header block as one HEADERS frame and as many CONTINUATION frames as
 * frameSizeDefault needs, flags END_STREAM (from `endStream`) and PRIORITY
 * (when `priority` is given) on the HEADERS frame, END_HEADERS on the last.
 */
export function headerBlockFrames(streamId: number, block: Buffer, endStream: boolean, priority: Buffer | undefined): Buffer {
  const frames: Buffer[] = [];
  let rest = block;
  let first = true;
  do {
    const room = frameSizeDefault - (first && priority !== undefined ? priority.length : 0);
    const fragment = rest.subarray(0, room);
    rest = rest.subarray(fragment.length);
    const last = rest.length === 0;
    if (first) {
      const flags = (endStream ? FrameFlag.endStream : 0) | (priority === undefined ? 0 : FrameFlag.priority) | (last ? FrameFlag.endHeaders : 0);
      frames.push(frameBytes(FrameType.headers, flags, streamId, priority === undefined ? fragment : Buffer.concat([priority, fragment])));
    } else {
      frames.push(frameBytes(FrameType.continuation, last ? FrameFlag.endHeaders : 0, streamId, fragment));
    }
    first = false;
  } while (rest.length > 0);
  return Buffer.concat(frames);
}
