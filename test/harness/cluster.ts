// Multi-member clusters of real cairn or etcd processes on 127.0.0.1, for
// process-level tests and benchmarks. Both kinds get the same etcd flags from
// the same code; only the binary differs (see serverCommand in launcher.ts).
//
// Layout: one temporary root directory per cluster holds every member's data
// directory (root/m1, root/m2, ...); destroy() kills every process by PID,
// closes the fault network and removes the root.
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { credentials, Metadata, type ChannelCredentials } from '@grpc/grpc-js';
import { MaintenanceClient, StatusRequest, type StatusResponse } from '../../proto/gen/etcdserverpb/rpc.js';
import {
  etcdAvailable, freePort, isPortRace, peerTlsFlags, probeCredentials, retryingPortRace, serverCommand, spawnServer, tlsFlags, waitServing,
  type PeerTls, type Readiness, type ServerKind, type ServerProcess, type ServerTls,
} from './launcher.js';
import { FaultNetwork } from './peer-proxy.js';

export interface ClusterOptions {
  /** Number of members, 1 to clusterSizeMax (usually 1, 3 or 5). */
  size: number;
  /** Extra flags for every member, e.g. ['--snapshot-count', '100', '--heartbeat-interval', '100']. */
  args?: string[];
  /** Put a FaultNetwork proxy in front of every member's peer port. */
  faultNetwork?: boolean;
  /** --initial-cluster-token; default a random one per cluster. */
  token?: string;
  /** Serve clients over TLS: https:// client URLs with these flags, probed with its credentials. */
  clientTls?: ServerTls;
  /** Peers over TLS: https:// peer URLs with these flags, for every member. */
  peerTls?: PeerTls;
  /**
   * Fills the members' data directories before their first start (e.g. with
   * `cairn snapshot restore`). Called again, with new ports and directories,
   * when the cluster starts over after a port race.
   */
  seedDataDirs?: (seed: ClusterSeed) => Promise<void>;
}

/** What a data directory of a member of a new cluster is made for: the flags it will start with. */
export interface ClusterSeed {
  members: ReadonlyArray<{ name: string; dataDir: string; peerUrl: string }>;
  /** --initial-cluster of every member. */
  initialCluster: string;
  /** --initial-cluster-token of every member. */
  token: string;
}

export interface RestartOptions {
  /**
   * When restart() resolves (see Readiness in launcher.ts); default
   * 'linearizable'. A member of a cluster without quorum cannot answer a
   * linearizable Range. etcd serves no client at all until it has published
   * itself through a quorum, so for etcd without quorum only 'none' works.
   */
  waitReady?: Readiness;
}

export interface ClusterMember {
  /** m1, m2, ... */
  readonly name: string;
  /** host:port of the client URL, as etcdctl's --endpoints takes it. */
  readonly endpoint: string;
  readonly clientUrl: string;
  /** The advertised peer URL: the proxy's when the cluster has a fault network. */
  readonly peerUrl: string;
  readonly dataDir: string;
  /** PID of the current process (it changes on restart); -1 when not running. */
  pid(): number;
  running(): boolean;
  /** Everything this member's processes wrote to stdout and stderr, oldest process first. */
  output(): string;
  /** SIGKILL: a crash. The data directory is kept. */
  kill9(): Promise<void>;
  /** SIGTERM, then SIGKILL after a grace period; resolves with the exit code. */
  stop(): Promise<number | null>;
  /**
   * Starts the member again with the same flags (name, ports, data directory,
   * --initial-cluster-state; etcd ignores the initial-* flags once its data
   * directory exists). Throws when the member still runs; when it does not
   * become ready, the process is left running (destroy() ends it).
   */
  restart(options?: RestartOptions): Promise<void>;
  /** SIGSTOP: the process hangs with its sockets open. */
  pause(): void;
  /** SIGCONT. */
  resume(): void;
}

export interface Cluster {
  readonly kind: ServerKind;
  readonly members: ClusterMember[];
  readonly network: FaultNetwork | undefined;
  /** Every member's endpoint, running or not. */
  endpoints(): string[];
  /**
   * Asks every running member of `among` (default all) for Maintenance.Status
   * and resolves with the leader they all report, once every member that
   * answers names the same leader and that leader is one of them. Members that
   * do not answer within a second (killed, paused, cut off) are left out.
   * Retries until deadlineMs (default 10 s), then throws with what each said.
   */
  leader(deadlineMs?: number, among?: ClusterMember[]): Promise<ClusterMember>;
  /**
   * Starts a NEW member with --initial-cluster-state existing and the given
   * --initial-cluster; the caller has already run MemberAdd with the URL from
   * reservePeerUrl(name). Waits for a linearizable Range; the member is then
   * appended to members.
   */
  addMember(name: string, initialCluster: string, peerPort: number, extraArgs?: string[]): Promise<ClusterMember>;
  /** Allocates a peer port (and a proxy when the cluster has a fault network) for a member about to be added; peerUrl is what MemberAdd needs. */
  reservePeerUrl(name: string): Promise<{ peerUrl: string; peerPort: number }>;
  /** Credentials of the members' client URLs (plaintext unless the cluster has clientTls). */
  clientCredentials(): ChannelCredentials;
  /** Kills every process by PID, closes the fault network, removes every directory. Safe to call twice. */
  destroy(): Promise<void>;
}

const clusterSizeMax = 7;
const leaderDeadlineMsDefault = 10_000;
const statusTimeoutMs = 1_000;
const leaderPollMs = 100;
/** Flags the cluster sets for each member; passing them in args would contradict it. */
const flagsOwnedByCluster = [
  '--name', '--data-dir', '--listen-client-urls', '--advertise-client-urls', '--listen-peer-urls',
  '--initial-advertise-peer-urls', '--initial-cluster', '--initial-cluster-state', '--initial-cluster-token',
];

/**
 * For a describe block: starts a cluster of `kind` before its tests (skipped
 * when etcd is missing locally; CI fails then, see etcdAvailable) and
 * destroys it after them. The returned function gives the running cluster.
 */
export function clusterForSuite(kind: ServerKind, options: ClusterOptions, startMsMax: number): () => Cluster {
  let cluster: Cluster | undefined;
  before(async function () {
    this.timeout(startMsMax);
    // Scenarios compare with etcd and run etcdctl: both kinds need both binaries.
    if (!etcdAvailable()) this.skip();
    cluster = await startCluster(kind, options);
  });
  after(async () => {
    await cluster?.destroy();
  });
  return () => {
    if (cluster === undefined) throw new Error('the cluster did not start');
    return cluster;
  };
}

/**
 * Starts `size` members at once (none can elect a leader alone) and resolves
 * when every one answers a linearizable Range. On a port race the whole
 * cluster starts again on new ports, since every member's flags name every
 * peer URL.
 */
export async function startCluster(kind: ServerKind, options: ClusterOptions): Promise<Cluster> {
  validate(options);
  return retryingPortRace(() => startClusterOnce(kind, options));
}

function validate(options: ClusterOptions): void {
  if (!Number.isInteger(options.size) || options.size < 1 || options.size > clusterSizeMax) {
    throw new Error(`cluster size must be an integer from 1 to ${clusterSizeMax}, not ${options.size}`);
  }
  for (const flag of options.args ?? []) {
    const equals = flag.indexOf('=');
    const name = equals === -1 ? flag : flag.slice(0, equals);
    if (flagsOwnedByCluster.includes(name)) throw new Error(`${name} is set by the cluster for each member; it cannot be passed in args`);
  }
}

async function startClusterOnce(kind: ServerKind, options: ClusterOptions): Promise<Cluster> {
  const rootDir = mkdtempSync(join(tmpdir(), `${kind}-cluster-`));
  const token = options.token ?? `cluster-${randomBytes(6).toString('hex')}`;
  const cluster = new ProcessCluster(kind, rootDir, token, options.args ?? [], { client: options.clientTls, peer: options.peerTls });
  try {
    if (options.faultNetwork === true) cluster.network = await FaultNetwork.create();
    const names = Array.from({ length: options.size }, (_, index) => `m${index + 1}`);
    const peers: string[] = [];
    for (const name of names) peers.push(`${name}=${(await cluster.reservePeerUrl(name)).peerUrl}`);
    const members: ProcessMember[] = [];
    for (const name of names) members.push(await cluster.createMember(name, 'new', peers.join(','), []));
    const seed = members.map((member) => ({ name: member.name, dataDir: member.dataDir, peerUrl: member.peerUrl }));
    await options.seedDataDirs?.({ members: seed, initialCluster: peers.join(','), token });
    for (const member of members) member.start();
    await Promise.all(members.map((member) => member.waitReady('linearizable').catch(async (error: Error) => {
      // One member failed (e.g. a port race): end the others' waits at once.
      await Promise.all(members.map((other) => other.kill9()));
      throw new Error(`${member.name}: ${error.message}`);
    })));
    cluster.members.push(...members);
    return cluster;
  } catch (error) {
    await cluster.destroy();
    throw error;
  }
}

interface Reservation {
  peerPort: number;
  peerUrl: string;
}

interface MemberConfig {
  name: string;
  clientUrl: string;
  peerUrl: string;
  dataDir: string;
  flags: string[];
  probeCredentials: ChannelCredentials | undefined;
}

class ProcessCluster implements Cluster {
  readonly members: ProcessMember[] = [];
  network: FaultNetwork | undefined;
  /** Every member ever created, including those of a failed addMember attempt, so destroy() finds them all. */
  private readonly created: ProcessMember[] = [];
  /** Ports handed out so far: a killed member's ports are free for the OS but still belong to it. */
  private readonly usedPorts = new Set<number>();
  private readonly reservations = new Map<string, Reservation>();
  /** Raft member ID (decimal) → member, learned from Status headers. */
  private readonly memberIds = new Map<string, ProcessMember>();
  private destroyed = false;

  constructor(
    readonly kind: ServerKind,
    private readonly rootDir: string,
    private readonly token: string,
    private readonly args: string[],
    private readonly tls: { client: ServerTls | undefined; peer: PeerTls | undefined },
  ) {}

  clientCredentials(): ChannelCredentials {
    return this.tls.client === undefined ? credentials.createInsecure() : probeCredentials(this.tls.client);
  }

  private scheme(side: 'client' | 'peer'): string {
    return this.tls[side] === undefined ? 'http' : 'https';
  }

  endpoints(): string[] {
    return this.members.map((member) => member.endpoint);
  }

  async reservePeerUrl(name: string): Promise<Reservation> {
    if (this.reservations.has(name)) throw new Error(`a member named ${name} already exists in this cluster`);
    const peerPort = await this.allocatePort();
    let advertisedPort = peerPort;
    if (this.network !== undefined) {
      advertisedPort = await this.network.addMember(name, peerPort);
      this.usedPorts.add(advertisedPort);
    }
    const reservation = { peerPort, peerUrl: `${this.scheme('peer')}://127.0.0.1:${advertisedPort}` };
    this.reservations.set(name, reservation);
    return reservation;
  }

  /** Builds a member's flags on a new client port; does not start it. */
  async createMember(name: string, state: 'new' | 'existing', initialCluster: string, extraArgs: string[]): Promise<ProcessMember> {
    const reservation = this.reservations.get(name);
    if (reservation === undefined) throw new Error(`call reservePeerUrl('${name}') before starting member ${name}`);
    const clientUrl = `${this.scheme('client')}://127.0.0.1:${await this.allocatePort()}`;
    const dataDir = join(this.rootDir, name);
    const flags = [
      '--name', name,
      '--data-dir', dataDir,
      '--listen-client-urls', clientUrl,
      '--advertise-client-urls', clientUrl,
      '--listen-peer-urls', `${this.scheme('peer')}://127.0.0.1:${reservation.peerPort}`,
      '--initial-advertise-peer-urls', reservation.peerUrl,
      '--initial-cluster', initialCluster,
      '--initial-cluster-state', state,
      '--initial-cluster-token', this.token,
      ...(this.tls.client === undefined ? [] : tlsFlags(this.tls.client)),
      ...(this.tls.peer === undefined ? [] : peerTlsFlags(this.tls.peer)),
      ...this.args,
      ...extraArgs,
    ];
    const probe = this.tls.client === undefined ? undefined : this.clientCredentials();
    const member = new ProcessMember(this.kind, { name, clientUrl, peerUrl: reservation.peerUrl, dataDir, flags, probeCredentials: probe }, this.network);
    this.created.push(member);
    return member;
  }

  async addMember(name: string, initialCluster: string, peerPort: number, extraArgs: string[] = []): Promise<ClusterMember> {
    const reserved = this.reservations.get(name);
    if (reserved?.peerPort !== peerPort) throw new Error(`peer port ${peerPort} was not reserved for ${name}: call reservePeerUrl('${name}') first`);
    // The peer URL is fixed by MemberAdd; on a port race only the client port changes.
    const member = await retryingPortRace(async () => {
      const attempt = await this.createMember(name, 'existing', initialCluster, extraArgs);
      attempt.start();
      try {
        await attempt.waitReady('linearizable');
        return attempt;
      } catch (error) {
        await attempt.kill9();
        // A half-joined data directory would make the next attempt a restart.
        if (isPortRace(error)) rmSync(attempt.dataDir, { recursive: true, force: true });
        throw error;
      }
    });
    this.members.push(member);
    return member;
  }

  async leader(deadlineMs = leaderDeadlineMsDefault, among: ClusterMember[] = this.members): Promise<ClusterMember> {
    const asked = among.map((member) => this.own(member));
    const deadline = Date.now() + deadlineMs;
    for (;;) {
      const answers = await Promise.all(asked.map((member) => this.status(member)));
      const leader = agreedLeader(answers);
      if (leader !== undefined) return leader;
      if (Date.now() > deadline) {
        const said = answers.map(describeAnswer).join('; ');
        throw new Error(`no leader that every reachable member agrees on within ${deadlineMs} ms: ${said}`);
      }
      await new Promise((resolve) => setTimeout(resolve, leaderPollMs));
    }
  }

  async destroy(): Promise<void> {
    if (this.destroyed) return;
    this.destroyed = true;
    await Promise.all(this.created.map((member) => member.kill9()));
    await this.network?.close();
    rmSync(this.rootDir, { recursive: true, force: true });
  }

  /** A free port not yet handed to any member of this cluster. */
  private async allocatePort(): Promise<number> {
    for (;;) {
      const port = await freePort();
      if (this.usedPorts.has(port)) continue;
      this.usedPorts.add(port);
      return port;
    }
  }

  private own(member: ClusterMember): ProcessMember {
    if (!(member instanceof ProcessMember) || !this.members.includes(member)) throw new Error(`${member.name} is not a member of this cluster`);
    return member;
  }

  private async status(member: ProcessMember): Promise<StatusAnswer> {
    if (!member.running()) return { member, error: 'not running' };
    const client = new MaintenanceClient(member.endpoint, this.clientCredentials());
    try {
      const response = await new Promise<StatusResponse>((resolve, reject) => {
        client.status(StatusRequest.fromPartial({}), new Metadata(), { deadline: Date.now() + statusTimeoutMs }, (error, reply) => (error === null ? resolve(reply) : reject(error)));
      });
      const memberId = response.header?.memberId;
      if (memberId !== undefined) this.memberIds.set(memberId.toString(), member);
      return { member, response };
    } catch (error) {
      return { member, error: (error as Error).message };
    } finally {
      client.close();
    }
  }
}

type StatusAnswer = { member: ProcessMember; response: StatusResponse } | { member: ProcessMember; error: string };

/** The member every answering member names as leader, if they agree and it is among them. */
function agreedLeader(answers: StatusAnswer[]): ProcessMember | undefined {
  const responses = answers.flatMap((answer) => ('response' in answer ? [answer] : []));
  const first = responses[0];
  if (first === undefined) return undefined;
  const leaderId = first.response.leader;
  if (leaderId === 0n || responses.some((answer) => answer.response.leader !== leaderId)) return undefined;
  return responses.find((answer) => answer.response.header?.memberId === leaderId)?.member;
}

function describeAnswer(answer: StatusAnswer): string {
  if ('error' in answer) return `${answer.member.name}: ${answer.error}`;
  const { leader, raftTerm, header } = answer.response;
  return `${answer.member.name} (id ${header?.memberId.toString(16)}): leader ${leader.toString(16)}, term ${raftTerm}`;
}

class ProcessMember implements ClusterMember {
  readonly name: string;
  readonly clientUrl: string;
  readonly endpoint: string;
  readonly peerUrl: string;
  readonly dataDir: string;
  private readonly flags: string[];
  private readonly probeCredentials: ChannelCredentials | undefined;
  private server: ServerProcess | undefined;
  private earlierOutput = '';

  constructor(private readonly kind: ServerKind, config: MemberConfig, private readonly network: FaultNetwork | undefined) {
    this.name = config.name;
    this.clientUrl = config.clientUrl;
    this.endpoint = config.clientUrl.replace(/^https?:\/\//, '');
    this.peerUrl = config.peerUrl;
    this.dataDir = config.dataDir;
    this.flags = config.flags;
    this.probeCredentials = config.probeCredentials;
  }

  /** Spawns the process without waiting for it; the fault network learns its PID at once, before it talks to peers. */
  start(): void {
    if (this.running()) throw new Error(`${this.name} is still running (pid ${this.pid()}); kill9() or stop() it first`);
    if (this.server !== undefined) this.earlierOutput += this.server.output();
    const { command, args } = serverCommand(this.kind, this.flags);
    this.server = spawnServer({ kind: this.kind, command, args, clientUrl: this.clientUrl, dataDir: this.dataDir, ownsDir: false, probeCredentials: this.probeCredentials });
    // A failed spawn has no pid; its 'process exited' surfaces in waitReady.
    if (this.server.pid > 0) this.network?.setPid(this.name, this.server.pid);
  }

  waitReady(readiness: Readiness): Promise<void> {
    if (this.server === undefined) throw new Error(`${this.name} was never started`);
    return waitServing(this.server, readiness);
  }

  pid(): number {
    return this.server !== undefined && this.server.running() ? this.server.pid : -1;
  }

  running(): boolean {
    return this.server?.running() ?? false;
  }

  output(): string {
    return this.earlierOutput + (this.server?.output() ?? '');
  }

  async kill9(): Promise<void> {
    await this.server?.kill9();
  }

  async stop(): Promise<number | null> {
    return (await this.server?.stop()) ?? null;
  }

  async restart(options: RestartOptions = {}): Promise<void> {
    this.start();
    await this.waitReady(options.waitReady ?? 'linearizable');
  }

  pause(): void {
    this.signal('SIGSTOP');
  }

  resume(): void {
    this.signal('SIGCONT');
  }

  private signal(signal: NodeJS.Signals): void {
    const pid = this.pid();
    if (pid === -1) throw new Error(`${this.name} is not running; cannot send ${signal}`);
    process.kill(pid, signal);
  }
}
