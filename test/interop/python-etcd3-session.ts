// Runs one area of python-etcd3's session (python-etcd3/session.py) against
// one server and hands back what it printed. The client is Debian's
// python3-etcd3 (0.12.0), a gRPC client of its own (grpcio, its own copy of
// etcd's protos, its own lock recipe), so the tests beside this file check
// cairn's gRPC API through a second, independent implementation.
import { expect } from 'chai';
import { spawnSync } from 'node:child_process';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { runCommand } from '../harness/command.js';
import type { PairSide } from '../compat/pair.js';

/** The script sits in the source tree; the compiled test runs from dist/test/interop. */
const script = join(dirname(fileURLToPath(import.meta.url)), '..', '..', '..', 'test', 'interop', 'python-etcd3', 'session.py');
/** The longest area (leases, locks: a lease expiry each) takes about 3 s. */
export const sessionTimeoutMs = 30_000;

export type PythonArea = 'keys' | 'transactions' | 'leases' | 'watches' | 'locks' | 'compaction' | 'maintenance' | 'alarms' | 'auth';

/** What session.py prints: the store's revision when it started, and each step's normalised result. */
export interface SessionOutput {
  base: number;
  results: Record<string, unknown>;
}

/** A Python that imports etcd3: Debian's package installs it for the system's python3, which a PATH python3 may not be. */
function pythonWithEtcd3(): string | undefined {
  for (const python of ['/usr/bin/python3', 'python3']) {
    const probe = spawnSync(python, ['-c', 'import etcd3'], { stdio: 'ignore' });
    if (probe.status === 0) return python;
  }
  return undefined;
}

/**
 * Registers a before hook that finds the Python to run the session with:
 * skips the describe block when python3-etcd3 is missing locally, fails it
 * in CI. Returns a getter for the Python found.
 */
export function requirePythonEtcd3(): () => string {
  let python: string | undefined;
  before(function () {
    python = pythonWithEtcd3();
    if (python !== undefined) return;
    const why = 'python3 with etcd3 is not installed (apt-get install -y python3-etcd3)';
    if (process.env.CI === 'true') throw new Error(`${why}; CI must have it`);
    console.warn(`    skipped: ${why}`);
    this.skip();
  });
  return () => {
    if (python === undefined) throw new Error('no python3 with etcd3');
    return python;
  };
}

/** Runs `area` against `side`'s server with `flags` (--ca-cert, --user, --snapshot); fails the test if the session fails. */
export async function runArea(python: string, area: PythonArea, side: PairSide, flags: string[] = []): Promise<SessionOutput> {
  // PYTHONDONTWRITEBYTECODE: the session's modules sit in the source tree, which a run leaves as it was.
  const result = await runCommand(python, [script, area, side.server.endpoint, ...flags], { timeoutMs: sessionTimeoutMs, env: { PYTHONDONTWRITEBYTECODE: '1' } });
  expect(result.code, `python-etcd3 ${area} on ${side.name}: ${result.stderr}`).to.equal(0);
  return JSON.parse(result.stdout) as SessionOutput;
}
