// A real cairn server inside the caller's process, as etcd's embed package
// gives Go programs one: for an application's own tests of its lock and
// election code, with no binary to find and no process to clean up.
//
//   const server = await startEmbeddedServer();
//   const client = new Client({ endpoints: [server.endpoint] });
//   …
//   client.close();
//   await server.stop();       // also removes the data directory it made
//
// It is the same server as the `cairn` binary (same storage, fsync, Raft,
// gRPC on a real port on 127.0.0.1), started from the same flags; only the
// process around it differs: nothing here installs signal or exception
// handlers or exits the process, and nothing is logged unless asked.
import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ConfigError, parseCommandLine } from './config.js';
import { silentLog, type Log } from './log.js';
import { startServer, type StartedServer } from './server.js';

export type { Log } from './log.js';

export interface EmbeddedServerOptions {
  /** Data directory; default a new one under the OS temp directory, removed by stop(). A given one is kept. */
  dataDir?: string;
  /** --name; default "default", as etcd. */
  name?: string;
  /** Any other etcd/cairn flags (`['--auth-token', 'simple', '--max-txn-ops', '256']`); the URL flags are set here. */
  flags?: readonly string[];
  /** Where the server logs (debug/info/warn/error with fields); default nowhere. */
  log?: Log;
}

export interface EmbeddedServer {
  /** host:port of the client URL, as SDK clients and etcdctl take it: `127.0.0.1:41234`. */
  readonly endpoint: string;
  /** `http://127.0.0.1:41234`. */
  readonly clientUrl: string;
  readonly dataDir: string;
  /** Resolves with the reason if the server stops on its own (a fatal storage error, removal from a cluster). */
  readonly ended: Promise<string>;
  /** Stops the server (open client calls fail as on a shutdown), then removes the data directory if it made it. Safe to call twice. */
  stop(): Promise<void>;
}

/** Tries with new ports when one was taken between choosing it and binding it. */
const portAttemptsMax = 5;

/**
 * Starts a single-member cairn on free ports of 127.0.0.1. Rejects with a
 * ConfigError (etcd's sentence) for flags that cannot be used, and with the
 * storage's error when the data directory cannot be opened.
 */
export async function startEmbeddedServer(options: EmbeddedServerOptions = {}): Promise<EmbeddedServer> {
  const ownsDataDir = options.dataDir === undefined;
  const dataDir = options.dataDir ?? (await mkdtemp(join(tmpdir(), 'cairn-embedded-')));
  try {
    for (let attempt = 1; ; attempt += 1) {
      try {
        return await startOnFreePorts(dataDir, ownsDataDir, options);
      } catch (error) {
        if (attempt === portAttemptsMax || !isAddressInUse(error)) throw error;
        // The failed start may have bootstrapped the directory for the ports it could not bind.
        if (ownsDataDir) await rm(dataDir, { recursive: true, force: true }).then(() => mkdir(dataDir));
      }
    }
  } catch (error) {
    if (ownsDataDir) await rm(dataDir, { recursive: true, force: true });
    throw error;
  }
}

async function startOnFreePorts(dataDir: string, ownsDataDir: boolean, options: EmbeddedServerOptions): Promise<EmbeddedServer> {
  const name = options.name ?? 'default';
  const clientUrl = `http://127.0.0.1:${await freePort()}`;
  const peerUrl = `http://127.0.0.1:${await freePort()}`;
  const parsed = parseCommandLine([
    '--name', name,
    '--data-dir', dataDir,
    '--listen-client-urls', clientUrl,
    '--advertise-client-urls', clientUrl,
    '--listen-peer-urls', peerUrl,
    '--initial-advertise-peer-urls', peerUrl,
    '--initial-cluster', `${name}=${peerUrl}`,
    ...(options.flags ?? []),
  ], {});
  if (parsed.kind !== 'run') throw new ConfigError(`embedded server: --${parsed.kind} asks for no server`);
  const server = await startServer(parsed.config, options.log ?? silentLog);
  return embedded(server, clientUrl, dataDir, ownsDataDir);
}

function embedded(server: StartedServer, clientUrl: string, dataDir: string, ownsDataDir: boolean): EmbeddedServer {
  let stopped: Promise<void> | undefined;
  return {
    endpoint: new URL(clientUrl).host,
    clientUrl,
    dataDir,
    ended: server.ended,
    stop() {
      stopped ??= server.stop().then(async () => {
        if (ownsDataDir) await rm(dataDir, { recursive: true, force: true });
      });
      return stopped;
    },
  };
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const probe = createServer();
    probe.on('error', reject);
    probe.listen(0, '127.0.0.1', () => {
      const address = probe.address();
      const port = typeof address === 'object' && address !== null ? address.port : 0;
      probe.close(() => resolve(port));
    });
  });
}

function isAddressInUse(error: unknown): boolean {
  return error instanceof Error && error.message.includes('EADDRINUSE');
}
