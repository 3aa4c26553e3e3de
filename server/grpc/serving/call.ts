// One call on the server's side of the wire: the request's metadata and
// deadline, its request messages as they arrive (reassembled, decompressed,
// decoded), and its response — headers, messages, then the status in the
// trailers (or alone, "Trailers-Only", when nothing was sent before it).
// Handlers never see it: they get the call objects of handler-calls.ts,
// shaped as grpc-js's, which drive it. What it sends and how it reads a
// request follow grpc-js 1.14 (server-interceptors.js), down to the status
// details, so clients see no difference.
import { Metadata, status, type StatusObject } from '@grpc/grpc-js';
import type { IncomingHttpHeaders, ServerHttp2Stream } from 'node:http2';
import { TLSSocket } from 'node:tls';
import type { Clock, Timer } from '../../clock.js';
import { CallStatusError, frameMessage, MessageReader, messageBytes, timeoutMsOf } from './framing.js';
import type { CallObserver, CallObserverFactory, ObservedMethod } from './observer.js';

export type HandlerType = 'unary' | 'clientStream' | 'serverStream' | 'bidi';

/** A method as registered: its path, kind, implementation and (de)serializers. */
export interface MethodHandler {
  readonly path: string;
  readonly type: HandlerType;
  /** The method as observers see it (made once, not per call). */
  readonly observed: ObservedMethod;
  // eslint-disable-next-line @typescript-eslint/no-explicit-any -- grpc-js handlers take call objects of many shapes
  readonly func: (...args: any[]) => void;
  deserialize(bytes: Buffer): unknown;
  serialize(value: unknown): Uint8Array;
  /** Serializes and frames several responses into one buffer itself, when the method's definition says how (ResponseFraming). */
  frame?(values: readonly unknown[]): Buffer;
}

/** What a call tells the handler side (handler-calls.ts). */
export interface CallListener {
  message(value: unknown): void;
  halfClose(): void;
  /** The client gave up (cancelled the call, went away, or its deadline passed) before a status was sent. */
  cancelled(): void;
  /** The call is over, answered or cancelled (after cancelled()); absent when the handler side has nothing to release. */
  finished?(): void;
}

/** What grpc-js's getAuthContext() gives: a verified client certificate over TLS, else nothing. */
export interface CallAuthContext {
  transportSecurityType?: string;
  sslPeerCertificate?: ReturnType<TLSSocket['getPeerCertificate']>;
}

// Frozen: Node copies headers it is given; were that to change, sharing these would throw, not corrupt.
const responseHeaders = Object.freeze({
  ':status': 200,
  'content-type': 'application/grpc+proto',
  'grpc-accept-encoding': 'identity,deflate,gzip',
  'grpc-encoding': 'identity',
} as const);

/** The trailers of almost every call, made once. */
const okTrailers: Readonly<Record<string, string>> = Object.freeze({ 'grpc-status': String(status.OK), 'grpc-message': 'OK' });

/** A status as the trailers carry it, with the handler's trailing metadata. */
function trailersOf(code: number, details: string, metadata: Metadata | undefined): Readonly<Record<string, string | string[]>> {
  if (code === status.OK && details === 'OK' && metadata === undefined) return okTrailers;
  return { 'grpc-status': String(code), 'grpc-message': encodeURI(details), ...metadata?.toHttp2Headers() } as Record<string, string | string[]>;
}

/** Request headers that are the transport's, not the call's metadata (as grpc-js removes them). */
const transportHeaders = ['grpc-timeout', 'grpc-encoding', 'grpc-accept-encoding', 'accept-encoding', 'te', 'content-type'];

/** A request header's value as grpc-js's metadata gives it first (Node joins a repeated header's values with ", "). */
function headerValue(headers: IncomingHttpHeaders, name: string): string | undefined {
  const value = headers[name];
  return Array.isArray(value) ? value[0] : value;
}

/** What grpc-js's metadata takes as a text value (isLegalNonBinaryValue); it leaves out a header with any other. */
const legalTextValue = /^[ -~]*$/;

export class ServerCall {
  /** When the client stops waiting, in ms since the epoch; Infinity without a grpc-timeout. */
  readonly deadline: number;
  private readonly host: string | undefined;
  private readonly reader: MessageReader;
  private readonly observers: CallObserver[];
  private readonly encoding: string;
  private metadataBuilt: Metadata | undefined;
  private listener: CallListener | undefined;
  private deadlineTimer: Timer | undefined;
  private headersSent = false;
  /** The status was sent, or the call was cancelled: nothing more goes out. */
  private over = false;
  private cancelledValue = false;

  constructor(
    private readonly stream: ServerHttp2Stream,
    private readonly headers: IncomingHttpHeaders,
    readonly handler: MethodHandler,
    private readonly messageBytesMax: number,
    observerFactories: readonly CallObserverFactory[],
    clock: Clock,
  ) {
    this.reader = new MessageReader(messageBytesMax);
    this.host = headers[':authority'] ?? headers.host;
    const timeout = headerValue(headers, 'grpc-timeout');
    this.encoding = headerValue(headers, 'grpc-encoding') ?? 'identity';
    this.observers = observerFactories.map((factory) => factory(handler.observed, this));
    this.deadline = Infinity;
    if (timeout !== undefined) {
      try {
        const timeoutMs = timeoutMsOf(timeout);
        // As grpc-js's getDeadline(): in ms since the epoch.
        this.deadline = clock.wallMs() + timeoutMs;
        this.deadlineTimer = clock.after(timeoutMs, () => this.sendStatus({ code: status.DEADLINE_EXCEEDED, details: 'Deadline exceeded' }, true));
      } catch (error) {
        const failure = error as CallStatusError;
        process.nextTick(() => this.sendStatus({ code: failure.code, details: failure.details }));
      }
    }
  }

  /**
   * The request's metadata: its headers less HTTP/2's and gRPC's own, as
   * grpc-js gives them. Built when first asked for: most calls only look up
   * their token, which firstMetadataValue reads from the headers directly.
   */
  get metadata(): Metadata {
    if (this.metadataBuilt === undefined) {
      const metadata = Metadata.fromHttp2Headers(this.headers);
      for (const header of transportHeaders) metadata.remove(header);
      this.metadataBuilt = metadata;
    }
    return this.metadataBuilt;
  }

  /** metadata.get(key)[0] as a string, for a text key (not "-bin"), without building the metadata. */
  firstMetadataValue(key: string): string | undefined {
    if (this.metadataBuilt !== undefined || key.endsWith('-bin')) {
      const value = this.metadata.get(key)[0];
      return value === undefined ? undefined : String(value);
    }
    if (key.startsWith(':') || transportHeaders.includes(key)) return undefined;
    const value = headerValue(this.headers, key);
    return value !== undefined && legalTextValue.test(value) ? value : undefined;
  }

  /** Starts reading the request; `listener` hears of its messages, its half-close and the call's end. */
  start(listener: CallListener): void {
    this.listener = listener;
    this.stream.on('data', (chunk: Buffer) => this.receive(chunk));
    this.stream.once('end', () => {
      if (!this.over && !this.stream.aborted) listener.halfClose();
    });
    this.stream.once('close', () => this.closed());
  }

  /** Stops (and resumes) reading the request stream: HTTP/2 flow control then holds the client back. */
  pauseReading(): void {
    this.stream.pause();
  }

  resumeReading(): void {
    if (!this.over) this.stream.resume();
  }

  /** Runs the handler's work for this call, inside what the observers wrap it in. */
  run<T>(work: () => T): T {
    let wrapped = work;
    for (const observer of this.observers) {
      const inner = wrapped;
      if (observer.run !== undefined) wrapped = () => (observer.run as (work: () => T) => T)(inner);
    }
    return wrapped();
  }

  /** Whether the client gave up: it cancelled the call, went away, or its deadline passed. */
  get cancelled(): boolean {
    return this.cancelledValue;
  }

  sendMetadata(metadata?: Metadata): void {
    if (this.headersSent || this.over) return;
    this.headersSent = true;
    this.stream.respond(metadata === undefined ? responseHeaders : { ...responseHeaders, ...metadata.toHttp2Headers() }, { waitForTrailers: true });
  }

  /**
   * Sends response messages, in order, in one write to the connection;
   * `written` once they are handed to it (never, if the call ends first).
   */
  sendMessages(values: readonly unknown[], written: () => void): void {
    if (this.over) return;
    const framed = this.framed(values);
    if (framed === undefined) return;
    this.stream.write(framed, (error?: Error | null) => {
      if (error) this.sendStatus({ code: status.INTERNAL, details: 'Internal server error' });
      else written();
    });
  }

  /**
   * A unary call's answer: its one message and the OK status (with
   * `trailer`), written together — the same frames as sendMessages then
   * sendStatus, without waiting for the message's write in between.
   */
  sendLastMessage(value: unknown, trailer: Metadata | undefined): void {
    if (this.over) return;
    if (this.stream.destroyed || this.stream.closed) return this.closed();
    const framed = this.framed([value]);
    if (framed === undefined) return;
    this.end(status.OK, 'OK', false);
    const trailers = trailersOf(status.OK, 'OK', trailer);
    this.stream.once('wantTrailers', () => this.stream.sendTrailers(trailers));
    this.stream.end(framed);
    this.notifyFinished(false);
  }

  /** Ends the call with `sent`; what follows it is ignored. A deadline's status also cancels the call for its handler. */
  sendStatus(sent: Partial<StatusObject> & { code: status; details: string }, cancelling = false): void {
    if (this.over) return;
    // A stream the client reset may be gone before its 'close' event: that call was cancelled, not answered.
    if (this.stream.destroyed || this.stream.closed) return this.closed();
    this.end(sent.code, sent.details, cancelling);
    const trailers = trailersOf(sent.code, sent.details, sent.metadata);
    if (this.headersSent) {
      this.stream.once('wantTrailers', () => this.stream.sendTrailers(trailers));
      this.stream.end();
    } else {
      this.headersSent = true;
      this.stream.respond({ ':status': 200, 'content-type': responseHeaders['content-type'], ...trailers }, { endStream: true });
    }
    this.notifyFinished(cancelling);
  }

  getPeer(): string {
    const socket = this.stream.session?.socket;
    if (socket?.remoteAddress === undefined) return 'unknown';
    return socket.remotePort === undefined ? socket.remoteAddress : `${socket.remoteAddress}:${socket.remotePort}`;
  }

  getAuthContext(): CallAuthContext {
    const socket = this.stream.session?.socket;
    if (!(socket instanceof TLSSocket) || !socket.authorized) return {};
    const certificate = socket.getPeerCertificate();
    return { transportSecurityType: 'ssl', sslPeerCertificate: certificate.raw ? certificate : undefined };
  }

  getHost(): string | undefined {
    return this.host;
  }

  private receive(chunk: Buffer): void {
    if (this.over) return;
    let messages;
    try {
      messages = this.reader.push(chunk);
    } catch (error) {
      const failure = error as CallStatusError;
      this.sendStatus({ code: failure.code, details: failure.details });
      return;
    }
    for (const message of messages) {
      if (this.over) return;
      for (const observer of this.observers) observer.received?.();
      let value: unknown;
      try {
        value = this.handler.deserialize(messageBytes(message, this.encoding, this.messageBytesMax));
      } catch (error) {
        const failure = error instanceof CallStatusError ? error : new CallStatusError(status.INTERNAL, 'Error deserializing request');
        this.sendStatus({ code: failure.code, details: failure.details });
        return;
      }
      this.listener?.message(value);
    }
  }

  /** The HTTP/2 stream closed: if no status went out, the client reset it (or went away). */
  private closed(): void {
    if (this.over) return;
    this.end(status.CANCELLED, 'Cancelled', true);
    this.notifyFinished(true);
  }

  /**
   * The values serialized and framed as one buffer, the response headers
   * sent first if they were not; undefined when one does not serialize (the
   * call then ended with INTERNAL, as grpc-js ends it).
   */
  private framed(values: readonly unknown[]): Buffer | undefined {
    let framed: Buffer;
    try {
      if (this.handler.frame !== undefined) framed = this.handler.frame(values);
      else framed = values.length === 1 ? frameMessage(this.handler.serialize(values[0])) : Buffer.concat(values.map((value) => frameMessage(this.handler.serialize(value))));
    } catch {
      this.sendStatus({ code: status.INTERNAL, details: 'Error serializing response' });
      return undefined;
    }
    this.sendMetadata();
    for (const observer of this.observers) for (let i = 0; i < values.length; i++) observer.sent?.();
    return framed;
  }

  /** The call is over from here (it was not before): nothing more goes out, and the observers hear how it ended. */
  private end(code: number, details: string, cancelled: boolean): void {
    this.over = true;
    this.cancelledValue = cancelled;
    this.deadlineTimer?.cancel();
    this.deadlineTimer = undefined;
    for (const observer of this.observers) observer.ended?.(code, details);
  }

  private notifyFinished(cancelled: boolean): void {
    const listener = this.listener;
    if (listener === undefined) return;
    if (cancelled) {
      process.nextTick(() => {
        listener.cancelled();
        listener.finished?.();
      });
    } else if (listener.finished !== undefined) {
      process.nextTick(() => listener.finished?.());
    }
  }
}
