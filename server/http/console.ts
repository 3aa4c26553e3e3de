// The web console at /ui/ on the client URLs: the files `npm run build:ui`
// put in dist/console, read once at start into memory (with a gzip copy of each
// text file), so that a request never touches the disk and no path a
// client sends can name a file outside that set. The page talks to the
// member through the JSON gateway on the same origin, so TLS and auth apply
// to it as to any client; these answers only add headers that keep the page
// from loading anything from elsewhere or being framed.
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { extname, join, relative, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import { gzipSync } from 'node:zlib';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { allowMethod, sendError, type HttpRoute } from './respond.js';

/** Where the console is served: /ui redirects to /ui/. */
export const consolePath = '/ui/';

/** Where the build puts the console (dist/console), beside dist/server (also in the server package). */
export const consoleDirectory = fileURLToPath(new URL('../../console/', import.meta.url));

interface Asset {
  readonly body: Buffer;
  readonly gzipped: Buffer | undefined;
  readonly contentType: string;
  /** Named by a hash of its contents, so that a browser may keep it for good. */
  readonly immutable: boolean;
}

const contentTypes: Readonly<Record<string, string>> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.json': 'application/json',
};

/** What every console answer carries. The page's scripts and styles come from this origin only. */
const securityHeaders: Readonly<Record<string, string>> = {
  // connect-src: the cluster page streams each member's view from that member's own client URL.
  'Content-Security-Policy': "default-src 'self'; connect-src 'self' http: https:; img-src 'self' data:; object-src 'none'; base-uri 'none'; frame-ancestors 'none'; form-action 'none'",
  'X-Content-Type-Options': 'nosniff',
  'X-Frame-Options': 'DENY',
  'Referrer-Policy': 'no-referrer',
};

/** Files smaller than this are sent as they are: gzip would not pay. */
const gzipBytesMin = 1024;

/** The console's files by URL path (/ui/, /ui/assets/…); empty when the console was not built. */
export function loadConsole(directory: string = consoleDirectory): ReadonlyMap<string, Asset> {
  const assets = new Map<string, Asset>();
  if (!existsSync(join(directory, 'index.html'))) return assets;
  for (const file of filesUnder(directory)) {
    const path = relative(directory, file).split(sep).join('/');
    const contentType = contentTypes[extname(file)] ?? 'application/octet-stream';
    const body = readFileSync(file);
    const compressible = contentType.startsWith('text/') || contentType === 'image/svg+xml' || contentType === 'application/json';
    assets.set(path === 'index.html' ? consolePath : `${consolePath}${path}`, {
      body,
      gzipped: compressible && body.length >= gzipBytesMin ? gzipSync(body, { level: 9 }) : undefined,
      contentType,
      immutable: path.startsWith('assets/'),
    });
  }
  return assets;
}

/** The handler of /ui and everything under /ui/; a console that was not built answers 404 with how to build it. */
export function consoleRoute(assets: ReadonlyMap<string, Asset>): HttpRoute {
  return (request: IncomingMessage, response: ServerResponse, url: URL) => {
    if (request.method !== 'HEAD' && !allowMethod(request, response, 'GET')) return;
    if (url.pathname === '/ui') {
      response.writeHead(301, { Location: `${consolePath}${url.search}`, ...securityHeaders }).end();
      return;
    }
    if (assets.size === 0) return sendError(response, 404, 'the web console is not built: run npm run build:ui');
    const asset = assets.get(url.pathname);
    if (asset === undefined) return sendError(response, 404, '404 page not found');
    sendAsset(request, response, asset);
  };
}

function sendAsset(request: IncomingMessage, response: ServerResponse, asset: Asset): void {
  const gzip = asset.gzipped !== undefined && acceptsGzip(request.headers['accept-encoding']);
  const body = gzip && asset.gzipped !== undefined ? asset.gzipped : asset.body;
  response.writeHead(200, {
    ...securityHeaders,
    'Content-Type': asset.contentType,
    'Content-Length': body.length,
    'Cache-Control': asset.immutable ? 'public, max-age=31536000, immutable' : 'no-cache',
    Vary: 'Accept-Encoding',
    ...(gzip ? { 'Content-Encoding': 'gzip' } : {}),
  });
  response.end(request.method === 'HEAD' ? undefined : body);
}

/** Whether an Accept-Encoding header takes gzip: named with a quality above 0, or `*` when gzip is not named (RFC 9110 §12.5.3). */
export function acceptsGzip(header: string | undefined): boolean {
  if (header === undefined) return false;
  const qualities = new Map<string, number>();
  for (const part of header.split(',')) {
    const [coding = '', ...parameters] = part.trim().toLowerCase().split(';');
    const quality = parameters.map((parameter) => parameter.trim()).find((parameter) => parameter.startsWith('q='));
    qualities.set(coding.trim(), quality === undefined ? 1 : Number(quality.slice(2)));
  }
  return (qualities.get('gzip') ?? qualities.get('*') ?? 0) > 0;
}

function filesUnder(directory: string): string[] {
  return readdirSync(directory).flatMap((entry) => {
    const path = join(directory, entry);
    return statSync(path).isDirectory() ? filesUnder(path) : [path];
  });
}
