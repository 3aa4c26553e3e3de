// The fault network against real processes on 127.0.0.1: each member is a small
// node process that listens on a port, dials other members' proxies, and reports
// over IPC what it accepted, received and saw closed.
import { spawn, type ChildProcess } from 'node:child_process';
import { connect, createServer, type Server, type Socket } from 'node:net';
import { expect } from 'chai';
import { must } from './must.js';
import {
  DuplicateMemberError,
  FaultNetwork,
  MemberInTwoGroupsError,
  NetworkClosedError,
  UnknownMemberError,
} from './peer-proxy.js';
import { freePort } from './launcher.js';

/** How long a test waits for an event that must come. */
const eventTimeoutMs = 3_000;
/** How long a test waits before asserting that bytes did not arrive: loopback delivers in well under 1 ms. */
const quietMs = 200;

// A member: listens on 127.0.0.1, dials on command, reports every event over IPC.
const memberScript = `
const net = require('node:net');
const sockets = new Map();
let inboundCount = 0;
const report = (message) => { if (process.connected) process.send(message); };
function track(id, socket) {
  sockets.set(id, socket);
  socket.setEncoding('utf8');
  socket.on('data', (text) => report({ type: 'data', id, text }));
  socket.on('error', () => {});
  socket.on('close', () => report({ type: 'closed', id }));
}
const server = net.createServer((socket) => {
  const id = 'in' + ++inboundCount;
  report({ type: 'accepted', id });
  track(id, socket);
});
server.listen(0, '127.0.0.1', () => report({ type: 'listening', port: server.address().port }));
process.on('message', (message) => {
  if (message.command === 'connect') track(message.id, net.connect(message.port, message.host));
  if (message.command === 'send') sockets.get(message.id)?.write(message.text);
});
process.on('disconnect', () => process.exit(0));
`;

type MemberEvent =
  | { type: 'listening'; port: number }
  | { type: 'accepted'; id: string }
  | { type: 'data'; id: string; text: string }
  | { type: 'closed'; id: string };

const children = new Set<ChildProcess>();

class MemberProcess {
  private readonly events: MemberEvent[] = [];
  private readonly onEvent = new Set<() => void>();
  private connectionCount = 0;

  private constructor(private readonly child: ChildProcess, readonly pid: number) {
    child.on('message', (event: MemberEvent) => {
      this.events.push(event);
      for (const listener of this.onEvent) listener();
    });
  }

  static async start(): Promise<MemberProcess> {
    const child = spawn(process.execPath, ['-e', memberScript], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
    children.add(child);
    if (child.pid === undefined) throw new Error('member process did not start');
    const member = new MemberProcess(child, child.pid);
    await member.waitFor('listening', () => member.port() !== undefined);
    return member;
  }

  /** The member's own port: the proxy's target. */
  port(): number | undefined {
    for (const event of this.events) if (event.type === 'listening') return event.port;
    return undefined;
  }

  listeningPort(): number {
    const port = this.port();
    if (port === undefined) throw new Error('member is not listening');
    return port;
  }

  /** Dials `port` and returns the id of the new outbound connection. */
  dial(port: number, host = '127.0.0.1'): string {
    const id = `out${++this.connectionCount}`;
    this.child.send({ command: 'connect', id, port, host });
    return id;
  }

  send(id: string, text: string): void {
    this.child.send({ command: 'send', id, text });
  }

  accepted(): string[] {
    return this.events.flatMap((event) => (event.type === 'accepted' ? [event.id] : []));
  }

  received(id: string): string {
    return this.events.map((event) => (event.type === 'data' && event.id === id ? event.text : '')).join('');
  }

  isClosed(id: string): boolean {
    return this.events.some((event) => event.type === 'closed' && event.id === id);
  }

  waitFor(what: string, condition: () => boolean): Promise<void> {
    return new Promise((resolve, reject) => {
      const check = () => {
        if (!condition()) return;
        clearTimeout(timer);
        this.onEvent.delete(check);
        resolve();
      };
      const timer = setTimeout(() => {
        this.onEvent.delete(check);
        reject(new Error(`member ${this.pid}: timed out waiting for ${what}; events: ${JSON.stringify(this.events)}`));
      }, eventTimeoutMs);
      this.onEvent.add(check);
      check();
    });
  }

  waitReceived(id: string, text: string): Promise<void> {
    return this.waitFor(`${JSON.stringify(text)} on ${id}`, () => this.received(id) === text);
  }

  waitClosed(id: string): Promise<void> {
    return this.waitFor(`${id} closed`, () => this.isClosed(id));
  }

  /** Waits for the next accepted connection after `acceptedBefore` of them, and returns its id. */
  async nextAccepted(acceptedBefore: number): Promise<string> {
    await this.waitFor('an accepted connection', () => this.accepted().length > acceptedBefore);
    return must(this.accepted()[acceptedBefore], `accepted connection ${acceptedBefore + 1}`);
  }
}

async function killChildren(): Promise<void> {
  await Promise.all(
    [...children].map(async (child) => {
      children.delete(child);
      if (child.exitCode !== null || child.signalCode !== null || child.pid === undefined) return;
      const exited = new Promise((resolve) => child.once('exit', resolve));
      process.kill(child.pid, 'SIGKILL');
      await exited;
    }),
  );
}

function sleep(milliseconds: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, milliseconds));
}

/** A connection from the test process itself: the network knows no such member. */
function dialFromTest(port: number): Promise<Socket> {
  return new Promise((resolve, reject) => {
    const socket = connect(port, '127.0.0.1', () => resolve(socket));
    socket.once('error', reject);
  });
}

/** The first `length` bytes `socket` receives, as text. */
function receive(socket: Socket, length: number): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    const timer = setTimeout(() => reject(new Error(`timed out waiting for ${length} bytes`)), eventTimeoutMs);
    socket.on('data', (chunk: Buffer) => {
      chunks.push(chunk);
      const text = Buffer.concat(chunks).toString();
      if (text.length < length) return;
      clearTimeout(timer);
      resolve(text);
    });
  });
}

function closedWith(socket: Socket): Promise<NodeJS.ErrnoException | undefined> {
  return new Promise((resolve) => {
    let failure: NodeJS.ErrnoException | undefined;
    socket.on('error', (error) => (failure = error));
    socket.once('close', () => resolve(failure));
  });
}

describe('FaultNetwork (peer proxy)', function () {
  this.timeout(10_000);
  let network: FaultNetwork;
  const proxyPorts = new Map<string, number>();

  /** Starts member processes and registers each with the network under its name: one process per name, in order. */
  async function members<const Names extends readonly string[]>(...names: Names): Promise<{ [K in keyof Names]: MemberProcess }> {
    const started = await Promise.all(names.map(async (name) => ({ name, member: await MemberProcess.start() })));
    for (const { name, member } of started) {
      proxyPorts.set(name, await network.addMember(name, member.listeningPort()));
      network.setPid(name, member.pid);
    }
    // map keeps the length and order of `names`, which is what the tuple type says.
    return started.map(({ member }) => member) as { [K in keyof Names]: MemberProcess };
  }

  function proxyPort(name: string): number {
    const port = proxyPorts.get(name);
    if (port === undefined) throw new Error(`no proxy for ${name}`);
    return port;
  }

  /** `from` dials `to`'s proxy; waits until `to` accepted it; returns both ends' ids. */
  async function open(from: MemberProcess, to: MemberProcess, toName: string): Promise<{ outbound: string; inbound: string }> {
    const acceptedBefore = to.accepted().length;
    const outbound = from.dial(proxyPort(toName));
    const inbound = await to.nextAccepted(acceptedBefore);
    return { outbound, inbound };
  }

  beforeEach(async () => {
    network = await FaultNetwork.create();
    proxyPorts.clear();
  });

  afterEach(async () => {
    await network.close();
    await killChildren();
  });

  it('forwards bytes both ways between members', async () => {
    const [a, b] = await members('a', 'b');
    const { outbound, inbound } = await open(a, b, 'b');
    a.send(outbound, 'ping');
    await b.waitReceived(inbound, 'ping');
    b.send(inbound, 'pong!');
    await a.waitReceived(outbound, 'pong!');
    expect(network.stats()).to.deep.equal({ accepted: 1, refused: 0, bytesForwarded: 9 });
  });

  it('isolate cuts open and new connections both ways; heal lets new ones through', async () => {
    const [a, b] = await members('a', 'b');
    const before = await open(a, b, 'b');
    a.send(before.outbound, 'hello');
    await b.waitReceived(before.inbound, 'hello');

    network.isolate('a');
    await a.waitClosed(before.outbound);
    await b.waitClosed(before.inbound);
    const fromA = a.dial(proxyPort('b'));
    const fromB = b.dial(proxyPort('a'));
    await a.waitClosed(fromA);
    await b.waitClosed(fromB);
    expect(network.stats().refused).to.equal(2);
    expect(b.accepted()).to.have.length(1);
    expect(a.accepted()).to.have.length(0);

    network.heal();
    const after = await open(a, b, 'b');
    a.send(after.outbound, 'again');
    await b.waitReceived(after.inbound, 'again');
    expect(network.stats()).to.include({ accepted: 2, refused: 2 });
  });

  it('cut(from, to) discards from→to bytes while to→from flows on the same connection', async () => {
    const [a, b] = await members('a', 'b');
    const { outbound, inbound } = await open(a, b, 'b');
    a.send(outbound, 'hello');
    await b.waitReceived(inbound, 'hello');

    network.cut('a', 'b');
    a.send(outbound, 'lost');
    b.send(inbound, 'back');
    await a.waitReceived(outbound, 'back');
    await sleep(quietMs);
    expect(b.received(inbound)).to.equal('hello');
    expect(a.isClosed(outbound)).to.equal(false);
    expect(network.stats().bytesForwarded).to.equal('hello'.length + 'back'.length);

    // 'lost' left a hole in the a→b stream: healing resets the connection rather than resume it torn.
    network.heal();
    await a.waitClosed(outbound);
    await b.waitClosed(inbound);
  });

  it('a one-way cut from the member back to the opener applies to a new connection, which is accepted', async () => {
    const [a, b] = await members('a', 'b');
    network.cut('b', 'a');
    const { outbound, inbound } = await open(a, b, 'b');
    a.send(outbound, 'up');
    await b.waitReceived(inbound, 'up');
    b.send(inbound, 'down');
    await sleep(quietMs);
    expect(a.received(outbound)).to.equal('');
    expect(network.stats()).to.deep.equal({ accepted: 1, refused: 0, bytesForwarded: 'up'.length });
  });

  it('heal resumes a one-way cut connection that lost no bytes', async () => {
    const [a, b] = await members('a', 'b');
    const { outbound, inbound } = await open(a, b, 'b');
    network.cut('a', 'b');
    b.send(inbound, 'while cut');
    await a.waitReceived(outbound, 'while cut');
    network.heal();
    a.send(outbound, 'healed');
    await b.waitReceived(inbound, 'healed');
    expect(a.isClosed(outbound)).to.equal(false);
  });

  it('tells apart two processes dialling the same proxy, and cuts only the one the rules cut', async () => {
    const [b, c1, c2] = await members('b', 'c1', 'c2');
    network.partition([['b', 'c2'], ['c1']]);
    const fromC1 = c1.dial(proxyPort('b'));
    const fromC2 = c2.dial(proxyPort('b'));
    await c1.waitClosed(fromC1);
    const inbound = await b.nextAccepted(0);
    c2.send(fromC2, 'from c2');
    await b.waitReceived(inbound, 'from c2');
    expect(b.accepted()).to.deep.equal([inbound]);
    expect(network.stats()).to.include({ accepted: 1, refused: 1 });
  });

  it('identifies an opener whose socket is IPv6, dialling 127.0.0.1 as ::ffff:127.0.0.1 (/proc/net/tcp6)', async () => {
    const [a, b, c] = await members('a', 'b', 'c');
    network.isolate('a');
    const fromA = a.dial(proxyPort('b'), '::ffff:127.0.0.1');
    const fromC = c.dial(proxyPort('b'), '::ffff:127.0.0.1');
    await a.waitClosed(fromA);
    const inbound = await b.nextAccepted(0);
    c.send(fromC, 'mapped');
    await b.waitReceived(inbound, 'mapped');
    expect(network.stats()).to.include({ accepted: 1, refused: 1 });
  });

  it('identifies a restarted member by the pid it was last given, not a stale one', async () => {
    const [b, firstA] = await members('b', 'a');
    network.isolate('a');
    await firstA.waitClosed(firstA.dial(proxyPort('b')));

    const secondA = await MemberProcess.start();
    const beforeSetPid = await open(secondA, b, 'b');
    secondA.send(beforeSetPid.outbound, 'unknown pid');
    await b.waitReceived(beforeSetPid.inbound, 'unknown pid');

    network.setPid('a', secondA.pid);
    await secondA.waitClosed(secondA.dial(proxyPort('b')));
    expect(network.stats()).to.include({ accepted: 1, refused: 2 });
  });

  it('lets through a connection from a process that is no member', async () => {
    const [b] = await members('b');
    network.isolate('b');
    const client = await dialFromTest(proxyPort('b'));
    const closed = closedWith(client);
    const reply = receive(client, 'reply'.length);
    client.write('from the test');
    const inbound = await b.nextAccepted(0);
    await b.waitReceived(inbound, 'from the test');
    b.send(inbound, 'reply');
    expect(await reply).to.equal('reply');
    expect(network.stats()).to.deep.equal({ accepted: 1, refused: 0, bytesForwarded: 'from the test'.length + 'reply'.length });
    client.destroy();
    await closed;
  });

  it('resets the client when the member does not listen', async () => {
    const deadPort = await freePort();
    const port = await network.addMember('ghost', deadPort);
    const client = await dialFromTest(port);
    const failure = await closedWith(client);
    expect(failure?.code).to.equal('ECONNRESET');
    expect(network.stats().accepted).to.equal(1);
  });

  it('close() ends open connections and stops listening', async () => {
    const [b] = await members('b');
    const client = await dialFromTest(proxyPort('b'));
    const closed = closedWith(client);
    const inbound = await b.nextAccepted(0);
    await network.close();
    await closed;
    await b.waitClosed(inbound);
    const refused = await dialFromTest(proxyPort('b')).then(
      (socket) => (socket.destroy(), undefined),
      (error: NodeJS.ErrnoException) => error.code,
    );
    expect(refused).to.equal('ECONNREFUSED');
    await expectRejection(network.addMember('late', b.listeningPort()), NetworkClosedError);
  });

  it('holds back a fast sender instead of buffering for a slow member', async () => {
    // Kernel socket buffers on loopback can grow to tens of MiB, so only a
    // payload well beyond them shows whether the proxy itself buffers.
    const payloadBytes = 32 * 1024 * 1024;
    const sink = await slowSink();
    try {
      const port = await network.addMember('sink', sink.port);
      const client = await dialFromTest(port);
      client.on('error', () => {});
      client.write(Buffer.alloc(payloadBytes, 7));
      await sleep(quietMs * 2);
      const forwardedWhilePaused = network.stats().bytesForwarded;
      expect(forwardedWhilePaused).to.be.greaterThan(0);
      expect(forwardedWhilePaused).to.be.lessThan(payloadBytes / 2);
      client.end();
      await sink.drain();
      expect(sink.receivedBytes()).to.equal(payloadBytes);
      expect(network.stats().bytesForwarded).to.equal(payloadBytes);
      client.destroy();
    } finally {
      await sink.close();
    }
  });

  it('rejects rules about unknown members, duplicate members and a member in two groups', async () => {
    await members('a', 'b');
    expect(() => network.isolate('nobody')).to.throw(UnknownMemberError);
    expect(() => network.cut('a', 'nobody')).to.throw(UnknownMemberError);
    expect(() => network.setPid('nobody', process.pid)).to.throw(UnknownMemberError);
    expect(() => network.partition([['a', 'b'], ['a']])).to.throw(MemberInTwoGroupsError);
    await expectRejection(network.addMember('a', proxyPort('b')), DuplicateMemberError);
  });
});

async function expectRejection(promise: Promise<unknown>, errorClass: new (...args: never[]) => Error): Promise<void> {
  const outcome = await promise.then(
    () => undefined,
    (error: unknown) => error,
  );
  expect(outcome).to.be.instanceOf(errorClass);
}

/** An in-process member that reads nothing until drain() is called, then counts what arrives. */
async function slowSink(): Promise<{ port: number; drain(): Promise<void>; receivedBytes(): number; close(): Promise<void> }> {
  let socket: Socket | undefined;
  let received = 0;
  const server: Server = createServer({ pauseOnConnect: true }, (accepted) => {
    socket = accepted;
    accepted.on('error', () => {});
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  if (address === null || typeof address === 'string') throw new Error('no port');
  return {
    port: address.port,
    drain: () =>
      new Promise((resolve, reject) => {
        if (socket === undefined) return reject(new Error('the sink was never dialled'));
        socket.on('data', (chunk: Buffer) => (received += chunk.length));
        socket.once('end', () => resolve());
        // Accepted paused (pauseOnConnect): a 'data' listener alone does not start reading.
        socket.resume();
      }),
    receivedBytes: () => received,
    close: () => {
      socket?.destroy();
      return new Promise((resolve) => server.close(() => resolve()));
    },
  };
}
