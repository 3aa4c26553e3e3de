// cairn's gRPC server for the client port: gRPC's HTTP/2 protocol served on
// node:http2 directly, instead of through grpc-js's Server.
//
// Why: on this 2-core machine a grpc-js Server that answers every Put at once,
// doing nothing, serves etcd's benchmark tool 0.73× the puts/s etcd serves
// with all its work; node:http2 alone, 1.15× (npm run bench:ceiling,
// docs/performance.md). grpc-js's per-call machinery (interceptor chains,
// listener objects, a read queue with async decompression, a Writable per
// call…) costs more CPU than cairn's whole put path. This server keeps what
// clients see identical — headers, trailers, status codes and details — and
// runs the same service definitions and implementations (addService), with
// call objects shaped as grpc-js's (handler-calls.ts).
//
// Connections come in through an injector (the client port's listener
// terminates TLS and tells gRPC from HTTP/1.1) or a Unix socket (the JSON
// gateway's loopback).
import type { MethodDefinition, UntypedServiceImplementation } from '@grpc/grpc-js';
import { status } from '@grpc/grpc-js';
import { createServer as createHttp2Server, type Http2Server, type IncomingHttpHeaders, type ServerHttp2Session, type ServerHttp2Stream } from 'node:http2';
import { createServer as createNetServer, type Server as NetServer } from 'node:net';
import type { Duplex } from 'node:stream';
import type { Clock } from '../../clock.js';
import { ServerCall, type HandlerType, type MethodHandler } from './call.js';
import { runHandler } from './handler-calls.js';
import type { CallObserverFactory } from './observer.js';

export interface GrpcServerOptions {
  /** Deadlines and the grace of drain() run on it. */
  clock: Clock;
  /** The largest request message taken (RESOURCE_EXHAUSTED past it). */
  messageBytesMax: number;
  /** Metrics, logging, tracing: each gets an observer per call, in this order. */
  observers?: CallObserverFactory[];
}

/** Where connections are handed in; drain() and destroy() act on its connections only. */
export interface ConnectionInjector {
  injectConnection(connection: Duplex): void;
  /** Asks its connections to finish (GOAWAY), and cuts those still open after `graceMs`. */
  drain(graceMs: number): void;
  destroy(): void;
}

/**
 * What a method's definition may add: its responses serialized and framed
 * by itself, several into one buffer — the bytes frameMessage would give
 * for each response's responseSerialize, concatenated (the watch stream's
 * events, whose bytes are shared by every watcher, are written so).
 */
export interface ResponseFraming {
  responseFrames?(values: readonly unknown[]): Buffer;
}

// eslint-disable-next-line @typescript-eslint/no-explicit-any -- request and response types vary per method
type ServiceDefinition = Record<string, MethodDefinition<any, any> & ResponseFraming>;

/** grpc-js's details for a method the server does not serve. */
function unimplementedDetails(path: string): string {
  return `The server does not implement the method ${path}`;
}

function handlerType(method: MethodDefinition<unknown, unknown>): HandlerType {
  if (method.requestStream) return method.responseStream ? 'bidi' : 'clientStream';
  return method.responseStream ? 'serverStream' : 'unary';
}

export class GrpcServer {
  private readonly handlers = new Map<string, MethodHandler>();
  private readonly http2: Http2Server;
  private readonly sessions = new Set<ServerHttp2Session>();
  private readonly listeners = new Set<NetServer>();
  private readonly observers: CallObserverFactory[];
  /** The injector whose connection is being handed to the HTTP/2 server (its session is created synchronously). */
  private injecting: Set<ServerHttp2Session> | undefined;

  constructor(private readonly options: GrpcServerOptions) {
    this.observers = options.observers ?? [];
    // As grpc-js: no bound on header blocks sent, and no session memory bound (Node degrades badly at it).
    this.http2 = createHttp2Server({ maxSendHeaderBlockLength: Number.MAX_SAFE_INTEGER, maxSessionMemory: Number.MAX_SAFE_INTEGER });
    this.http2.on('session', (session: ServerHttp2Session) => {
      this.sessions.add(session);
      this.injecting?.add(session);
      const owner = this.injecting;
      session.on('error', () => undefined); // a broken connection fails its calls only
      session.once('close', () => {
        this.sessions.delete(session);
        owner?.delete(session);
      });
    });
    this.http2.on('stream', (stream: ServerHttp2Stream, headers: IncomingHttpHeaders) => this.serve(stream, headers));
  }

  /** Serves every method of `definition` with `implementation` (a method it lacks answers UNIMPLEMENTED, as grpc-js). */
  addService(definition: ServiceDefinition, implementation: UntypedServiceImplementation): void {
    for (const [name, method] of Object.entries(definition)) {
      if (this.handlers.has(method.path)) throw new Error(`method ${method.path} is served already`);
      const own = implementation[name] ?? (method.originalName === undefined ? undefined : implementation[method.originalName]);
      const unimplemented = (call: unknown, respond?: (error: unknown) => void): void => {
        const error = { code: status.UNIMPLEMENTED, details: unimplementedDetails(method.path) };
        if (respond !== undefined) respond(error);
        else (call as { emit(event: string, error: unknown): void }).emit('error', error);
      };
      this.handlers.set(method.path, {
        path: method.path,
        type: handlerType(method),
        observed: { path: method.path, requestStream: method.requestStream, responseStream: method.responseStream },
        func: own === undefined ? unimplemented : (own as (...args: unknown[]) => void).bind(implementation),
        deserialize: (bytes) => method.requestDeserialize(bytes),
        serialize: (value) => method.responseSerialize(value),
        frame: method.responseFrames,
      });
    }
  }

  createConnectionInjector(): ConnectionInjector {
    const own = new Set<ServerHttp2Session>();
    return {
      injectConnection: (connection) => {
        this.injecting = own;
        try {
          this.http2.emit('connection', connection);
        } finally {
          this.injecting = undefined;
        }
      },
      drain: (graceMs) => {
        for (const session of own) session.close();
        this.options.clock
          .after(graceMs, () => {
            for (const session of own) session.destroy();
          })
          .unref();
      },
      destroy: () => {
        for (const session of own) session.destroy();
      },
    };
  }

  /** Serves gRPC on a Unix socket at `path` (the JSON gateway's loopback). */
  listenUnix(path: string): Promise<void> {
    const listener = createNetServer((socket) => this.http2.emit('connection', socket));
    this.listeners.add(listener);
    return new Promise((resolve, reject) => {
      listener.once('error', reject);
      listener.listen(path, () => {
        listener.off('error', reject);
        listener.on('error', () => undefined);
        resolve();
      });
    });
  }

  /** Stops taking calls; `done` once every connection has finished its calls and closed. */
  tryShutdown(done: () => void): void {
    this.closeListeners();
    const open = [...this.sessions];
    if (open.length === 0) return void process.nextTick(done);
    let remaining = open.length;
    for (const session of open) {
      session.once('close', () => {
        if (--remaining === 0) done();
      });
      session.close();
    }
  }

  /** Cuts every connection now. */
  forceShutdown(): void {
    this.closeListeners();
    for (const session of this.sessions) session.destroy();
  }

  private closeListeners(): void {
    for (const listener of this.listeners) listener.close();
    this.listeners.clear();
  }

  private serve(stream: ServerHttp2Stream, headers: IncomingHttpHeaders): void {
    // Errors of a stream end its call through 'close'; without a listener they would be thrown.
    stream.once('error', () => undefined);
    const contentType = headers['content-type'];
    if (typeof contentType !== 'string' || !contentType.startsWith('application/grpc')) {
      stream.respond({ ':status': 415 }, { endStream: true });
      return;
    }
    const path = headers[':path'] ?? '';
    const handler = this.handlers.get(path);
    if (handler === undefined) {
      stream.respond({ ':status': 200, 'content-type': 'application/grpc+proto', 'grpc-status': String(status.UNIMPLEMENTED), 'grpc-message': encodeURI(unimplementedDetails(path)) }, { endStream: true });
      return;
    }
    runHandler(new ServerCall(stream, headers, handler, this.options.messageBytesMax, this.observers, this.options.clock));
  }
}
