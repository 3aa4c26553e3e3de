// An HTTP/2 :authority with a scheme in it ("http://127.0.0.1:2379").
//
// etcdctl and etcd's Go client dial each endpoint of a per-endpoint call
// (endpoint status, endpoint hashkv, defrag) as the gRPC target
// "passthrough:///http://127.0.0.1:2379", so every stream of that connection
// carries the whole URL as its :authority. etcd's Go server takes it. Node's
// HTTP/2 server (nghttp2) resets the stream with PROTOCOL_ERROR before any
// JavaScript sees it, as RFC 9113 allows no "/" in an authority, and no option
// turns that check off.
//
// So before a gRPC connection goes to Node's HTTP/2 session, inspect() reads
// it up to its first header block and decodes that block's :authority:
// - no scheme in it (every other client): the bytes read go back into the
//   socket and the session gets the socket itself, as before;
// - a scheme: the session gets an AuthorityRepair instead, a stream between
//   it and the socket that re-encodes every header block the client sends
//   with the scheme taken off the :authority, and passes every other frame
//   as it is.
//
// A gRPC client may wait for the server's SETTINGS before its first request
// (grpc-go does), so inspect() sends an empty SETTINGS frame as the server's
// preface at once, and keeps the client's acknowledgement of it from the
// session, which will send and count its own SETTINGS.
//
// What a repaired connection lacks: the gRPC server sees no TLSSocket under it, so a
// client certificate's common name does not name the caller there (a token
// does); the calls that come this way (Status, HashKV, Defragment) are
// rarely made as a certificate-only user.
import hpack, { type Compressor, type Decompressor, type HeaderField } from 'hpack.js';
import type { Socket } from 'node:net';
import { Duplex } from 'node:stream';
import type { Clock } from '../clock.js';
import { clientPreface, emptySettingsFrame, FrameFlag, FrameReader, FrameType, headerBlockFrames, headersParts, type Frame } from './http2-frames.js';

/** SETTINGS_HEADER_TABLE_SIZE's initial value, which neither side of a repaired connection changes for the other. */
const headerTableBytes = 4_096;
/** The most a client may send before its first header block is complete (a larger first request is not gRPC's). */
const inspectedBytesMax = 1_048_576;

/** What inspect() found: whether the connection needs repair, and every byte it read, to be given back. */
export interface Inspection {
  readonly repair: boolean;
  readonly received: Buffer;
}

/**
 * Reads `socket` (of which `head` was read already) up to its first header
 * block, then calls `done` with the socket paused. Within `waitMs` the client
 * must acknowledge the SETTINGS sent here, or the connection is closed; a
 * client that acknowledged but has sent no request by then is passed on
 * unrepaired. A client that is not speaking HTTP/2 is disconnected.
 */
export function inspect(socket: Socket, head: Buffer, clock: Clock, waitMs: number, done: (inspection: Inspection) => void): void {
  const kept: Buffer[] = [];
  const reader = new FrameReader(inspectedBytesMax);
  const blocks = new HeaderBlocks();
  let preface = Buffer.alloc(0);
  let keptBytes = 0;
  let acknowledged = false;
  let authority: string | undefined;

  const finish = (repair: boolean): void => {
    socket.off('data', onData);
    socket.pause();
    timer.cancel();
    done({ repair, received: Buffer.concat([...kept, reader.takePending()]) });
  };
  const fail = (): void => {
    timer.cancel();
    socket.destroy();
  };
  const onFrame = (frame: Frame): void => {
    if (!acknowledged && frame.type === FrameType.settings && (frame.flags & FrameFlag.ack) !== 0) {
      acknowledged = true;
      return;
    }
    kept.push(frame.bytes);
    keptBytes += frame.bytes.length;
    if (authority !== undefined) return;
    const block = blocks.take(frame);
    if (block !== undefined) authority = authorityOf(decodeBlock(newDecompressor(), block.block));
  };
  const onData = (chunk: Buffer): void => {
    try {
      let rest = chunk;
      if (preface.length < clientPreface.length) {
        const wanted = clientPreface.length - preface.length;
        preface = Buffer.concat([preface, rest.subarray(0, wanted)]);
        rest = rest.subarray(wanted);
        if (!clientPreface.subarray(0, preface.length).equals(preface)) return fail();
        if (preface.length < clientPreface.length) return;
        kept.push(preface);
      }
      for (const frame of reader.push(rest)) onFrame(frame);
    } catch {
      return fail();
    }
    if (acknowledged && authority !== undefined) return finish(authority.includes('://'));
    if (keptBytes + reader.pendingBytes > inspectedBytesMax) return acknowledged ? finish(false) : fail();
  };
  const timer = clock.after(waitMs, () => (acknowledged ? finish(false) : fail()));
  socket.once('close', () => timer.cancel());
  socket.write(emptySettingsFrame());
  socket.on('data', onData);
  if (head.length > 0) onData(head);
  socket.resume();
}

/**
 * The connection as Node's HTTP/2 session should see it: the client's
 * frames, with every header block re-encoded so that its :authority has no
 * scheme; what the session writes goes to the socket unchanged. `received`
 * (from inspect(), starting with the client preface) comes first.
 */
export class AuthorityRepair extends Duplex {
  private readonly reader = new FrameReader(inspectedBytesMax);
  private readonly blocks = new HeaderBlocks();
  private readonly decompressor = newDecompressor();
  private readonly compressor: Compressor = hpack.compressor.create({ table: { maxSize: headerTableBytes } });

  constructor(private readonly socket: Socket, received: Buffer) {
    super();
    this.push(received.subarray(0, clientPreface.length));
    this.receive(received.subarray(clientPreface.length));
    socket.on('data', (chunk: Buffer) => this.receive(chunk));
    socket.on('end', () => this.push(null));
    socket.on('close', () => this.destroy());
    socket.on('error', (error) => this.destroy(error));
  }

  get remoteAddress(): string | undefined {
    return this.socket.remoteAddress;
  }

  get remotePort(): number | undefined {
    return this.socket.remotePort;
  }

  override _read(): void {
    this.socket.resume();
  }

  override _write(chunk: Buffer, _encoding: BufferEncoding, callback: (error?: Error | null) => void): void {
    this.socket.write(chunk, callback);
  }

  override _final(callback: (error?: Error | null) => void): void {
    this.socket.end(callback);
  }

  override _destroy(error: Error | null, callback: (error?: Error | null) => void): void {
    this.socket.destroy();
    callback(error);
  }

  private receive(chunk: Buffer): void {
    if (this.destroyed) return;
    const out: Buffer[] = [];
    try {
      for (const frame of this.reader.push(chunk)) {
        if (frame.type !== FrameType.headers && frame.type !== FrameType.continuation) {
          out.push(frame.bytes);
          continue;
        }
        const block = this.blocks.take(frame);
        if (block === undefined) continue;
        const fields = decodeBlock(this.decompressor, block.block).map(withoutScheme);
        out.push(headerBlockFrames(block.streamId, encodeBlock(this.compressor, fields), block.endStream, block.priority));
      }
    } catch (error) {
      this.destroy(error as Error);
      return;
    }
    if (out.length > 0 && !this.push(Buffer.concat(out))) this.socket.pause();
  }
}

interface HeaderBlock {
  readonly streamId: number;
  readonly endStream: boolean;
  readonly priority: Buffer | undefined;
  readonly block: Buffer;
}

/** Gathers a header block from its HEADERS frame and the CONTINUATION frames after it (RFC 9113 §6.10). */
class HeaderBlocks {
  private open: { streamId: number; endStream: boolean; priority: Buffer | undefined; fragments: Buffer[]; bytes: number } | undefined;

  /** The block `frame` completes, if it completes one; throws where RFC 9113 calls the sequence a connection error. */
  take(frame: Frame): HeaderBlock | undefined {
    if (frame.type === FrameType.headers) {
      if (this.open !== undefined) throw new Error('HTTP/2: HEADERS inside an unfinished header block');
      const { priority, fragment } = headersParts(frame);
      this.open = { streamId: frame.streamId, endStream: (frame.flags & FrameFlag.endStream) !== 0, priority, fragments: [fragment], bytes: fragment.length };
    } else if (frame.type === FrameType.continuation) {
      if (this.open === undefined || this.open.streamId !== frame.streamId) throw new Error('HTTP/2: CONTINUATION outside a header block');
      this.open.fragments.push(frame.payload);
      this.open.bytes += frame.payload.length;
    } else {
      if (this.open !== undefined) throw new Error('HTTP/2: another frame inside a header block');
      return undefined;
    }
    if (this.open.bytes > inspectedBytesMax) throw new Error(`HTTP/2: a header block longer than ${inspectedBytesMax} bytes`);
    if ((frame.flags & FrameFlag.endHeaders) === 0) return undefined;
    const { streamId, endStream, priority, fragments } = this.open;
    this.open = undefined;
    return { streamId, endStream, priority, block: Buffer.concat(fragments) };
  }
}

function newDecompressor(): Decompressor {
  return hpack.decompressor.create({ table: { maxSize: headerTableBytes } });
}

function decodeBlock(decompressor: Decompressor, block: Buffer): HeaderField[] {
  decompressor.write(block);
  decompressor.execute();
  const fields: HeaderField[] = [];
  for (let field = decompressor.read(); field !== null; field = decompressor.read()) fields.push(field);
  return fields;
}

/** Literals that leave the dynamic table alone, so that the session's decoder never depends on ours keeping step. */
function encodeBlock(compressor: Compressor, fields: HeaderField[]): Buffer {
  compressor.write(fields.map(({ name, value, neverIndex }) => ({ name, value, neverIndex, incremental: false, huffman: false })));
  return compressor.read() ?? Buffer.alloc(0);
}

/** The block's :authority, '' when it has none. */
function authorityOf(fields: HeaderField[]): string {
  return fields.find((field) => field.name === ':authority')?.value ?? '';
}

function withoutScheme(field: HeaderField): HeaderField {
  if (field.name !== ':authority') return field;
  const at = field.value.indexOf('://');
  return at === -1 ? field : { ...field, value: field.value.slice(at + 3) };
}
