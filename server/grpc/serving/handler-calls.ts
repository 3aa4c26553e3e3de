// The call objects handlers receive, shaped as grpc-js's (server-call.js), so
// the services are written against grpc-js's types and run on either server:
// a unary or server-streaming handler gets the request and a writable side;
// a client-streaming or bidi handler gets a Duplex whose readable side
// carries the requests. Each runs its handler the way grpc-js's server does
// (server.js handleUnary…), with the same statuses for a missing or second
// request message and for a handler that throws.
import { EventEmitter } from 'node:events';
import { Duplex, Writable } from 'node:stream';
import { Metadata, status, type StatusObject } from '@grpc/grpc-js';
import type { ServerCall } from './call.js';

type Status = Partial<StatusObject> & { code: status; details: string };
type Respond = (error: unknown, value?: unknown, trailer?: Metadata | null) => void;

/** A handler's error as the status it ends the call with (grpc-js's serverErrorToStatus). */
export function statusOfError(error: unknown, trailer?: Metadata | null): Status {
  const failure = (typeof error === 'object' && error !== null ? error : {}) as { code?: unknown; details?: unknown; message?: unknown; metadata?: Metadata };
  const found: Status = { code: status.UNKNOWN, details: typeof failure.message === 'string' ? failure.message : 'Unknown Error', metadata: trailer ?? failure.metadata ?? undefined };
  if (typeof failure.code === 'number' && Number.isInteger(failure.code)) {
    found.code = failure.code;
    if (typeof failure.details === 'string') found.details = failure.details;
  }
  return found;
}

/** What every call object offers besides its stream (grpc-js's ServerSurfaceCall). */
interface Surface {
  readonly metadata: Metadata;
  /** The first value of a text metadata key (CallIdentity's fast path: no Metadata built). */
  firstMetadataValue(key: string): string | undefined;
  cancelled: boolean;
  getPeer(): string;
  getDeadline(): number;
  getPath(): string;
  getHost(): string | undefined;
  getAuthContext(): ReturnType<ServerCall['getAuthContext']>;
  sendMetadata(metadata: Metadata): void;
}

/** The surface of a stream's call object (long-lived: closures are cheap here; a unary call gets UnaryCall). */
function surfaceOf(call: ServerCall): Omit<Surface, 'cancelled'> {
  return {
    metadata: call.metadata,
    firstMetadataValue: (key) => call.firstMetadataValue(key),
    getPeer: () => call.getPeer(),
    getDeadline: () => call.deadline,
    getPath: () => call.handler.path,
    getHost: () => call.getHost(),
    getAuthContext: () => call.getAuthContext(),
    sendMetadata: (metadata) => call.sendMetadata(metadata),
  };
}

/**
 * The response side both kinds of call object share: messages go out as
 * written; end() sends the status — OK, or the status of an error the
 * handler emitted ('error') — with the trailing metadata end() was given.
 */
class ResponseSide {
  private pendingStatus: Status = { code: status.OK, details: 'OK' };
  private trailingMetadata: Metadata | undefined;

  constructor(private readonly call: ServerCall, stream: Writable) {
    stream.on('error', (error: unknown) => {
      this.pendingStatus = statusOfError(error);
      stream.end();
    });
  }

  write(chunk: unknown, written: (error?: Error | null) => void): void {
    this.call.sendMessages([chunk], () => written());
  }

  /** Messages written while an earlier write was under way (or while corked) go out together. */
  writeAll(chunks: ReadonlyArray<{ chunk: unknown }>, written: (error?: Error | null) => void): void {
    this.call.sendMessages(chunks.map(({ chunk }) => chunk), () => written());
  }

  final(done: (error?: Error | null) => void): void {
    done(null);
    this.call.sendStatus({ ...this.pendingStatus, metadata: this.pendingStatus.metadata ?? this.trailingMetadata });
  }

  ending(metadata: unknown): void {
    if (metadata instanceof Metadata) this.trailingMetadata = metadata;
  }
}

/**
 * The call of unary handlers (grpc-js's ServerUnaryCall): the request and
 * the surface, on the prototype — one small object per call, where a
 * Writable and its closures cost a kilobyte (the answer goes through the
 * handler's callback, not a stream).
 */
class UnaryCall extends EventEmitter implements Surface {
  cancelled = false;

  constructor(private readonly call: ServerCall, readonly request: unknown) {
    super();
  }

  get metadata(): Metadata {
    return this.call.metadata;
  }

  firstMetadataValue(key: string): string | undefined {
    return this.call.firstMetadataValue(key);
  }

  getPeer(): string {
    return this.call.getPeer();
  }

  getDeadline(): number {
    return this.call.deadline;
  }

  getPath(): string {
    return this.call.handler.path;
  }

  getHost(): string | undefined {
    return this.call.getHost();
  }

  getAuthContext(): ReturnType<ServerCall['getAuthContext']> {
    return this.call.getAuthContext();
  }

  sendMetadata(metadata: Metadata): void {
    this.call.sendMetadata(metadata);
  }
}

/** The call of server-streaming handlers: the request, and responses to write. */
class WritableCall extends Writable {
  cancelled = false;
  private readonly response: ResponseSide;

  constructor(call: ServerCall, readonly request: unknown) {
    super({ objectMode: true });
    Object.assign(this, surfaceOf(call));
    this.response = new ResponseSide(call, this);
  }

  override _write(chunk: unknown, _encoding: BufferEncoding, written: (error?: Error | null) => void): void {
    this.response.write(chunk, written);
  }

  override _writev(chunks: Array<{ chunk: unknown }>, written: (error?: Error | null) => void): void {
    this.response.writeAll(chunks, written);
  }

  override _final(done: (error?: Error | null) => void): void {
    this.response.final(done);
  }

  override end(metadata?: unknown): this {
    this.response.ending(metadata);
    return super.end();
  }
}

/** The call of client-streaming and bidi handlers: requests to read, responses to write. */
class DuplexCall extends Duplex {
  cancelled = false;
  private readonly response: ResponseSide;

  constructor(private readonly call: ServerCall) {
    super({ objectMode: true });
    Object.assign(this, surfaceOf(call));
    this.response = new ResponseSide(call, this);
  }

  override _read(): void {
    this.call.resumeReading();
  }

  /** BatchWrite: nothing goes out once the stream was ended or destroyed. */
  writeBatch(values: readonly unknown[], written: () => void): void {
    if (this.writableEnded || this.destroyed) return;
    this.call.sendMessages(values, written);
  }

  override _write(chunk: unknown, _encoding: BufferEncoding, written: (error?: Error | null) => void): void {
    this.response.write(chunk, written);
  }

  override _writev(chunks: Array<{ chunk: unknown }>, written: (error?: Error | null) => void): void {
    this.response.writeAll(chunks, written);
  }

  override _final(done: (error?: Error | null) => void): void {
    this.response.final(done);
  }

  override end(metadata?: unknown): this {
    this.response.ending(metadata);
    return super.end();
  }
}

/**
 * Writes responses, in order, as one write to the connection; `written` once
 * they are handed to it. What cairn's stream call objects offer beside the
 * stream's write(): a handler that queues its own responses (the watch
 * stream) sends a batch without a stream write and callback per response.
 * Not to be mixed with write() on the same call.
 */
export type BatchWrite = (values: readonly unknown[], written: () => void) => void;

/** The batch write of a bidi call made by this server; undefined for any other call object (grpc-js's Server's). */
export function batchWriteOf(call: object): BatchWrite | undefined {
  return call instanceof DuplexCall ? (values, written) => call.writeBatch(values, written) : undefined;
}

/** A handler that throws ends its call as grpc-js ends it. */
function invoke(call: ServerCall, work: () => void): void {
  try {
    call.run(work);
  } catch {
    call.sendStatus({ code: status.UNKNOWN, details: 'Unknown error' });
  }
}

function responder(call: ServerCall): Respond {
  return (error, value, trailer) => {
    if (error) return call.sendStatus(statusOfError(error, trailer));
    call.sendLastMessage(value, trailer ?? undefined);
  };
}

/** A cancelled call says so to its handler ('cancelled'), as grpc-js's call objects do. */
function cancel(target: (EventEmitter & { cancelled: boolean }) | undefined): void {
  if (target === undefined) return;
  target.cancelled = true;
  target.emit('cancelled', 'cancelled');
}

/** Unary and server-streaming calls: one request message, then the handler runs; a stream is destroyed ('close') when the call is over. */
function runWithOneRequest(call: ServerCall, streaming: boolean): void {
  let request: unknown;
  let received = false;
  let target: UnaryCall | WritableCall | undefined;
  const path = call.handler.path;
  call.start({
    message: (value) => {
      if (received) return call.sendStatus({ code: status.UNIMPLEMENTED, details: `Received a second request message for server streaming method ${path}` });
      received = true;
      request = value;
    },
    halfClose: () => {
      if (!received) return call.sendStatus({ code: status.UNIMPLEMENTED, details: `Received no request message for server streaming method ${path}` });
      if (streaming) {
        const writable = new WritableCall(call, request);
        target = writable;
        invoke(call, () => call.handler.func(writable));
      } else {
        const unary = new UnaryCall(call, request);
        target = unary;
        invoke(call, () => call.handler.func(unary, responder(call)));
      }
    },
    cancelled: () => cancel(target),
    finished: streaming ? () => (target as WritableCall | undefined)?.destroy() : undefined,
  });
}

/** Client-streaming and bidi calls: the handler runs at once and reads the requests as they come. */
function runWithRequestStream(call: ServerCall, bidi: boolean): void {
  const duplex = new DuplexCall(call);
  call.start({
    message: (value) => {
      if (!call.run(() => duplex.push(value))) call.pauseReading();
    },
    halfClose: () => void call.run(() => duplex.push(null)),
    cancelled: () => cancel(duplex),
    finished: () => duplex.destroy(),
  });
  invoke(call, () => (bidi ? call.handler.func(duplex) : call.handler.func(duplex, responder(call))));
}

/** Runs the call's handler as grpc-js would. */
export function runHandler(call: ServerCall): void {
  switch (call.handler.type) {
    case 'unary':
      return runWithOneRequest(call, false);
    case 'serverStream':
      return runWithOneRequest(call, true);
    case 'clientStream':
      return runWithRequestStream(call, false);
    case 'bidi':
      return runWithRequestStream(call, true);
  }
}
