// etcd's HTTP/JSON gateway: every RPC as a POST of its request's JSON to a
// path under /v3/ (routes.ts), answered with the response's JSON
// (json-codec.ts). As in etcd, the gateway is a client of the member's own
// gRPC services (through a private socket, loopback.ts), so a request over
// HTTP is checked, authorised, counted and answered exactly as over gRPC; the
// Authorization header carries the token.
//
// Errors are grpc-gateway's: the HTTP status of the gRPC code and
// {"error": message, "message": message, "code": code}. Streams (watch,
// lease keep-alive, snapshot, election observe) answer one
// {"result": response} per line; an error ends them with
// {"error": {"grpc_code", "http_code", "message", "http_status"}}.
import { Metadata, status, type Client, type ServiceError } from '@grpc/grpc-js';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { TLSSocket } from 'node:tls';
import { authorizationMetadataKey } from '../../api/caller.js';
import { toServiceError } from '../../grpc/errors.js';
import { RequestTooLargeError } from '../../node/errors.js';
import { sendBody, sendError, type HttpRoute } from '../respond.js';
import { httpStatusOf, statusText } from './http-status.js';
import { GatewayRequestError, goJson, requestBytes, responseJson } from './json-codec.js';
import { JsonValues, JsonValueTooLargeError } from './json-stream.js';
import { gatewayRoutes, type GatewayRoute } from './routes.js';

export interface GatewayOptions {
  /** The member's gRPC services. */
  readonly client: Client;
  /** Largest request body read (JSON carries bytes as base64: a third more than --max-request-bytes, and some). */
  readonly bodyBytesMax: number;
  /** --client-cert-auth: a verified certificate's common name is refused here, as etcd refuses it. */
  readonly clientCertAuth: boolean;
  /** Whether auth is enabled now. */
  authEnabled(): boolean;
}

const passBytes = (bytes: Buffer): Buffer => bytes;

/** The W3C Trace Context headers. */
const traceHeaders = ['traceparent', 'tracestate'] as const;

/** The route that answers every path under the gateway's prefixes. */
export function gatewayRoute(options: GatewayOptions): HttpRoute {
  const routes = gatewayRoutes();
  return (request, response, url) => {
    const route = routes.get(url.pathname);
    if (route === undefined) {
      sendError(response, 404, 'Not Found');
      return;
    }
    if (request.method !== 'POST') {
      sendError(response, 405, 'Method Not Allowed');
      return;
    }
    if (commonNameIgnored(request, options)) {
      // etcd's words: the gateway cannot act as the certificate's user, and will not pretend to.
      sendError(response, 400, 'CommonName of client sending a request against gateway will be ignored and not used as expected');
      return;
    }
    const metadata = new Metadata();
    const authorization = request.headers.authorization;
    if (authorization !== undefined) metadata.set(authorizationMetadataKey, authorization);
    // A traced HTTP client's W3C trace context goes on with the call (grpc/call-tracing.ts continues it).
    for (const name of traceHeaders) {
      const value = request.headers[name];
      if (typeof value === 'string') metadata.set(name, value);
    }
    if (route.kind === 'bidi-stream') return bidiStream(options, route, metadata, request, response);
    return readBody(request, options.bodyBytesMax).then(
      (body) => {
        if (body === undefined) {
          // What the service answers a request past --max-request-bytes, which a body this long carries.
          const { code, details } = toServiceError(new RequestTooLargeError());
          return sendCallError(response, code ?? status.INVALID_ARGUMENT, details ?? '');
        }
        return route.kind === 'unary' ? unary(options, route, metadata, body, response) : serverStream(options, route, metadata, body, response);
      },
      (error: Error) => sendCallError(response, status.INVALID_ARGUMENT, error.message),
    );
  };
}

function commonNameIgnored(request: IncomingMessage, options: GatewayOptions): boolean {
  if (!options.clientCertAuth || !options.authEnabled()) return false;
  const socket = request.socket as Partial<TLSSocket>;
  if (socket.authorized !== true || socket.getPeerCertificate === undefined) return false;
  const commonName = socket.getPeerCertificate().subject?.CN;
  return typeof commonName === 'string' && commonName !== '';
}

function unary(options: GatewayOptions, route: GatewayRoute, metadata: Metadata, body: string, response: ServerResponse): void {
  const bytes = encodeRequest(route, body, response);
  if (bytes === undefined) return;
  const call = options.client.makeUnaryRequest(route.grpcPath, passBytes, passBytes, bytes, metadata, (error: ServiceError | null, answer?: Buffer) => {
    if (error !== null || answer === undefined) {
      sendCallError(response, error?.code ?? status.UNKNOWN, error?.details ?? 'no response');
      return;
    }
    sendJson(response, 200, goJson(responseJson(route.responseType, answer)), answeredHeaders);
  });
  // A client that hangs up (a Lock or Campaign it no longer waits for) cancels the call.
  response.once('close', () => call.cancel());
}

function serverStream(options: GatewayOptions, route: GatewayRoute, metadata: Metadata, body: string, response: ServerResponse): void {
  const bytes = encodeRequest(route, body, response);
  if (bytes === undefined) return;
  const call = options.client.makeServerStreamRequest(route.grpcPath, passBytes, passBytes, bytes, metadata);
  streamAnswers(route, call, response);
}

/**
 * A bidirectional stream: the body's JSON values are the requests, sent as
 * they complete. As grpc-gateway v1: a first request that cannot be read
 * fails the call at once (HTTP 500, code Unknown: a decode error is no gRPC
 * status); a later one ends the requests as the end of the body does, and
 * the stream goes on answering (a watch keeps watching).
 */
function bidiStream(options: GatewayOptions, route: GatewayRoute, metadata: Metadata, request: IncomingMessage, response: ServerResponse): void {
  const call = options.client.makeBidiStreamRequest(route.grpcPath, passBytes, passBytes, metadata);
  streamAnswers(route, call, response);
  const values = new JsonValues(options.bodyBytesMax);
  let sentCount = 0;
  let reading = true;
  const unreadable = (message: string): void => {
    reading = false;
    if (sentCount > 0) {
      call.end();
      return;
    }
    sendCallError(response, status.UNKNOWN, message);
    call.cancel();
  };
  request.setEncoding('utf8');
  // After an unreadable request the rest of the body is read and dropped, as etcd never reads it.
  request.on('data', (chunk: string) => {
    if (!reading) return;
    let complete: string[];
    try {
      complete = values.push(chunk);
    } catch (error) {
      if (error instanceof JsonValueTooLargeError) return unreadable(error.message);
      throw error;
    }
    for (const text of complete) {
      try {
        call.write(Buffer.from(requestBytes(route.requestType, text)));
        sentCount++;
      } catch (error) {
        if (error instanceof GatewayRequestError) return unreadable(error.message);
        throw error;
      }
    }
  });
  request.on('end', () => {
    if (!reading) return;
    if (values.rest() !== '') return unreadable('unexpected EOF');
    // The client sent everything: the stream half-closes, and goes on answering.
    call.end();
  });
}

/** Writes each response of `call` as a {"result": …} line; the HTTP response ends with the call. */
function streamAnswers(route: GatewayRoute, call: NodeJS.EventEmitter & { cancel(): void }, response: ServerResponse): void {
  let ended = false;
  response.once('close', () => {
    if (!ended) call.cancel();
  });
  const startAnswer = (): void => {
    if (!response.headersSent) response.writeHead(200, { 'Content-Type': 'application/json', ...answeredHeaders });
  };
  call.on('data', (answer: Buffer) => {
    startAnswer();
    response.write(`${goJson({ result: responseJson(route.responseType, answer) })}\n`);
  });
  call.on('error', (error: ServiceError) => {
    ended = true;
    // A cancel of ours (the client left) needs no answer.
    if (error.code === status.CANCELLED && response.destroyed) return;
    endStream(response, error.code, error.details);
  });
  call.on('end', () => {
    ended = true;
    startAnswer();
    response.end();
  });
}

function endStream(response: ServerResponse, code: number, message: string): void {
  if (response.writableEnded) return;
  const httpCode = httpStatusOf(code);
  if (!response.headersSent) response.writeHead(200, { 'Content-Type': 'application/json' });
  response.end(`${goJson({ error: { grpc_code: code, http_code: httpCode, message, http_status: statusText(httpCode) } })}\n`);
}

/** The request's wire bytes, or undefined once the error is answered. */
function encodeRequest(route: GatewayRoute, body: string, response: ServerResponse): Buffer | undefined {
  try {
    return Buffer.from(requestBytes(route.requestType, body));
  } catch (error) {
    if (!(error instanceof GatewayRequestError)) throw error;
    sendCallError(response, status.INVALID_ARGUMENT, error.message);
    return undefined;
  }
}

function sendCallError(response: ServerResponse, code: number, message: string): void {
  if (response.headersSent) return;
  sendJson(response, httpStatusOf(code), goJson({ error: message, message, code }));
}

/**
 * What grpc-gateway adds to an answer the member gave: the gRPC response's
 * header metadata, each as Grpc-Metadata-<key>; etcd's services send none of
 * their own, so only gRPC's content type.
 */
const answeredHeaders = { 'Grpc-Metadata-Content-Type': 'application/grpc' } as const;

function sendJson(response: ServerResponse, statusCode: number, body: string, headers: Readonly<Record<string, string>> = {}): void {
  sendBody(response, statusCode, 'application/json', body, headers);
}

/**
 * The whole body as text, or undefined when it is longer than `bytesMax`:
 * the rest is read and dropped, so that the client, which may still be
 * sending, gets the answer.
 */
function readBody(request: IncomingMessage, bytesMax: number): Promise<string | undefined> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let bytes = 0;
    request.on('data', (chunk: Buffer) => {
      bytes += chunk.length;
      if (bytes <= bytesMax) chunks.push(chunk);
      else chunks.length = 0;
    });
    request.on('end', () => resolve(bytes > bytesMax ? undefined : Buffer.concat(chunks).toString('utf8')));
    request.on('error', reject);
  });
}
