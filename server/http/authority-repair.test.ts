import { expect } from 'chai';
import { connect as connectHttp2, createServer as createHttp2Server, type ClientHttp2Session, type Http2Server } from 'node:http2';
import { connect, createServer, type Server, type Socket } from 'node:net';
import { realClock } from '../clock.js';
import { AuthorityRepair, inspect } from './authority-repair.js';

const waitMs = 300;

/**
 * An HTTP/2 server behind inspect(), as the client port puts it: it answers
 * every request with the :authority it saw and whether its session runs on
 * the socket itself or on a repair.
 */
async function startServer(): Promise<{ port: number; close(): Promise<void>; closed: Promise<void>[] }> {
  const http2: Http2Server = createHttp2Server();
  http2.on('stream', (stream, headers) => {
    // A session on the socket itself sees a net.Socket; on a repair, Node wraps the stream it was given.
    const socket = stream.session?.socket;
    const repaired = socket === undefined || Object.getPrototypeOf(socket)?.constructor?.name !== 'Socket';
    stream.respond({ ':status': 200, 'content-type': 'application/json' });
    stream.end(JSON.stringify({ authority: headers[':authority'], repaired, big: String(headers['x-big'] ?? '').length }));
  });
  const closed: Promise<void>[] = [];
  const sockets = new Set<Socket>();
  const listener: Server = createServer((socket) => {
    sockets.add(socket);
    closed.push(new Promise((resolve) => socket.once('close', () => resolve())));
    socket.on('error', () => undefined);
    inspect(socket, Buffer.alloc(0), realClock, waitMs, ({ repair, received }) => {
      if (repair) return http2.emit('connection', new AuthorityRepair(socket, received));
      if (received.length > 0) socket.unshift(received);
      http2.emit('connection', socket);
    });
  });
  await new Promise<void>((resolve) => listener.listen(0, '127.0.0.1', resolve));
  const address = listener.address();
  const port = typeof address === 'object' && address !== null ? address.port : 0;
  return {
    port,
    closed,
    close: async () => {
      for (const socket of sockets) socket.destroy();
      await new Promise<void>((resolve) => listener.close(() => resolve()));
    },
  };
}

async function request(session: ClientHttp2Session, headers: Record<string, string>): Promise<{ authority: string; repaired: boolean; big: number }> {
  const stream = session.request({ ':method': 'GET', ':path': '/', ...headers });
  const chunks: Buffer[] = [];
  stream.on('data', (chunk: Buffer) => chunks.push(chunk));
  await new Promise<void>((resolve, reject) => {
    stream.on('end', resolve);
    stream.on('error', reject);
  });
  return JSON.parse(Buffer.concat(chunks).toString()) as { authority: string; repaired: boolean; big: number };
}

describe('authority repair: an HTTP/2 :authority with a scheme', function () {
  let server: Awaited<ReturnType<typeof startServer>>;

  beforeEach(async () => {
    server = await startServer();
  });

  afterEach(async () => {
    await server.close();
  });

  it('leaves a connection whose first request has a plain authority on its own socket', async () => {
    const session = connectHttp2(`http://127.0.0.1:${server.port}`);
    try {
      const answers = [await request(session, {}), await request(session, {})];
      expect(answers).to.deep.equal([
        { authority: `127.0.0.1:${server.port}`, repaired: false, big: 0 },
        { authority: `127.0.0.1:${server.port}`, repaired: false, big: 0 },
      ]);
    } finally {
      session.close();
    }
  });

  it('takes the scheme off every request of a connection that sends one, header blocks longer than a frame included', async () => {
    const session = connectHttp2(`http://127.0.0.1:${server.port}`);
    try {
      const authority = `http://127.0.0.1:${server.port}`;
      const first = await request(session, { ':authority': authority });
      const parallel = await Promise.all([1, 2, 3].map(() => request(session, { ':authority': authority })));
      const big = await request(session, { ':authority': authority, 'x-big': 'b'.repeat(40_000) });
      const plain = `127.0.0.1:${server.port}`;
      expect([first, ...parallel]).to.deep.equal(Array(4).fill({ authority: plain, repaired: true, big: 0 }));
      expect(big).to.deep.equal({ authority: plain, repaired: true, big: 40_000 });
    } finally {
      session.close();
    }
  });

  it('disconnects a client that does not speak HTTP/2, and one that never acknowledges the SETTINGS', async () => {
    for (const bytes of [Buffer.from('PRI * HTTP/1.1\r\n\r\nXX\r\n\r\n'), Buffer.from('PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n')]) {
      const socket = connect(server.port, '127.0.0.1');
      const received: Buffer[] = [];
      socket.on('data', (chunk: Buffer) => received.push(chunk));
      socket.write(bytes);
      const started = Date.now();
      await new Promise<void>((resolve) => socket.once('close', () => resolve()));
      expect(Date.now() - started).to.be.below(waitMs * 10);
      // The one thing sent: the server's empty SETTINGS.
      expect(Buffer.concat(received).equals(Buffer.from([0, 0, 0, 4, 0, 0, 0, 0, 0]))).to.equal(true);
    }
  });

  it('passes on unrepaired a client that acknowledged the SETTINGS but sends no request in time', async () => {
    const session = connectHttp2(`http://127.0.0.1:${server.port}`);
    try {
      await new Promise((resolve) => setTimeout(resolve, waitMs * 2));
      expect(await request(session, {})).to.deep.equal({ authority: `127.0.0.1:${server.port}`, repaired: false, big: 0 });
    } finally {
      session.close();
    }
  });
});
