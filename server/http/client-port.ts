// One client URL, many faces (as etcd's cmux): a listener of our own takes
// every connection and hands it either to the gRPC server or to the HTTP/1.1
// handler (health, version, metrics, the JSON gateway).
//
// How a connection is told apart:
// - plaintext: by its first bytes. An HTTP/2 client (every gRPC client)
//   opens with the connection preface "PRI * HTTP/2.0…"; anything else is
//   taken as HTTP/1.1.
// - TLS: the handshake picks the protocol by ALPN. gRPC clients offer only
//   "h2"; curl, browsers and HTTP libraries offer "http/1.1" too, and get it
//   (etcd would serve them HTTP/2 and route by content-type; grpc-js's HTTP/2
//   server cannot hand a non-gRPC stream elsewhere, so cairn keeps them on
//   HTTP/1.1). A client that offers no ALPN is told apart by its first bytes,
//   as on plaintext.
//
// An HTTP/2 connection is read up to its first request before Node's HTTP/2
// session gets it, for the one client habit that session refuses (a scheme in
// the :authority): see authority-repair.ts.
//
// gRPC gets the decrypted socket through the gRPC server's connection
// injector, so TLS is ours: the certificate reload (replace) sets the next
// handshakes' context here, and the gRPC server still sees a TLSSocket, whose
// verified client certificate gives the caller's common name under auth.
import type { ConnectionInjector, GrpcServer } from '../grpc/serving/server.js';
import { createServer as createHttpServer, type RequestListener } from 'node:http';
import { createServer as createNetServer, type Server as NetServer, type Socket } from 'node:net';
import { createServer as createTlsServer, type Server as TlsServer, type TLSSocket } from 'node:tls';
import type { Clock } from '../clock.js';
import { AuthorityRepair, inspect } from './authority-repair.js';
import { clientCertificateOptions, secureContextOptions, type TlsMaterial } from '../tls/tls-material.js';

/** The first bytes of every HTTP/2 connection (RFC 9113 §3.4); four of them tell it from an HTTP/1.1 request line. */
const http2PrefaceStart = Buffer.from('PRI ');
/** How long a new connection may stay silent before it has said which protocol it speaks. */
const firstBytesWaitMs = 10_000;
/** How long open connections get to finish when the port closes, before they are cut. */
const closeGraceMs = 2_000;

type Protocol = 'grpc' | 'http1';

/** Where a connection goes once its protocol is known; without `grpc` (--listen-metrics-urls) every connection is HTTP/1.1. */
export interface ClientPortHandlers {
  readonly grpc?: GrpcServer;
  readonly http: RequestListener;
}

export class ClientPort {
  private readonly sockets = new Set<Socket>();

  private constructor(
    private readonly listener: NetServer | TlsServer,
    private readonly clock: Clock,
    private readonly injector: ConnectionInjector | undefined,
    private readonly http1: ReturnType<typeof createHttpServer>,
    /** host:port actually bound. */
    readonly boundAddress: string,
  ) {}

  /**
   * Listens on `url` (http:// or https://; `tls` must be given for https://).
   * Rejects with "cannot serve clients on URL: …" when the address cannot be bound.
   */
  static async listen(url: string, tls: TlsMaterial | undefined, handlers: ClientPortHandlers, clock: Clock): Promise<ClientPort> {
    const { hostname, port, protocol } = new URL(url);
    const secure = protocol === 'https:';
    if (secure && tls === undefined) throw new Error(`server: no TLS certificate for ${url}, which config validation should have refused`);
    // TLS is terminated here, so gRPC gets plaintext HTTP/2.
    const injector = handlers.grpc?.createConnectionInjector();
    // No bound on a whole request: a gateway watch's request body stays open as long as the client adds
    // watches to it (the headers still have Node's bound, as a slow client must not hold a socket forever).
    const http1 = createHttpServer({ requestTimeout: 0 }, handlers.http);
    let route: (socket: Socket) => void = () => {};
    const protocols = injector === undefined ? ['http/1.1'] : ['http/1.1', 'h2'];
    const listener = secure && tls !== undefined ? secureListener(tls, protocols, (socket) => route(socket)) : createNetServer((socket) => route(socket));
    const host = hostname.startsWith('[') ? hostname.slice(1, -1) : hostname;
    await new Promise<void>((resolve, reject) => {
      listener.once('error', (error) => reject(new Error(`cannot serve clients on ${url}: ${error.message}`)));
      listener.listen(Number(port === '' ? (secure ? 443 : 80) : port), host, resolve);
    });
    const address = listener.address();
    const boundPort = typeof address === 'object' && address !== null ? address.port : Number(port);
    const clientPort = new ClientPort(listener, clock, injector, http1, `${hostname}:${boundPort}`);
    route = (socket) => clientPort.accept(socket);
    // A failing accept (too many open files) fails that connection, never the member.
    listener.on('error', () => undefined);
    return clientPort;
  }

  /** Serves `tls` from the next handshake on (the files changed: tls-reload.ts). */
  replace(tls: TlsMaterial): void {
    if ('setSecureContext' in this.listener) this.listener.setSecureContext(secureContextOptions(tls));
  }

  /** Stops accepting; open connections get a grace period, then are cut. */
  async close(): Promise<void> {
    await new Promise<void>((resolve) => {
      this.listener.close(() => resolve());
      this.injector?.drain(closeGraceMs);
      this.http1.closeIdleConnections();
      const cut = this.clock.after(closeGraceMs, () => {
        for (const socket of this.sockets) socket.destroy();
      });
      if (this.sockets.size === 0) cut.cancel();
    });
    this.injector?.destroy();
  }

  /** A new connection (decrypted already when TLS): find its protocol, then hand it over. */
  private accept(socket: Socket): void {
    this.sockets.add(socket);
    // A reset connection must not become an unhandled 'error' event.
    socket.on('error', () => undefined);
    socket.once('close', () => this.sockets.delete(socket));
    const alpn = (socket as Partial<TLSSocket>).alpnProtocol;
    if (alpn === 'h2') return this.handOver(socket, 'grpc', Buffer.alloc(0));
    if (alpn === 'http/1.1' || this.injector === undefined) return this.handOver(socket, 'http1', Buffer.alloc(0));
    this.sniff(socket);
  }

  /** Reads until the first bytes say which protocol the client speaks. */
  private sniff(socket: Socket): void {
    let head = Buffer.alloc(0);
    const silent = this.clock.after(firstBytesWaitMs, () => socket.destroy());
    const onData = (chunk: Buffer): void => {
      head = Buffer.concat([head, chunk]);
      const protocol = protocolOf(head);
      if (protocol === undefined) return;
      silent.cancel();
      socket.off('data', onData);
      socket.pause();
      this.handOver(socket, protocol, head);
    };
    socket.on('data', onData);
    socket.once('close', () => silent.cancel());
  }

  private handOver(socket: Socket, protocol: Protocol, head: Buffer): void {
    const injector = this.injector;
    if (protocol === 'grpc' && injector !== undefined) {
      inspect(socket, head, this.clock, firstBytesWaitMs, ({ repair, received }) => {
        if (repair) return injector.injectConnection(new AuthorityRepair(socket, received));
        // Node's HTTP/2 session reads what is still buffered in the socket before its own reads.
        if (received.length > 0) socket.unshift(received);
        injector.injectConnection(socket);
      });
      return;
    }
    // Node's HTTP/1.1 server reads the socket's handle directly and would miss bytes put back with
    // unshift; it also listens for 'data' events, which is how the bytes already read reach its parser.
    this.http1.emit('connection', socket);
    if (head.length > 0) socket.emit('data', head);
    socket.resume();
  }
}

/** grpc or http1 once `head` tells, undefined while it may still be either. */
export function protocolOf(head: Buffer): Protocol | undefined {
  const compared = Math.min(head.length, http2PrefaceStart.length);
  if (!head.subarray(0, compared).equals(http2PrefaceStart.subarray(0, compared))) return 'http1';
  return compared === http2PrefaceStart.length ? 'grpc' : undefined;
}

/** TLS as the flags ask (client certificates required or not), with the protocol (of `served`) chosen as the header explains. */
function secureListener(tls: TlsMaterial, served: readonly string[], onConnection: (socket: TLSSocket) => void): TlsServer {
  const server = createTlsServer(
    {
      ...secureContextOptions(tls),
      ...clientCertificateOptions(tls),
      ALPNCallback: ({ protocols }) => chooseProtocol(protocols.filter((protocol) => served.includes(protocol))),
    },
    onConnection,
  );
  // A failed handshake (wrong CA, plaintext on a TLS port) fails that connection only.
  server.on('tlsClientError', () => undefined);
  return server;
}

/** HTTP/1.1 for clients that offer it (curl, browsers), HTTP/2 for the others (gRPC); none in common fails the handshake. */
export function chooseProtocol(offered: readonly string[]): string | undefined {
  if (offered.includes('http/1.1')) return 'http/1.1';
  if (offered.includes('h2')) return 'h2';
  return undefined;
}
