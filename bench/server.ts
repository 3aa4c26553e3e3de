// One target's server for one benchmark: started through the test launcher
// (the same way for cairn and etcd), registered for cleanup while it lives,
// and always stopped and removed before the benchmark moves on.
import { startCairn, startEtcd, type ServerHandle, type StartOptions } from '../test/harness/launcher.js';
import { onCleanup } from './cleanup.js';
import type { TargetKind } from './flags.js';

const serverOutputTailChars = 2_000;

function startServer(target: TargetKind, options: StartOptions): Promise<ServerHandle> {
  return target === 'etcd' ? startEtcd(options) : startCairn(options);
}

/**
 * Starts a fresh server for `target` (with the launcher's `options`: TLS,
 * extra flags), runs `measure` against it, and stops it whatever happens. A
 * failure carries the tail of the server's output.
 */
export async function withServer<T>(target: TargetKind, measure: (server: ServerHandle) => Promise<T>, options: StartOptions = {}): Promise<T> {
  const server = await startServer(target, options);
  // A graceful stop first, so a server run under a profiler (CAIRN_NODE_ARGS=--cpu-prof) writes its profile.
  const destroyServer = onCleanup(async () => {
    await server.stop();
    await server.destroy();
  });
  try {
    return await measure(server);
  } catch (error) {
    const tail = server.output().slice(-serverOutputTailChars);
    throw new Error(`${target}: ${(error as Error).message}\n--- ${target} output (last ${serverOutputTailChars} chars) ---\n${tail}`, { cause: error });
  } finally {
    await destroyServer();
  }
}

/** Rejects when `promise` has not settled within `timeoutMs`. */
export function within<T>(promise: Promise<T>, timeoutMs: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what}: no answer within ${timeoutMs} ms`)), timeoutMs);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}
