// One launcher for every process-level test and benchmark: starts real cairn
// and etcd servers on 127.0.0.1, on free ports, in temporary directories, and
// always kills them by PID and removes their directories, even on failure.
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, existsSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { credentials, Metadata, type ChannelCredentials } from '@grpc/grpc-js';
import { KVClient, RangeRequest } from '../../proto/gen/etcdserverpb/rpc.js';

const here = dirname(fileURLToPath(import.meta.url));
/** Compiled server entry point (dist/server/main.js). */
export const cairnMain = join(here, '..', '..', 'server', 'main.js');

const readyTimeoutMs = 20_000;
const stopGraceMs = 5_000;

export type ServerKind = 'cairn' | 'etcd';

export interface ServerHandle {
  readonly kind: ServerKind;
  /** host:port of the client URL, as etcdctl's --endpoints takes it. */
  readonly endpoint: string;
  readonly clientUrl: string;
  readonly dataDir: string;
  readonly pid: number;
  /** Everything the process wrote to stdout and stderr so far. */
  output(): string;
  /** SIGTERM, then SIGKILL after a grace period; resolves with the exit code. */
  stop(): Promise<number | null>;
  /** SIGKILL at once: a crash. The data directory is kept. */
  kill9(): Promise<void>;
  /** Stops the process if it runs and removes its data directory (unless owned by the caller). */
  destroy(): Promise<void>;
}

const live = new Set<ChildProcess>();
process.on('exit', () => {
  for (const child of live) {
    try {
      if (child.pid !== undefined) process.kill(child.pid, 'SIGKILL');
    } catch {
      // Already gone.
    }
  }
});

/** A TCP port on 127.0.0.1 that was free a moment ago. */
export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.unref();
    server.on('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      if (address === null || typeof address === 'string') throw new Error('no port');
      server.close(() => resolve(address.port));
    });
  });
}

/** Path of the etcd binary, or undefined when it is not installed. */
export function etcdBinary(): string | undefined {
  return findBinary(process.env.ETCD_BIN ?? 'etcd');
}

/** Path of the etcdctl binary, or undefined when it is not installed. */
export function etcdctlBinary(): string | undefined {
  return findBinary(process.env.ETCDCTL_BIN ?? 'etcdctl');
}

function findBinary(name: string): string | undefined {
  if (name.includes('/')) return existsSync(name) ? name : undefined;
  const found = spawnSync('sh', ['-c', `command -v ${name}`], { encoding: 'utf8' });
  const path = found.stdout.trim();
  return found.status === 0 && path !== '' ? path : undefined;
}

/**
 * For tests that need real etcd: returns false (the caller skips) when etcd or
 * etcdctl is missing locally, and throws in CI, where its absence is a failure.
 */
export function etcdAvailable(): boolean {
  if (etcdBinary() !== undefined && etcdctlBinary() !== undefined) return true;
  const why = 'etcd and etcdctl are not installed (apt-get install -y etcd-server etcd-client)';
  if (process.env.CI === 'true') throw new Error(`${why}; CI must have them`);
  console.warn(`    skipped: ${why}`);
  return false;
}

/** As etcdAvailable, for tests that need etcdctl alone (against cairn). */
export function etcdctlAvailable(): boolean {
  if (etcdctlBinary() !== undefined) return true;
  const why = 'etcdctl is not installed (apt-get install -y etcd-client)';
  if (process.env.CI === 'true') throw new Error(`${why}; CI must have it`);
  console.warn(`    skipped: ${why}`);
  return false;
}

export interface StartOptions {
  /** Reuse this data directory (a restart); the caller then owns it. */
  dataDir?: string;
  /** Extra command-line flags. */
  args?: string[];
  name?: string;
  /** Client port to listen on (a restart on the same port); default a free one. */
  port?: number;
  /** etcd only: peer port (keep it across a restart); default a free one. */
  peerPort?: number;
  /** Environment variables added to the server's. */
  env?: Record<string, string>;
  /** cairn only: the entry point to run instead of this checkout's dist/server/main.js (another build, compared by bench/compare-builds.ts). */
  cairnMain?: string;
  /** Serve clients over TLS: an https:// client URL and etcd's TLS flags. */
  tls?: ServerTls;
  /** Listen for peers over TLS: an https:// peer URL and etcd's --peer-* flags. */
  peerTls?: PeerTls;
  /** Serve clients over TLS with a self-signed certificate: an https:// client URL and --auto-tls (the probe verifies nothing). */
  autoTls?: boolean;
  /**
   * When the start resolves (see Readiness); default 'linearizable'. A server
   * whose data directory has auth enabled answers no probe without a token:
   * start it with 'none' and wait with the caller's credentials.
   */
  waitReady?: Readiness;
}

/** The TLS flags of a server, and what the readiness probe shows it. */
export interface ServerTls {
  certFile: string;
  keyFile: string;
  trustedCaFile?: string;
  clientCertAuth?: boolean;
  /** The CA the probe trusts (the one that signed certFile), and its client certificate when the server asks for one (trustedCaFile). */
  probe: { caFile: string; certFile?: string; keyFile?: string };
}

/** The flags that give a server `tls`. */
export function tlsFlags(tls: ServerTls): string[] {
  return [
    '--cert-file', tls.certFile,
    '--key-file', tls.keyFile,
    ...(tls.trustedCaFile === undefined ? [] : ['--trusted-ca-file', tls.trustedCaFile]),
    ...(tls.clientCertAuth === true ? ['--client-cert-auth'] : []),
  ];
}

/** A member's peer TLS flags (etcd's --peer-*): its peer URLs are https:// when given. */
export interface PeerTls {
  certFile?: string;
  keyFile?: string;
  trustedCaFile?: string;
  clientCertAuth?: boolean;
  autoTls?: boolean;
}

/** The flags that give a member `peer` TLS. */
export function peerTlsFlags(peer: PeerTls): string[] {
  return [
    ...(peer.certFile === undefined ? [] : ['--peer-cert-file', peer.certFile]),
    ...(peer.keyFile === undefined ? [] : ['--peer-key-file', peer.keyFile]),
    ...(peer.trustedCaFile === undefined ? [] : ['--peer-trusted-ca-file', peer.trustedCaFile]),
    ...(peer.clientCertAuth === true ? ['--peer-client-cert-auth'] : []),
    ...(peer.autoTls === true ? ['--peer-auto-tls'] : []),
  ];
}

/** gRPC channel credentials that pass the probe of `tls`. */
export function probeCredentials(tls: ServerTls): ChannelCredentials {
  const { caFile, certFile, keyFile } = tls.probe;
  return credentials.createSsl(
    readFileSync(caFile),
    keyFile === undefined ? null : readFileSync(keyFile),
    certFile === undefined ? null : readFileSync(certFile),
  );
}

/** Attempts at starting a server when its port was taken between choosing and binding it. */
const portRaceAttemptsMax = 3;

/** True when a start failed because a port it chose was taken before it could bind it. */
export function isPortRace(error: unknown): boolean {
  return /address already in use/i.test((error as Error).message);
}

/**
 * A port found free can be taken by another process before the server binds
 * it (tests run beside other work on the machine): start again on new ports.
 * `start` must choose new ports on every call.
 */
export async function retryingPortRace<T>(start: () => Promise<T>): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await start();
    } catch (error) {
      if (attempt >= portRaceAttemptsMax || !isPortRace(error)) throw error;
    }
  }
}

export function startCairn(options: StartOptions = {}): Promise<ServerHandle> {
  return retryingPortRace(() => startOnce('cairn', options));
}

export function startEtcd(options: StartOptions = {}): Promise<ServerHandle> {
  return retryingPortRace(() => startOnce('etcd', options));
}

/**
 * The command line that runs a server of `kind` with etcd-style `flags`. This
 * is the only place the two kinds differ: the binary, and etcd's log level
 * (first, so that a `--log-level` in `flags` wins).
 */
export function serverCommand(kind: ServerKind, flags: string[], main: string = cairnMain): { command: string; args: string[] } {
  if (kind === 'etcd') {
    const binary = etcdBinary();
    if (binary === undefined) throw new Error('etcd is not installed');
    return { command: binary, args: ['--log-level', 'warn', ...flags] };
  }
  // CAIRN_NODE_ARGS passes flags to node itself, e.g. "--cpu-prof --cpu-prof-dir=/tmp/prof" to profile the server.
  const nodeArgs = (process.env.CAIRN_NODE_ARGS ?? '').split(' ').filter((arg) => arg !== '');
  return { command: process.execPath, args: [...nodeArgs, main, ...flags] };
}

/**
 * One single-member server: a one-member cluster on a free peer port (both
 * kinds listen for peers even alone, 2380 by default, which parallel tests
 * must not share).
 */
async function startOnce(kind: ServerKind, options: StartOptions): Promise<ServerHandle> {
  const clientPort = options.port ?? await freePort();
  const url = `${options.tls === undefined && options.autoTls !== true ? 'http' : 'https'}://127.0.0.1:${clientPort}`;
  const name = options.name ?? 'default';
  const dataDir = options.dataDir ?? join(mkdtempSync(join(tmpdir(), `${kind}-test-`)), 'data');
  const flags = [
    '--name', name,
    '--data-dir', dataDir,
    '--listen-client-urls', url,
    '--advertise-client-urls', url,
  ];
  const peerUrl = `${options.peerTls === undefined ? 'http' : 'https'}://127.0.0.1:${options.peerPort ?? await freePort()}`;
  flags.push('--listen-peer-urls', peerUrl, '--initial-advertise-peer-urls', peerUrl, '--initial-cluster', `${name}=${peerUrl}`);
  if (options.tls !== undefined) flags.push(...tlsFlags(options.tls));
  if (options.peerTls !== undefined) flags.push(...peerTlsFlags(options.peerTls));
  if (options.autoTls === true) flags.push('--auto-tls');
  const { command, args } = serverCommand(kind, [...flags, ...(options.args ?? [])], options.cairnMain);
  return launch({
    kind, command, args, clientUrl: url, dataDir, ownsDir: options.dataDir === undefined, env: options.env, readiness: options.waitReady,
    probeCredentials: options.autoTls === true
      ? credentials.createSsl(null, null, null, { rejectUnauthorized: false })
      : options.tls === undefined ? undefined : probeCredentials(options.tls),
  });
}

/**
 * When a started server counts as serving:
 * - 'linearizable': a linearizable Range answers (a leader was elected and the member reaches it);
 * - 'serializable': a serializable Range answers (the member serves from its own state, no leader needed);
 * - 'none': the process is still alive a short moment after it was spawned.
 */
export type Readiness = 'linearizable' | 'serializable' | 'none';

export interface LaunchOptions {
  kind: ServerKind;
  command: string;
  args: string[];
  clientUrl: string;
  dataDir: string;
  /** Whether destroy() removes dirname(dataDir). */
  ownsDir: boolean;
  /** Environment variables added to the server's. */
  env?: Record<string, string>;
  /** cairn only: the entry point to run instead of this checkout's dist/server/main.js (another build, compared by bench/compare-builds.ts). */
  cairnMain?: string;
  /** Credentials of the readiness probe; default plaintext. */
  probeCredentials?: ChannelCredentials;
  /** When launch() resolves; default 'linearizable'. */
  readiness?: Readiness;
}

/** A ServerHandle that also tells whether its process still runs. */
export interface ServerProcess extends ServerHandle {
  /** Credentials of the readiness probe; undefined for plaintext. */
  readonly probeCredentials: ChannelCredentials | undefined;
  /** Resolves with the exit code once the process has exited. */
  readonly exited: Promise<number | null>;
  running(): boolean;
}

/** Spawns a server and waits until it is ready as options.readiness says; on failure it is destroyed and the error carries its output. */
export async function launch(options: LaunchOptions): Promise<ServerProcess> {
  const server = spawnServer(options);
  try {
    await waitServing(server, options.readiness ?? 'linearizable');
  } catch (error) {
    await server.destroy();
    throw error;
  }
  return server;
}

/**
 * Spawns a server without waiting for it (the members of a new cluster must
 * all run before any of them can answer). The process joins `live`, so it is
 * SIGKILLed when this process exits.
 */
export function spawnServer(options: LaunchOptions): ServerProcess {
  const { kind, command, args, clientUrl, dataDir, ownsDir } = options;
  const child = spawn(command, args, { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, ETCDCTL_API: '3', ...options.env } });
  live.add(child);
  let output = '';
  child.stdout?.on('data', (chunk: Buffer) => (output += chunk.toString()));
  child.stderr?.on('data', (chunk: Buffer) => (output += chunk.toString()));
  // 'error' (e.g. the binary is missing) comes instead of 'exit' when nothing was spawned.
  const exited = new Promise<number | null>((resolve) => {
    child.on('exit', (code) => resolve(code));
    child.on('error', (error) => {
      output += `${error.message}\n`;
      if (child.pid === undefined) resolve(null);
    });
  });
  void exited.then(() => live.delete(child));
  const running = () => child.pid !== undefined && child.exitCode === null && child.signalCode === null;
  const server: ServerProcess = {
    probeCredentials: options.probeCredentials,
    kind,
    endpoint: clientUrl.replace(/^https?:\/\//, ''),
    clientUrl,
    dataDir,
    pid: child.pid ?? -1,
    exited,
    running,
    output: () => output,
    async stop() {
      if (!running()) return child.exitCode;
      child.kill('SIGTERM');
      // A paused (SIGSTOPped) process would hold SIGTERM until resumed.
      child.kill('SIGCONT');
      const timer = setTimeout(() => child.kill('SIGKILL'), stopGraceMs);
      const code = await exited;
      clearTimeout(timer);
      return code;
    },
    async kill9() {
      if (!running()) return;
      child.kill('SIGKILL');
      await exited;
    },
    async destroy() {
      await server.kill9();
      if (ownsDir) rmSync(dirname(dataDir), { recursive: true, force: true });
    },
  };
  return server;
}

/** Resolves true once process `pid` has exited, false if it still runs after `timeoutMs`. */
export async function waitPidExit(pid: number, timeoutMs: number): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      process.kill(pid, 0);
    } catch {
      return true;
    }
    if (Date.now() > deadline) return false;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

/** How long 'none' readiness watches a new process before calling it alive. */
const aliveCheckMs = 300;
/** Deadline of each readiness probe. */
const probeTimeoutMs = 1_000;
const probePauseMs = 50;

/**
 * Waits until `server` is ready as `readiness` says, for up to 20 s. Throws
 * (without stopping the server) when it exits first or the time runs out; the
 * message carries the server's output, so a port race can be recognised.
 */
export async function waitServing(server: ServerProcess, readiness: Readiness): Promise<void> {
  try {
    if (readiness === 'none') await waitAlive(server);
    else await waitRange(server, readiness === 'serializable');
  } catch (error) {
    throw new Error(`${server.kind} did not become ready: ${(error as Error).message}\n${server.output()}`);
  }
}

async function waitAlive(server: ServerProcess): Promise<void> {
  await Promise.race([server.exited, new Promise((resolve) => setTimeout(resolve, aliveCheckMs))]);
  if (!server.running()) throw new Error('process exited');
}

async function waitRange(server: ServerProcess, serializable: boolean): Promise<void> {
  const deadline = Date.now() + readyTimeoutMs;
  const client = new KVClient(server.endpoint, server.probeCredentials ?? credentials.createInsecure());
  const request = RangeRequest.fromPartial({ key: Buffer.from('health'), serializable });
  try {
    for (;;) {
      if (!server.running()) throw new Error('process exited');
      const ok = await new Promise<boolean>((resolve) => {
        client.range(request, new Metadata(), { deadline: Date.now() + probeTimeoutMs }, (error) => resolve(error === null));
      });
      if (ok) return;
      if (Date.now() > deadline) throw new Error(`no answer within ${readyTimeoutMs} ms`);
      await new Promise((resolve) => setTimeout(resolve, probePauseMs));
    }
  } finally {
    client.close();
  }
}
