// One launcher for every process-level test and benchmark: starts real cairn
// and etcd servers on 127.0.0.1, on free ports, in temporary directories, and
// always kills them by PID and removes their directories, even on failure.
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, existsSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { credentials, Metadata } from '@grpc/grpc-js';
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
}

/** Attempts at starting a server when its port was taken between choosing and binding it. */
const portRaceAttemptsMax = 3;

/**
 * A port found free can be taken by another process before the server binds
 * it (tests run beside other work on the machine): start again on new ports.
 */
async function retryingPortRace(start: () => Promise<ServerHandle>): Promise<ServerHandle> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await start();
    } catch (error) {
      if (attempt >= portRaceAttemptsMax || !/address already in use/i.test((error as Error).message)) throw error;
    }
  }
}

export function startCairn(options: StartOptions = {}): Promise<ServerHandle> {
  return retryingPortRace(() => startCairnOnce(options));
}

export function startEtcd(options: StartOptions = {}): Promise<ServerHandle> {
  return retryingPortRace(() => startEtcdOnce(options));
}

async function startCairnOnce(options: StartOptions): Promise<ServerHandle> {
  const port = options.port ?? await freePort();
  const url = `http://127.0.0.1:${port}`;
  const dataDir = options.dataDir ?? join(mkdtempSync(join(tmpdir(), 'cairn-test-')), 'data');
  // CAIRN_NODE_ARGS passes flags to node itself, e.g. "--cpu-prof --cpu-prof-dir=/tmp/prof" to profile the server.
  const nodeArgs = (process.env.CAIRN_NODE_ARGS ?? '').split(' ').filter((arg) => arg !== '');
  const args = [
    ...nodeArgs,
    cairnMain,
    '--name', options.name ?? 'default',
    '--data-dir', dataDir,
    '--listen-client-urls', url,
    '--advertise-client-urls', url,
    ...(options.args ?? []),
  ];
  return launch('cairn', process.execPath, args, url, dataDir, options.dataDir === undefined);
}

async function startEtcdOnce(options: StartOptions): Promise<ServerHandle> {
  const binary = etcdBinary();
  if (binary === undefined) throw new Error('etcd is not installed');
  const clientPort = options.port ?? await freePort();
  const peerPort = options.peerPort ?? await freePort();
  const url = `http://127.0.0.1:${clientPort}`;
  const peerUrl = `http://127.0.0.1:${peerPort}`;
  const name = options.name ?? 'default';
  const dataDir = options.dataDir ?? join(mkdtempSync(join(tmpdir(), 'etcd-test-')), 'data');
  const args = [
    '--name', name,
    '--data-dir', dataDir,
    '--listen-client-urls', url,
    '--advertise-client-urls', url,
    '--listen-peer-urls', peerUrl,
    '--initial-advertise-peer-urls', peerUrl,
    '--initial-cluster', `${name}=${peerUrl}`,
    '--log-level', 'warn',
    ...(options.args ?? []),
  ];
  return launch('etcd', binary, args, url, dataDir, options.dataDir === undefined);
}

async function launch(
  kind: ServerKind,
  command: string,
  args: string[],
  clientUrl: string,
  dataDir: string,
  ownsDir: boolean,
): Promise<ServerHandle> {
  const child = spawn(command, args, { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, ETCDCTL_API: '3' } });
  live.add(child);
  let output = '';
  child.stdout?.on('data', (chunk: Buffer) => (output += chunk.toString()));
  child.stderr?.on('data', (chunk: Buffer) => (output += chunk.toString()));
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => {
    live.delete(child);
    resolve(code);
  }));
  const endpoint = clientUrl.replace('http://', '');
  const handle: ServerHandle = {
    kind,
    endpoint,
    clientUrl,
    dataDir,
    pid: child.pid ?? -1,
    output: () => output,
    async stop() {
      if (child.exitCode !== null || child.signalCode !== null) return child.exitCode;
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), stopGraceMs);
      const code = await exited;
      clearTimeout(timer);
      return code;
    },
    async kill9() {
      if (child.exitCode !== null || child.signalCode !== null) return;
      child.kill('SIGKILL');
      await exited;
    },
    async destroy() {
      await handle.kill9();
      if (ownsDir) rmSync(dirname(dataDir), { recursive: true, force: true });
    },
  };
  try {
    await waitReady(endpoint, exited);
  } catch (error) {
    await handle.destroy();
    throw new Error(`${kind} did not become ready: ${(error as Error).message}\n${output}`);
  }
  return handle;
}

/** Ready means a linearizable Range answers (for etcd: a leader was elected). */
async function waitReady(endpoint: string, exited: Promise<number | null>): Promise<void> {
  let gone = false;
  void exited.then(() => (gone = true));
  const deadline = Date.now() + readyTimeoutMs;
  const client = new KVClient(endpoint, credentials.createInsecure());
  try {
    for (;;) {
      if (gone) throw new Error('process exited');
      const ok = await new Promise<boolean>((resolve) => {
        client.range(RangeRequest.fromPartial({ key: Buffer.from('health') }), new Metadata(), { deadline: Date.now() + 1000 }, (error) => resolve(error === null));
      });
      if (ok) return;
      if (Date.now() > deadline) throw new Error(`no answer within ${readyTimeoutMs} ms`);
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
  } finally {
    client.close();
  }
}
