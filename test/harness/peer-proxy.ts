// A fault-injecting TCP proxy for Raft peer traffic between server processes on
// 127.0.0.1, so process-level tests can partition real clusters (cairn or etcd).
//
// Every member gets a proxy port in front of its real peer port and advertises
// the proxy port to its peers, so every peer connection crosses the proxy of
// the member it was dialled to. The proxy copies bytes and knows nothing of the
// protocol on top (etcd: HTTP/1.1; cairn: gRPC over HTTP/2).
//
// A rule is directional ("nothing from a reaches b"), but a connection carries
// both directions: etcd's stream reader on a dials b, and b sends its Raft
// messages to a in the response. So the proxy must know which member opened a
// connection. It asks the kernel, as a worked example shows:
//
//   members a, b; b's proxy listens on 127.0.0.1:41002 and forwards to 5002.
//   a dials 41002; the accepted socket's remote end is 127.0.0.1:51234.
//   /proc/net/tcp has the client end:  0100007F:C822 0100007F:A02A ... inode 8812
//   readlink /proc/<pid of a>/fd/7  →  "socket:[8812]"            → opener is a.
//   What a writes travels a→b, what b writes back travels b→a.
//   cut('a', 'b'):  a's bytes are discarded, b's still reach a: the connection stays open.
//   cut('b', 'a') as well: both directions are cut, the proxy resets the connection.
//
// Departure from a byte-exact "resume": when a direction that lost bytes is no
// longer cut, the connection is reset rather than resumed. TCP never delivers
// a stream with a hole in it, and the receiver would parse a torn HTTP/2 frame
// or protobuf message as if it were whole. A direction that lost nothing resumes.
import { createServer, connect, type Server, type Socket } from 'node:net';
import { readFile, readdir, readlink } from 'node:fs/promises';
import { endianness } from 'node:os';
import assert from 'node:assert/strict';

const loopbackHost = '127.0.0.1';
/** readlink calls in flight at once while scanning one process's descriptors. */
const readlinkBatchMax = 64;

export class UnknownMemberError extends Error {
  override readonly name = 'UnknownMemberError';
  constructor(readonly member: string) {
    super(`unknown member ${JSON.stringify(member)}: call addMember first`);
  }
}

export class DuplicateMemberError extends Error {
  override readonly name = 'DuplicateMemberError';
  constructor(readonly member: string) {
    super(`member ${JSON.stringify(member)} was already added`);
  }
}

export class MemberInTwoGroupsError extends Error {
  override readonly name = 'MemberInTwoGroupsError';
  constructor(readonly member: string) {
    super(`member ${JSON.stringify(member)} is in more than one partition group`);
  }
}

export class NetworkClosedError extends Error {
  override readonly name = 'NetworkClosedError';
  constructor() {
    super('the fault network is closed');
  }
}

/** /proc/net/tcp cannot be read: not Linux, or /proc is not mounted. */
export class ProcfsUnavailableError extends Error {
  override readonly name = 'ProcfsUnavailableError';
  constructor(cause: unknown) {
    super('cannot read /proc/net/tcp: the fault network needs Linux procfs to tell which member opened a connection', { cause });
  }
}

interface Endpoint {
  address: string;
  port: number;
}

interface Member {
  readonly name: string;
  readonly targetPort: number;
  readonly server: Server;
  /** undefined until setPid: connections the member opens until then count as from an unknown process. */
  pid: number | undefined;
}

export interface FaultNetworkStats {
  /** Connections forwarded to their member (the rules allowed at least one direction). */
  accepted: number;
  /** Connections reset as soon as they were accepted, because both directions were cut. */
  refused: number;
  /** Bytes written towards either end, both directions summed; discarded bytes do not count. */
  bytesForwarded: number;
}

/**
 * Proxies in front of the peer ports of a cluster's members, and the rules
 * that cut traffic between them. Rules add up until heal(): isolate and cut add
 * to what is cut, partition replaces the previous partition. A rule change
 * applies at once to open connections. Connections from processes that are no
 * registered member (a test client, say) are never cut.
 *
 * The proxies run on the caller's event loop: synchronous work there
 * (execFileSync, spawnSync, a busy loop) stalls all peer traffic, and a stall
 * longer than an election timeout costs the cluster its leader.
 */
export class FaultNetwork {
  private readonly members = new Map<string, Member>();
  private readonly rules = new CutRules();
  private readonly relays = new Set<Relay>();
  /** Accepted sockets whose opener is still being looked up. */
  private readonly admitting = new Set<Socket>();
  private readonly counters: FaultNetworkStats = { accepted: 0, refused: 0, bytesForwarded: 0 };
  private closing: Promise<void> | undefined;

  private constructor() {}

  /** Throws ProcfsUnavailableError where /proc/net/tcp cannot be read. */
  static async create(): Promise<FaultNetwork> {
    try {
      await readFile('/proc/net/tcp', 'utf8');
    } catch (cause) {
      throw new ProcfsUnavailableError(cause);
    }
    return new FaultNetwork();
  }

  /**
   * Starts a proxy for member `name` on a free 127.0.0.1 port that forwards to
   * 127.0.0.1:targetPort (the member's real --listen-peer-urls port). Returns
   * the proxy port: the member advertises it (--initial-advertise-peer-urls,
   * --initial-cluster). The target need not listen yet: a connection accepted
   * while it does not is reset. Throws DuplicateMemberError, NetworkClosedError.
   */
  async addMember(name: string, targetPort: number): Promise<number> {
    if (this.closing !== undefined) throw new NetworkClosedError();
    if (this.members.has(name)) throw new DuplicateMemberError(name);
    assert(Number.isInteger(targetPort) && targetPort > 0 && targetPort < 65536, `target port ${targetPort} is not a TCP port`);
    // pauseOnConnect: nothing is read from a connection before its opener is known.
    const server = createServer({ allowHalfOpen: true, pauseOnConnect: true });
    const member: Member = { name, targetPort, server, pid: undefined };
    // Reserved before the first await, so that a concurrent addMember of the same name fails.
    this.members.set(name, member);
    server.on('connection', (client) => void this.admit(member, client));
    // Errors after listening come from accept (EMFILE, say): the dialling peer retries.
    server.on('error', () => {});
    let port: number;
    try {
      port = await listen(server);
    } catch (error) {
      this.members.delete(name);
      throw error;
    }
    if (this.closing !== undefined) {
      server.close();
      throw new NetworkClosedError();
    }
    return port;
  }

  /** Tells the network which OS process is member `name` (call again after a restart: the pid changes). */
  setPid(name: string, pid: number): void {
    assert(Number.isInteger(pid) && pid > 0, `pid ${pid} is not a process id`);
    this.member(name).pid = pid;
  }

  /** Cuts `name` off from every other member, both directions. */
  isolate(name: string): void {
    this.member(name);
    this.rules.isolate(name);
    this.applyRules();
  }

  /** Only members in the same group can talk; members in no group are isolated. Replaces the previous partition. */
  partition(groups: string[][]): void {
    const seen = new Set<string>();
    for (const name of groups.flat()) {
      this.member(name);
      if (seen.has(name)) throw new MemberInTwoGroupsError(name);
      seen.add(name);
    }
    this.rules.partition(groups);
    this.applyRules();
  }

  /** One direction only: nothing from `from` reaches `to` (asymmetric fault). */
  cut(from: string, to: string): void {
    this.member(from);
    this.member(to);
    assert(from !== to, `member ${JSON.stringify(from)} cannot be cut from itself`);
    this.rules.cut(from, to);
    this.applyRules();
  }

  /** Everyone can talk again. Connections that lost bytes during a one-way cut are reset (see the file comment). */
  heal(): void {
    this.rules.heal();
    this.applyRules();
  }

  /** Counters for tests: connections accepted / refused by the rules, bytes forwarded. */
  stats(): FaultNetworkStats {
    return { ...this.counters };
  }

  /** Stops every proxy and destroys every connection. Idempotent. */
  close(): Promise<void> {
    this.closing ??= this.closeOnce();
    return this.closing;
  }

  private async closeOnce(): Promise<void> {
    // Stop listening first, so no connection is accepted after the sweep below.
    const closed = [...this.members.values()].map((member) => new Promise<void>((resolve) => member.server.close(() => resolve())));
    for (const client of this.admitting) client.destroy();
    for (const relay of this.relays) relay.destroy();
    await Promise.all(closed);
  }

  private member(name: string): Member {
    const member = this.members.get(name);
    if (member === undefined) throw new UnknownMemberError(name);
    return member;
  }

  private applyRules(): void {
    for (const relay of this.relays) relay.apply(this.rules);
  }

  /** Runs as an event handler: never throws; on any failure the client is reset. */
  private async admit(member: Member, client: Socket): Promise<void> {
    client.on('error', () => {});
    this.admitting.add(client);
    client.once('close', () => this.admitting.delete(client));
    let opener: string | undefined;
    try {
      opener = await this.identify(client);
    } catch {
      reset(client);
      return;
    } finally {
      this.admitting.delete(client);
    }
    if (client.destroyed || this.closing !== undefined) {
      reset(client);
      return;
    }
    if (opener !== undefined && this.rules.isCut(opener, member.name) && this.rules.isCut(member.name, opener)) {
      this.counters.refused++;
      reset(client);
      return;
    }
    this.counters.accepted++;
    const target = connect({ host: loopbackHost, port: member.targetPort, allowHalfOpen: true });
    const relay = new Relay({
      client,
      target,
      opener,
      member: member.name,
      onForwarded: (bytes) => (this.counters.bytesForwarded += bytes),
      onClosed: (closed) => this.relays.delete(closed),
    });
    this.relays.add(relay);
    relay.apply(this.rules);
  }

  /**
   * The member whose process opened `client`, or undefined when no registered
   * member did (a test client, or the opener already closed its end). Reads
   * the pids now: nothing is cached across connections, as pids change on restart.
   */
  private async identify(client: Socket): Promise<string | undefined> {
    const candidates = [...this.members.values()].filter((member) => member.pid !== undefined);
    const { remoteAddress, remotePort, localAddress, localPort } = client;
    if (candidates.length === 0) return undefined;
    if (remoteAddress === undefined || remotePort === undefined || localAddress === undefined || localPort === undefined) return undefined;
    // The opener's end of the connection is the mirror image of ours.
    const inode = await socketInode({ address: remoteAddress, port: remotePort }, { address: localAddress, port: localPort });
    if (inode === undefined) return undefined;
    for (const member of candidates) {
      if (member.pid !== undefined && (await processHoldsSocket(member.pid, inode))) return member.name;
    }
    return undefined;
  }
}

function listen(server: Server): Promise<number> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, loopbackHost, () => {
      server.off('error', reject);
      const address = server.address();
      assert(address !== null && typeof address !== 'string', 'a TCP server has a TCP address');
      resolve(address.port);
    });
  });
}

/** Which directions between members are cut. */
class CutRules {
  private readonly isolated = new Set<string>();
  /** Member → index of its group; undefined while no partition is in force. */
  private groupOf: Map<string, number> | undefined;
  /** Keys of directionKey(from, to). */
  private readonly cutDirections = new Set<string>();

  isCut(from: string, to: string): boolean {
    if (from === to) return false;
    if (this.isolated.has(from) || this.isolated.has(to)) return true;
    if (this.groupOf !== undefined) {
      const fromGroup = this.groupOf.get(from);
      if (fromGroup === undefined || fromGroup !== this.groupOf.get(to)) return true;
    }
    return this.cutDirections.has(directionKey(from, to));
  }

  isolate(name: string): void {
    this.isolated.add(name);
  }

  partition(groups: string[][]): void {
    this.groupOf = new Map(groups.flatMap((group, index) => group.map((name) => [name, index] as const)));
  }

  cut(from: string, to: string): void {
    this.cutDirections.add(directionKey(from, to));
  }

  heal(): void {
    this.isolated.clear();
    this.groupOf = undefined;
    this.cutDirections.clear();
  }
}

function directionKey(from: string, to: string): string {
  return JSON.stringify([from, to]);
}

interface RelayOptions {
  /** The accepted socket, from the opener. */
  client: Socket;
  /** The socket to the member's real peer port. */
  target: Socket;
  /** The member that opened the connection; undefined when unknown, and then no rule applies. */
  opener: string | undefined;
  /** The member behind the proxy. */
  member: string;
  onForwarded: (bytes: number) => void;
  onClosed: (relay: Relay) => void;
}

/** One proxied connection: two flows, and the teardown that ties the two sockets together. */
class Relay {
  /** Opener → member. */
  private readonly upstream: Flow;
  /** Member → opener. */
  private readonly downstream: Flow;
  private socketsOpen = 2;

  constructor(private readonly options: RelayOptions) {
    const { client, target, onForwarded } = options;
    this.upstream = new Flow(client, target, onForwarded);
    this.downstream = new Flow(target, client, onForwarded);
    this.tie(client, target);
    this.tie(target, client);
    // Accepted paused (pauseOnConnect), and a 'data' listener does not resume an explicitly paused stream.
    client.resume();
  }

  apply(rules: CutRules): void {
    const { opener, member } = this.options;
    if (opener === undefined) return;
    const upstreamCut = rules.isCut(opener, member);
    const downstreamCut = rules.isCut(member, opener);
    const torn = (!upstreamCut && this.upstream.lostBytes()) || (!downstreamCut && this.downstream.lostBytes());
    if ((upstreamCut && downstreamCut) || torn) {
      this.reset();
      return;
    }
    this.upstream.setCut(upstreamCut);
    this.downstream.setCut(downstreamCut);
  }

  destroy(): void {
    this.options.client.destroy();
    this.options.target.destroy();
  }

  /** Like a partition that answers with RST: both ends see ECONNRESET at once rather than a timeout. */
  private reset(): void {
    reset(this.options.client);
    reset(this.options.target);
  }

  /**
   * A clean close needs nothing: each flow passes its end on, and each socket
   * closes once both of its directions are done. A socket that fails (ECONNRESET,
   * EPIPE, target not listening) resets the other one.
   */
  private tie(socket: Socket, other: Socket): void {
    socket.on('error', () => {});
    socket.once('close', (hadError) => {
      if (hadError) reset(other);
      this.socketsOpen--;
      if (this.socketsOpen === 0) this.options.onClosed(this);
    });
  }
}

type FlowState = 'forwarding' | 'discarding';

/**
 * One direction of a connection: forwards what `source` reads into `sink`
 * with backpressure like pipe() (at most one chunk beyond the sink's
 * highWaterMark is buffered), or discards it while the direction is cut.
 */
class Flow {
  private state: FlowState = 'forwarding';
  private waitingForDrain = false;
  /** The source ended while the direction was cut: the end passes on when it is no longer cut. */
  private endPending = false;
  private discardedBytes = 0;

  constructor(
    private readonly source: Socket,
    private readonly sink: Socket,
    private readonly onForwarded: (bytes: number) => void,
  ) {
    source.on('data', (chunk: Buffer) => this.onData(chunk));
    source.on('end', () => this.onEnd());
    sink.on('drain', () => this.onDrain());
  }

  /** Whether bytes were discarded since the direction was cut, so the stream now has a hole. */
  lostBytes(): boolean {
    return this.state === 'discarding' && this.discardedBytes > 0;
  }

  setCut(cut: boolean): void {
    if (cut && this.state === 'forwarding') {
      this.state = 'discarding';
      this.discardedBytes = 0;
      // Read on and discard, as a lossy network does: the sender's writes succeed and vanish.
      // Staying paused would stall the sender instead, which is another fault.
      this.onDrain();
    } else if (!cut && this.state === 'discarding') {
      this.state = 'forwarding';
      if (this.endPending) this.sink.end();
      this.endPending = false;
    }
  }

  private onData(chunk: Buffer): void {
    if (this.state === 'discarding') {
      this.discardedBytes += chunk.length;
      return;
    }
    this.onForwarded(chunk.length);
    if (!this.sink.write(chunk)) {
      this.waitingForDrain = true;
      this.source.pause();
    }
  }

  private onDrain(): void {
    if (!this.waitingForDrain) return;
    this.waitingForDrain = false;
    this.source.resume();
  }

  private onEnd(): void {
    if (this.state === 'discarding') {
      this.endPending = true;
      return;
    }
    this.sink.end();
  }
}

/** Sends RST rather than FIN. A no-op on a socket that is already destroyed. */
function reset(socket: Socket): void {
  if (!socket.destroyed) socket.resetAndDestroy();
}

/**
 * The inode of the TCP socket whose local end is `local` and remote end is
 * `remote`, from /proc/net/tcp, then /proc/net/tcp6 (a dual-stack socket that
 * dialled 127.0.0.1 shows there as ::ffff:127.0.0.1). undefined when there is
 * none: it closed meanwhile, or lives in another network namespace.
 */
async function socketInode(local: Endpoint, remote: Endpoint): Promise<number | undefined> {
  const tables = [
    { path: '/proc/net/tcp', family: 'ipv4' },
    { path: '/proc/net/tcp6', family: 'ipv4-mapped-ipv6' },
  ] as const;
  for (const { path, family } of tables) {
    const localHex = procfsEndpoint(local, family);
    const remoteHex = procfsEndpoint(remote, family);
    if (localHex === undefined || remoteHex === undefined) continue;
    let table: string;
    try {
      table = await readFile(path, 'utf8');
    } catch (error) {
      // Without IPv6 there is no tcp6 table, and no socket to find in it.
      if (family === 'ipv4-mapped-ipv6' && (error as NodeJS.ErrnoException).code === 'ENOENT') continue;
      throw error;
    }
    for (const line of table.split('\n').slice(1)) {
      // sl local_address rem_address st tx_queue:rx_queue tr:tm->when retrnsmt uid timeout inode ...
      const fields = line.trim().split(/\s+/);
      const inode = Number(fields[9]);
      // Inode 0: a TIME_WAIT leftover of an earlier connection with the same ports.
      if (fields[1] === localHex && fields[2] === remoteHex && inode > 0) return inode;
    }
  }
  return undefined;
}

/**
 * An IPv4 endpoint as procfs prints it: the address as 32-bit words in host
 * byte order, in hex, then the port in hex. 127.0.0.1:8080 on x86 is
 * "0100007F:1F90"; as IPv4-mapped IPv6, "0000000000000000FFFF00000100007F:1F90".
 * undefined for an address that is not IPv4 (plain or mapped).
 */
function procfsEndpoint(endpoint: Endpoint, family: 'ipv4' | 'ipv4-mapped-ipv6'): string | undefined {
  const dotted = endpoint.address.replace(/^::ffff:/i, '');
  const octets = dotted.split('.').map(Number);
  if (octets.length !== 4 || octets.some((octet) => !Number.isInteger(octet) || octet < 0 || octet > 255)) return undefined;
  const bytes = family === 'ipv4' ? octets : [...new Array<number>(10).fill(0), 0xff, 0xff, ...octets];
  let hex = '';
  for (let word = 0; word < bytes.length; word += 4) {
    const wordBytes = bytes.slice(word, word + 4);
    if (endianness() === 'LE') wordBytes.reverse();
    hex += wordBytes.map((byte) => byte.toString(16).padStart(2, '0')).join('');
  }
  return `${hex}:${endpoint.port.toString(16).padStart(4, '0')}`.toUpperCase();
}

/**
 * Whether process `pid` has socket `inode` open. false when the process is
 * gone or its descriptors are not ours to read (another user's process).
 */
async function processHoldsSocket(pid: number, inode: number): Promise<boolean> {
  const directory = `/proc/${pid}/fd`;
  let descriptors: string[];
  try {
    descriptors = await readdir(directory);
  } catch {
    return false;
  }
  const wanted = `socket:[${inode}]`;
  for (let start = 0; start < descriptors.length; start += readlinkBatchMax) {
    const batch = descriptors.slice(start, start + readlinkBatchMax);
    // A descriptor closed since readdir has no link any more: it is not the one.
    const links = await Promise.all(batch.map((descriptor) => readlink(`${directory}/${descriptor}`).catch(() => '')));
    if (links.includes(wanted)) return true;
  }
  return false;
}
