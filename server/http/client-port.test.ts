import { expect } from 'chai';
import { credentials, loadPackageDefinition, Metadata, type Client, type ServiceError } from '@grpc/grpc-js';
import { loadSync } from '@grpc/proto-loader';
import { HealthImplementation, protoPath } from 'grpc-health-check';
import { connect } from 'node:net';
import { realClock } from '../clock.js';
import { GrpcServer } from '../grpc/serving/server.js';
import { chooseProtocol, ClientPort, protocolOf } from './client-port.js';

type HealthClient = Client & {
  check(request: { service: string }, metadata: Metadata, options: { deadline: number }, done: (error: ServiceError | null, response: { status: string }) => void): void;
};
const healthDefinition = loadPackageDefinition(loadSync(protoPath, { enums: String })) as unknown as {
  grpc: { health: { v1: { Health: new (address: string, creds: ReturnType<typeof credentials.createInsecure>) => HealthClient } } };
};

describe('client port: telling gRPC from HTTP/1.1', () => {
  it('protocolOf: the HTTP/2 preface is gRPC, any other first bytes HTTP/1.1, too few bytes undecided', () => {
    expect(protocolOf(Buffer.from('PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n'))).to.equal('grpc');
    expect(protocolOf(Buffer.from('PRI '))).to.equal('grpc');
    expect(protocolOf(Buffer.from('PR'))).to.equal(undefined);
    expect(protocolOf(Buffer.from(''))).to.equal(undefined);
    expect(protocolOf(Buffer.from('G'))).to.equal('http1');
    expect(protocolOf(Buffer.from('POST /v3/kv/range HTTP/1.1\r\n'))).to.equal('http1');
    expect(protocolOf(Buffer.from('PRX'))).to.equal('http1');
  });

  it('chooseProtocol: HTTP/1.1 whenever offered, h2 for clients that offer only it, nothing otherwise', () => {
    expect(chooseProtocol(['h2', 'http/1.1'])).to.equal('http/1.1');
    expect(chooseProtocol(['h2'])).to.equal('h2');
    expect(chooseProtocol(['grpc-exp', 'h2'])).to.equal('h2');
    expect(chooseProtocol(['spdy/3'])).to.equal(undefined);
  });
});

describe('client port: one listener serving gRPC and HTTP/1.1', function () {
  let port: ClientPort | undefined;
  let grpc: GrpcServer | undefined;

  before(async () => {
    grpc = new GrpcServer({ clock: realClock, messageBytesMax: 4 * 1024 * 1024 });
    new HealthImplementation({ '': 'SERVING' }).addToServer(grpc as unknown as Parameters<HealthImplementation['addToServer']>[0]);
    port = await ClientPort.listen('http://127.0.0.1:0', undefined, {
      grpc,
      http: (request, response) => {
        let body = '';
        request.on('data', (chunk: Buffer) => (body += chunk.toString()));
        request.on('end', () => response.end(`${request.method} ${request.url} ${body}`));
      },
    }, realClock);
  });

  after(async () => {
    await port?.close();
    grpc?.forceShutdown();
  });

  const address = (): string => port?.boundAddress ?? '';

  it('answers a gRPC call and an HTTP request on the same port', async () => {
    const client = new healthDefinition.grpc.health.v1.Health(address(), credentials.createInsecure());
    try {
      const status = await new Promise<string>((resolve, reject) =>
        client.check({ service: '' }, new Metadata(), { deadline: Date.now() + 5_000 }, (error, response) => (error === null ? resolve(response.status) : reject(error))),
      );
      expect(status).to.equal('SERVING');
    } finally {
      client.close();
    }
    const response = await fetch(`http://${address()}/echo`, { method: 'POST', body: 'hello' });
    expect(await response.text()).to.equal('POST /echo hello');
  });

  it('decides only once enough bytes came, when a client writes its first bytes one at a time', async () => {
    const request = 'POST /slow HTTP/1.1\r\nHost: x\r\nContent-Length: 2\r\nConnection: close\r\n\r\nhi';
    const socket = connect(Number(address().split(':')[1]), '127.0.0.1');
    let answer = '';
    socket.on('data', (chunk: Buffer) => (answer += chunk.toString()));
    const closed = new Promise<void>((resolve) => socket.on('close', () => resolve()));
    await new Promise<void>((resolve) => socket.once('connect', () => resolve()));
    // "P" alone could still begin the HTTP/2 preface; "PO" cannot.
    for (const piece of ['P', 'O', request.slice(2)]) {
      socket.write(piece);
      await new Promise((resolve) => setTimeout(resolve, 30));
    }
    await closed;
    expect(answer).to.match(/^HTTP\/1\.1 200 OK/);
    expect(answer.endsWith('POST /slow hi')).to.equal(true);
  });
});
