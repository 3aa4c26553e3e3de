import { expect } from 'chai';
import {
  Client,
  credentials,
  Metadata,
  Server,
  ServerCredentials,
  status,
  type MethodDefinition,
  type ServiceError,
  type UntypedServiceImplementation,
} from '@grpc/grpc-js';
import { createServer, type Server as NetServer } from 'node:net';
import { realClock } from '../../clock.js';
import { firstMetadataValue } from '../unary.js';
import { GrpcServer } from './server.js';
import type { CallObserver } from './observer.js';

// The same service on grpc-js's Server and on GrpcServer, driven by grpc-js's client: every answer
// must be the same on both (codes, details, messages, metadata), since clients cannot tell them apart.

type Json = Record<string, unknown>;
const json = {
  requestSerialize: (value: unknown) => Buffer.from(JSON.stringify(value)),
  requestDeserialize: (bytes: Buffer) => JSON.parse(bytes.toString()) as unknown,
  responseSerialize: (value: unknown) => Buffer.from(JSON.stringify(value)),
  responseDeserialize: (bytes: Buffer) => JSON.parse(bytes.toString()) as unknown,
};
const method = (name: string, requestStream: boolean, responseStream: boolean): MethodDefinition<unknown, unknown> => ({ path: `/test.Echo/${name}`, requestStream, responseStream, ...json });
const definition = {
  echo: method('Echo', false, false),
  count: method('Count', false, true),
  chat: method('Chat', true, true),
  hold: method('Hold', true, true),
  sum: method('Sum', true, false),
  never: method('Never', false, false),
  absent: method('Absent', false, false),
};

/** What the handlers saw, for the assertions on the server's side. */
interface Seen {
  neverCancelled: Promise<boolean>;
  chatClosed: Promise<void>;
}

function implementation(seen: { resolveNever?: (cancelled: boolean) => void; resolveChat?: () => void }): UntypedServiceImplementation {
  const handlers = {
    echo: (call: { request: Json; metadata: Metadata; sendMetadata(m: Metadata): void }, respond: (error: unknown, value?: unknown, trailer?: Metadata) => void) => {
      const { request } = call;
      if (request.fail === 'status') return respond({ code: status.FAILED_PRECONDITION, details: 'etcdserver: nope ☃ 100%' });
      if (request.fail === 'throw') throw new Error('handler bug');
      const trailer = new Metadata();
      trailer.set('x-trailer', 'yes');
      const headers = new Metadata();
      headers.set('x-header', 'h');
      call.sendMetadata(headers);
      // The token as CallIdentity's fast path reads it (the headers, on GrpcServer) and as Metadata gives it: the same.
      const fast = { token: firstMetadataValue(call, 'token') ?? null, timeout: firstMetadataValue(call, 'grpc-timeout') ?? null };
      respond(null, { echo: request.text, token: call.metadata.get('token')[0] ?? null, fast }, trailer);
    },
    count: (call: { request: Json; write(v: unknown): boolean; end(): void; emit(e: string, v: unknown): void }) => {
      const upTo = Number(call.request.upTo);
      for (let i = 1; i <= upTo; i++) call.write({ i });
      if (call.request.fail) call.emit('error', { code: status.OUT_OF_RANGE, details: 'too far' });
      else call.end();
    },
    chat: (call: NodeJS.EventEmitter & { write(v: unknown): boolean; end(): void }) => {
      call.on('data', (message: Json) => call.write({ heard: message.say }));
      call.on('end', () => call.end());
    },
    // As the watch service: answers each message and ends only when the client goes.
    hold: (call: NodeJS.EventEmitter & { write(v: unknown): boolean }) => {
      call.on('data', (message: Json) => call.write({ heard: message.say }));
      call.on('close', () => seen.resolveChat?.());
    },
    sum: (call: NodeJS.EventEmitter, respond: (error: unknown, value?: unknown) => void) => {
      let total = 0;
      call.on('data', (message: Json) => (total += Number(message.n)));
      call.on('end', () => respond(null, { total }));
    },
    never: (call: NodeJS.EventEmitter & { cancelled: boolean }) => {
      call.on('cancelled', () => seen.resolveNever?.(call.cancelled));
    },
  };
  return handlers as unknown as UntypedServiceImplementation;
}

interface Target {
  address: string;
  seen: Seen;
  observed: Array<{ path: string; events: string[] }>;
  stop(): Promise<void>;
}

async function startOurs(): Promise<Target> {
  const hooks: { resolveNever?: (cancelled: boolean) => void; resolveChat?: () => void } = {};
  const seen: Seen = {
    neverCancelled: new Promise((resolve) => (hooks.resolveNever = resolve)),
    chatClosed: new Promise((resolve) => (hooks.resolveChat = resolve)),
  };
  const observed: Target['observed'] = [];
  const server = new GrpcServer({
    clock: realClock,
    messageBytesMax: 1_000,
    observers: [(m): CallObserver => {
      const record = { path: m.path, events: [] as string[] };
      observed.push(record);
      return { received: () => record.events.push('received'), sent: () => record.events.push('sent'), ended: (code) => record.events.push(`ended ${code}`) };
    }],
  });
  const { absent: _absent, ...served } = definition;
  server.addService(served, implementation(hooks));
  const injector = server.createConnectionInjector();
  const listener: NetServer = createServer((socket) => injector.injectConnection(socket));
  await new Promise<void>((resolve) => listener.listen(0, '127.0.0.1', resolve));
  const { port } = listener.address() as { port: number };
  return {
    address: `127.0.0.1:${port}`,
    seen,
    observed,
    stop: async () => {
      listener.close();
      server.forceShutdown();
    },
  };
}

async function startGrpcJs(): Promise<Target> {
  const hooks: { resolveNever?: (cancelled: boolean) => void; resolveChat?: () => void } = {};
  const seen: Seen = {
    neverCancelled: new Promise((resolve) => (hooks.resolveNever = resolve)),
    chatClosed: new Promise((resolve) => (hooks.resolveChat = resolve)),
  };
  const server = new Server({ 'grpc.max_receive_message_length': 1_000 });
  const { absent: _absent, ...served } = definition;
  server.addService(served, implementation(hooks));
  const port = await new Promise<number>((resolve, reject) => server.bindAsync('127.0.0.1:0', ServerCredentials.createInsecure(), (error, bound) => (error ? reject(error) : resolve(bound))));
  return { address: `127.0.0.1:${port}`, seen, observed: [], stop: async () => void server.forceShutdown() };
}

type Outcome = { code: number; details: string; value?: unknown; header?: unknown; trailer?: unknown };

function unary(client: Client, name: keyof typeof definition, request: unknown, metadata = new Metadata(), deadlineMs = 5_000): Promise<Outcome> {
  const { path, requestSerialize, responseDeserialize } = definition[name];
  return new Promise((resolve) => {
    let header: unknown;
    let outcome: Outcome | undefined;
    let trailer: unknown;
    // Resolved once both the callback and the status (which carries the trailers) came, in either order.
    const settle = (): void => {
      if (outcome !== undefined && trailer !== undefined) resolve(outcome.code === status.OK ? { ...outcome, header, trailer } : outcome);
    };
    const call = client.makeUnaryRequest(path, requestSerialize, responseDeserialize, request, metadata, { deadline: Date.now() + deadlineMs }, (error: ServiceError | null, value?: unknown) => {
      outcome = error ? { code: error.code, details: error.details } : { code: status.OK, details: 'OK', value };
      settle();
    });
    call.on('metadata', (m: Metadata) => (header = m.get('x-header')));
    call.on('status', (s: { metadata: Metadata }) => {
      trailer = s.metadata.get('x-trailer');
      settle();
    });
  });
}

function serverStream(client: Client, request: unknown): Promise<{ values: unknown[]; code: number; details: string }> {
  const { path, requestSerialize, responseDeserialize } = definition.count;
  return new Promise((resolve) => {
    const values: unknown[] = [];
    const call = client.makeServerStreamRequest(path, requestSerialize, responseDeserialize, request, new Metadata());
    call.on('data', (value: unknown) => values.push(value));
    call.on('error', () => undefined);
    call.on('status', (s: { code: number; details: string }) => resolve({ values, code: s.code, details: s.details }));
  });
}

describe('GrpcServer (serving/): answers as grpc-js’s Server does', function () {
  let ours: Target;
  let theirs: Target;
  let ourClient: Client;
  let theirClient: Client;

  beforeEach(async () => {
    ours = await startOurs();
    theirs = await startGrpcJs();
    ourClient = new Client(ours.address, credentials.createInsecure());
    theirClient = new Client(theirs.address, credentials.createInsecure());
  });

  afterEach(async () => {
    ourClient.close();
    theirClient.close();
    await ours.stop();
    await theirs.stop();
  });

  /** Runs `scenario` against both servers and expects the same outcome; returns ours. */
  async function same<T>(scenario: (client: Client) => Promise<T>): Promise<T> {
    const [mine, reference] = await Promise.all([scenario(ourClient), scenario(theirClient)]);
    expect(mine).to.deep.equal(reference);
    return mine;
  }

  it('unary: the response, the request metadata, response headers and trailers', async () => {
    const metadata = new Metadata();
    metadata.set('token', 'T');
    const outcome = await same((client) => unary(client, 'echo', { text: 'hi' }, metadata));
    expect(outcome).to.deep.equal({ code: status.OK, details: 'OK', value: { echo: 'hi', token: 'T', fast: { token: 'T', timeout: null } }, header: ['h'], trailer: ['yes'] });
  });

  it('a token sent twice reads as Node joins it, by the fast path and the metadata alike; a deadline is no metadata', async () => {
    const metadata = new Metadata();
    metadata.add('token', 'T1');
    metadata.add('token', 'T2');
    const outcome = await same((client) => unary(client, 'echo', { text: 'twice' }, metadata, 5_000));
    expect(outcome.value).to.deep.equal({ echo: 'twice', token: 'T1, T2', fast: { token: 'T1, T2', timeout: null } });
  });

  it('unary errors: a status with details (non-ASCII, %), a handler that throws, an undecodable request, an unknown method', async () => {
    expect(await same((client) => unary(client, 'echo', { fail: 'status' }))).to.deep.equal({ code: status.FAILED_PRECONDITION, details: 'etcdserver: nope ☃ 100%' });
    expect(await same((client) => unary(client, 'echo', { fail: 'throw' }))).to.deep.equal({ code: status.UNKNOWN, details: 'Unknown error' });
    const undecodable = (client: Client): Promise<Outcome> =>
      new Promise((resolve) => client.makeUnaryRequest(definition.echo.path, () => Buffer.from('{not json'), json.responseDeserialize, {}, (error: ServiceError | null) => resolve({ code: error?.code ?? 0, details: error?.details ?? '' })));
    expect(await same(undecodable)).to.deep.equal({ code: status.INTERNAL, details: 'Error deserializing request' });
    expect(await same((client) => unary(client, 'absent', {}))).to.deep.equal({ code: status.UNIMPLEMENTED, details: 'The server does not implement the method /test.Echo/Absent' });
  });

  it('a request over the size limit: RESOURCE_EXHAUSTED with grpc-js’s details', async () => {
    const outcome = await same((client) => unary(client, 'echo', { text: 'x'.repeat(2_000) }));
    expect(outcome.code).to.equal(status.RESOURCE_EXHAUSTED);
    expect(outcome.details).to.match(/^Received message larger than max \(\d+ vs 1000\)$/);
  });

  it('a gzip-compressed request is read', async () => {
    const zipped = (address: string): Promise<Outcome> => {
      const client = new Client(address, credentials.createInsecure(), { 'grpc.default_compression_algorithm': 2 });
      return unary(client, 'echo', { text: 'z'.repeat(500) }).finally(() => client.close());
    };
    const [mine, reference] = await Promise.all([zipped(ours.address), zipped(theirs.address)]);
    expect(mine).to.deep.equal(reference);
    expect(mine.value).to.deep.equal({ echo: 'z'.repeat(500), token: null, fast: { token: null, timeout: null } });
  });

  it('server streaming: every message, then OK; or the error emitted after them', async () => {
    expect(await same((client) => serverStream(client, { upTo: 3 }))).to.deep.equal({ values: [{ i: 1 }, { i: 2 }, { i: 3 }], code: status.OK, details: 'OK' });
    expect(await same((client) => serverStream(client, { upTo: 2, fail: true }))).to.deep.equal({ values: [{ i: 1 }, { i: 2 }], code: status.OUT_OF_RANGE, details: 'too far' });
  });

  it('client streaming and bidi streaming', async () => {
    const sum = (client: Client): Promise<Outcome> =>
      new Promise((resolve) => {
        const call = client.makeClientStreamRequest(definition.sum.path, json.requestSerialize, json.responseDeserialize, (error: ServiceError | null, value?: unknown) => resolve(error ? { code: error.code, details: error.details } : { code: 0, details: 'OK', value }));
        for (const n of [1, 2, 3]) call.write({ n });
        call.end();
      });
    expect(await same(sum)).to.deep.equal({ code: 0, details: 'OK', value: { total: 6 } });
    const chat = (client: Client): Promise<unknown[]> =>
      new Promise((resolve) => {
        const heard: unknown[] = [];
        const call = client.makeBidiStreamRequest(definition.chat.path, json.requestSerialize, json.responseDeserialize);
        call.on('data', (value: unknown) => heard.push(value));
        call.on('status', () => resolve(heard));
        call.write({ say: 'a' });
        call.write({ say: 'b' });
        call.end();
      });
    expect(await same(chat)).to.deep.equal([{ heard: 'a' }, { heard: 'b' }]);
  });

  it('a deadline that passes: DEADLINE_EXCEEDED to the client, and the handler’s call is cancelled', async () => {
    // The client's own timer ends its side (details of its making); the server's ends the handler's.
    const code = async (client: Client): Promise<number> => (await unary(client, 'never', {}, new Metadata(), 100)).code;
    expect(await same(code)).to.equal(status.DEADLINE_EXCEEDED);
    expect(await ours.seen.neverCancelled).to.equal(true);
    expect(await theirs.seen.neverCancelled).to.equal(true);
    // Whichever comes first ends it for the observers: the server's timer, or the client's reset at its own.
    const never = ours.observed.find((record) => record.path === '/test.Echo/Never');
    expect(never?.events[0]).to.equal('received');
    expect([[`ended ${status.DEADLINE_EXCEEDED}`], [`ended ${status.CANCELLED}`]]).to.deep.include(never?.events.slice(1));
  });

  it('a client that cancels a bidi call: the handler’s stream closes, and the call ends as CANCELLED for the observers', async () => {
    // (A handler that ends its stream when the request stream ends may answer OK first: Node reports the
    // client's reset as the request's end before it closes the stream, under grpc-js's Server too.)
    const call = ourClient.makeBidiStreamRequest(definition.hold.path, json.requestSerialize, json.responseDeserialize);
    call.on('error', () => undefined);
    const heard = new Promise((resolve) => call.once('data', resolve));
    call.write({ say: 'x' });
    expect(await heard).to.deep.equal({ heard: 'x' });
    call.cancel();
    await ours.seen.chatClosed;
    const hold = ours.observed.find((record) => record.path === '/test.Echo/Hold');
    expect(hold?.events).to.deep.equal(['received', 'sent', `ended ${status.CANCELLED}`]);
  });

  it('observers see every message each way and one end per call', async () => {
    await unary(ourClient, 'echo', { text: 'a' });
    await serverStream(ourClient, { upTo: 2 });
    expect(ours.observed.map((record) => [record.path, record.events])).to.deep.equal([
      ['/test.Echo/Echo', ['received', 'sent', `ended ${status.OK}`]],
      ['/test.Echo/Count', ['received', 'sent', 'sent', `ended ${status.OK}`]],
    ]);
  });
});
