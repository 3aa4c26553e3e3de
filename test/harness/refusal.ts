// A server started only to see it refuse its flags: it runs in a temporary
// directory until it exits (or is killed after a deadline), then the
// directory is removed. Tells the exit code, what it printed and whether it
// created its data directory before exiting.
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { serverCommand, spawnServer, type ServerKind } from './launcher.js';

export interface Refusal {
  code: number | null;
  output: string;
  dataDirCreated: boolean;
}

/** How long a server that should refuse its flags may run before it is killed (its exit code is then null). */
const refusalDeadlineMs = 15_000;

/** Runs a server of `kind` with `flags(dataDir)` (and `env`) until it exits; `clientUrl` is what it would serve. */
export async function runUntilRefused(kind: ServerKind, clientUrl: string, flags: (dataDir: string) => string[], env?: Record<string, string>): Promise<Refusal> {
  const dir = mkdtempSync(join(tmpdir(), `${kind}-refusal-`));
  const dataDir = join(dir, 'data');
  const { command, args } = serverCommand(kind, ['--data-dir', dataDir, ...flags(dataDir)]);
  const server = spawnServer({ kind, command, args, clientUrl, dataDir, ownsDir: true, ...(env === undefined ? {} : { env }) });
  try {
    const timer = setTimeout(() => void server.kill9(), refusalDeadlineMs);
    const code = await server.exited;
    clearTimeout(timer);
    return { code, output: server.output(), dataDirCreated: existsSync(dataDir) };
  } finally {
    await server.destroy();
    rmSync(dir, { recursive: true, force: true });
  }
}
