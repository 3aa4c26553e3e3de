import { expect } from 'chai';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, get, type Server } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import { acceptsGzip, consoleRoute, loadConsole } from './console.js';
import { routeRequests } from './respond.js';
import type { Log } from '../log.js';

const silent = { error: () => undefined, warn: () => undefined, info: () => undefined, debug: () => undefined } as unknown as Log;

describe('http console route', () => {
  let directory: string;
  let server: Server;
  let base: string;
  const script = `console.log(${JSON.stringify('x'.repeat(4000))});`;

  before(async () => {
    directory = mkdtempSync(join(tmpdir(), 'cairn-console-'));
    mkdirSync(join(directory, 'assets'));
    writeFileSync(join(directory, 'index.html'), '<!doctype html><title>t</title>');
    writeFileSync(join(directory, 'assets', 'index-abc123.js'), script);
    const route = consoleRoute(loadConsole(directory));
    server = createServer(routeRequests(new Map([['/ui', route], ['/ui/', route]]), silent));
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const address = server.address();
    if (address === null || typeof address === 'string') throw new Error('no address');
    base = `http://127.0.0.1:${address.port}`;
  });

  after(async () => {
    await new Promise<void>((resolve) => server.close(() => resolve()));
    rmSync(directory, { recursive: true, force: true });
  });

  it('serves the page at /ui/ with headers that keep it to its own origin, and /ui redirects there', async () => {
    const page = await fetch(`${base}/ui/`);
    expect(page.status).to.equal(200);
    expect(page.headers.get('content-type')).to.equal('text/html; charset=utf-8');
    expect(page.headers.get('content-security-policy')).to.match(/^default-src 'self';/);
    expect(page.headers.get('x-frame-options')).to.equal('DENY');
    expect(page.headers.get('cache-control')).to.equal('no-cache');
    expect(await page.text()).to.equal('<!doctype html><title>t</title>');
    const bare = await fetch(`${base}/ui?x=1`, { redirect: 'manual' });
    expect(bare.status).to.equal(301);
    expect(bare.headers.get('location')).to.equal('/ui/?x=1');
  });

  it('sends hashed assets for good, gzipped to clients that take gzip', async () => {
    const plain = await fetch(`${base}/ui/assets/index-abc123.js`, { headers: { 'Accept-Encoding': 'identity' } });
    expect(plain.headers.get('cache-control')).to.equal('public, max-age=31536000, immutable');
    expect(plain.headers.get('content-encoding')).to.equal(null);
    expect(await plain.text()).to.equal(script);
    const raw = await new Promise<{ encoding: string | undefined; body: Buffer }>((resolve, reject) => {
      // Node's fetch would decompress: read the bytes as sent.
      get(`${base}/ui/assets/index-abc123.js`, { headers: { 'Accept-Encoding': 'br, gzip;q=0.8' } }, (response) => {
        const chunks: Buffer[] = [];
        response.on('data', (chunk: Buffer) => chunks.push(chunk));
        response.on('end', () => resolve({ encoding: response.headers['content-encoding'], body: Buffer.concat(chunks) }));
      }).on('error', reject);
    });
    expect(raw.encoding).to.equal('gzip');
    expect(raw.body.length).to.be.lessThan(script.length / 4);
    expect(gunzipSync(raw.body).toString()).to.equal(script);
  });

  it('answers 404 for any other path, whatever it tries to name, and 405 for other methods', async () => {
    // Sent as written (fetch would resolve the dots before sending): whatever the router makes of them, none names a file.
    for (const path of ['/ui/nope.js', '/ui/assets/', '/ui/%2e%2e/package.json', '/ui/..%2findex.html', '/ui/assets/../../etc/passwd', '/ui/assets/%2e%2e/index.html']) {
      const status = await new Promise<number | undefined>((resolve, reject) => {
        get({ host: '127.0.0.1', port: new URL(base).port, path }, (response) => {
          response.resume();
          resolve(response.statusCode);
        }).on('error', reject);
      });
      expect(status, path).to.equal(404);
    }
    const post = await fetch(`${base}/ui/`, { method: 'POST', body: 'x' });
    expect(post.status).to.equal(405);
    expect(post.headers.get('allow')).to.equal('GET');
    const head = await fetch(`${base}/ui/`, { method: 'HEAD' });
    expect(head.status).to.equal(200);
    expect(head.headers.get('content-length')).to.equal('31');
  });

  it('says how to build the console when it was not built', async () => {
    const empty = mkdtempSync(join(tmpdir(), 'cairn-console-empty-'));
    try {
      const route = consoleRoute(loadConsole(empty));
      const bare = createServer(routeRequests(new Map([['/ui/', route]]), silent));
      await new Promise<void>((resolve) => bare.listen(0, '127.0.0.1', resolve));
      const address = bare.address();
      if (address === null || typeof address === 'string') throw new Error('no address');
      const response = await fetch(`http://127.0.0.1:${address.port}/ui/`);
      expect(response.status).to.equal(404);
      expect(await response.text()).to.equal('the web console is not built: run npm run build:ui\n');
      await new Promise<void>((resolve) => bare.close(() => resolve()));
    } finally {
      rmSync(empty, { recursive: true, force: true });
    }
  });

  it('reads Accept-Encoding as HTTP does', () => {
    expect(acceptsGzip(undefined)).to.equal(false);
    expect(acceptsGzip('gzip, deflate, br')).to.equal(true);
    expect(acceptsGzip('br;q=1.0, gzip;q=0')).to.equal(false);
    expect(acceptsGzip('*')).to.equal(true);
    expect(acceptsGzip('identity')).to.equal(false);
    expect(acceptsGzip('gzip;q=0, *')).to.equal(false);
    expect(acceptsGzip('br, *;q=0.1')).to.equal(true);
  });
});
