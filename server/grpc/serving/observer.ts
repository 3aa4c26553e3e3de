// What watches calls from outside their handlers: metrics, the debug log,
// tracing. The server asks each observer factory for an observer as a call
// starts and tells it what happens to the call; an observer may also run the
// handler's work inside a context of its own (tracing's span).
import type { Metadata } from '@grpc/grpc-js';

export interface ObservedMethod {
  /** "/etcdserverpb.KV/Put" */
  readonly path: string;
  readonly requestStream: boolean;
  readonly responseStream: boolean;
}

export interface CallObserver {
  /** Runs what the handler does for the call (its start, each message, the half-close); tracing runs it in the call's span. */
  run?<T>(work: () => T): T;
  /** A request message arrived. */
  received?(): void;
  /** A response message was sent. */
  sent?(): void;
  /** The call ended, once: with the status sent, or CANCELLED when the client gave up first. */
  ended?(code: number, details: string): void;
}

/** The request's metadata, built when first asked for (most observers never ask). */
export interface ObservedRequest {
  readonly metadata: Metadata;
}

/** Called as each call starts, with its method and its request. */
export type CallObserverFactory = (method: ObservedMethod, request: ObservedRequest) => CallObserver;
