// How the client port's HTTP face answers, in the shapes etcd's Go handlers
// give: http.Error's plain text (a newline added, sniffing off), the 404 of
// Go's ServeMux, the 405 that names the allowed method, JSON bodies.
import type { Log } from '../log.js';
import type { IncomingMessage, ServerResponse } from 'node:http';

/** A handler of one path. */
export type HttpRoute = (request: IncomingMessage, response: ServerResponse, url: URL) => void | Promise<void>;

/** Go's http.Error: the message and a newline as plain text, with `status`. */
export function sendError(response: ServerResponse, status: number, message: string): void {
  const body = `${message}\n`;
  response.writeHead(status, { 'Content-Type': 'text/plain; charset=utf-8', 'X-Content-Type-Options': 'nosniff', 'Content-Length': Buffer.byteLength(body) });
  response.end(body);
}

/** `body` (already serialised) with `status`; etcd's handlers differ in the content type they set, hence the parameter. */
export function sendBody(response: ServerResponse, status: number, contentType: string, body: string, headers: Readonly<Record<string, string>> = {}): void {
  response.writeHead(status, { 'Content-Type': contentType, ...headers, 'Content-Length': Buffer.byteLength(body) });
  response.end(body);
}

/** Answers 405 unless the request uses `method`; true when it does. */
export function allowMethod(request: IncomingMessage, response: ServerResponse, method: string): boolean {
  if (request.method === method) return true;
  response.setHeader('Allow', method);
  sendError(response, 405, 'Method Not Allowed');
  return false;
}

/**
 * The HTTP/1.1 face of the client port: each path answered by its route, as
 * Go's ServeMux does for etcd (exact paths, and a path ending in "/" for
 * everything under it; anything else is its 404). Every
 * answer carries the CORS headers etcd 3.4 sends by default (--cors "*"), and
 * an OPTIONS preflight gets them with an empty 200.
 */
export function routeRequests(routes: ReadonlyMap<string, HttpRoute>, log: Log): (request: IncomingMessage, response: ServerResponse) => void {
  return (request, response) => {
    response.setHeader('Access-Control-Allow-Methods', 'POST, GET, OPTIONS, PUT, DELETE');
    response.setHeader('Access-Control-Allow-Origin', '*');
    response.setHeader('Access-Control-Allow-Headers', 'accept, content-type, authorization');
    if (request.method === 'OPTIONS') {
      response.writeHead(200).end();
      return;
    }
    const url = new URL(request.url ?? '/', 'http://client-port');
    const route = routes.get(url.pathname) ?? routes.get(subtreeOf(url.pathname, routes));
    if (route === undefined) {
      sendError(response, 404, '404 page not found');
      return;
    }
    const failed = (error: unknown): void => {
      // A failure of one request fails that request: a route that throws is a bug, answered as Go's 500.
      log.error(`http: ${request.method} ${url.pathname} failed: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}`);
      if (!response.headersSent) sendError(response, 500, 'Internal Server Error');
      else response.destroy();
    };
    try {
      const done = route(request, response, url);
      if (done instanceof Promise) done.catch(failed);
    } catch (error) {
      failed(error);
    }
  };
}

/** The longest route ending in "/" that `path` lies under ("" when none). */
function subtreeOf(path: string, routes: ReadonlyMap<string, HttpRoute>): string {
  let found = '';
  for (const pattern of routes.keys()) if (pattern.endsWith('/') && path.startsWith(pattern) && pattern.length > found.length) found = pattern;
  return found;
}
