// What a member asks of the kernel, traced with strace from its first
// instruction to its exit: the system calls a seccomp allow-list such as
// the unit's SystemCallFilter= must let through.
//
// strace is the launched process and the member its child. SIGTERM goes to
// the member itself (strace, signalled, would detach and leave it running),
// and cleanup SIGKILLs strace's children by PID before strace.
import { mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { cairnMain, freePort, retryingPortRace, spawnServer, waitPidExit, waitServing, type ServerProcess } from '../harness/launcher.js';

export interface TracedMember {
  server: ServerProcess;
  /** SIGTERM to the member; resolves with its exit code, which strace passes on. */
  stop(): Promise<number | null>;
  /** The names of the system calls made so far (complete once stopped). */
  syscalls(): Set<string>;
  /** Kills the member and strace by PID and removes the directory. */
  destroy(): Promise<void>;
}

/** The PIDs of `pid`'s children (Linux's /proc/<pid>/task/<tid>/children). */
function childrenOf(pid: number): number[] {
  try {
    return readdirSync(`/proc/${pid}/task`).flatMap((task) => readFileSync(`/proc/${pid}/task/${task}/children`, 'utf8').trim().split(/\s+/).filter((word) => word !== '').map(Number));
  } catch {
    return [];
  }
}

/** One single-member cluster under `strace -f`, ready when it answers a linearizable read. */
export function startTracedMember(strace: string): Promise<TracedMember> {
  return retryingPortRace(() => startTracedOnce(strace));
}

async function startTracedOnce(strace: string): Promise<TracedMember> {
  const root = mkdtempSync(join(tmpdir(), 'cairn-syscalls-'));
  const traceFile = join(root, 'trace');
  const dataDir = join(root, 'data');
  const clientUrl = `http://127.0.0.1:${await freePort()}`;
  const peerUrl = `http://127.0.0.1:${await freePort()}`;
  const flags = ['--name', 'traced', '--data-dir', dataDir, '--listen-client-urls', clientUrl, '--advertise-client-urls', clientUrl, '--listen-peer-urls', peerUrl, '--initial-advertise-peer-urls', peerUrl, '--initial-cluster', `traced=${peerUrl}`];
  let server: ServerProcess | undefined;
  const killMember = (): void => {
    if (server === undefined) return;
    for (const child of childrenOf(server.pid)) {
      try {
        process.kill(child, 'SIGKILL');
      } catch {
        // Already gone.
      }
    }
  };
  const destroy = async (): Promise<void> => {
    killMember();
    await server?.destroy();
    rmSync(root, { recursive: true, force: true });
  };
  try {
    server = spawnServer({ kind: 'cairn', command: strace, args: ['-f', '-qq', '-o', traceFile, '--', process.execPath, cairnMain, ...flags], clientUrl, dataDir, ownsDir: false });
    await waitServing(server, 'linearizable');
  } catch (error) {
    await destroy();
    throw error;
  }
  const started = server;
  return {
    server: started,
    async stop() {
      const [member] = childrenOf(started.pid);
      if (member === undefined) throw new Error('strace has no child to stop');
      process.kill(member, 'SIGTERM');
      const code = await started.exited;
      await waitPidExit(member, 5_000);
      return code;
    },
    syscalls: () => syscallNames(readFileSync(traceFile, 'utf8')),
    destroy,
  };
}

/** The call names of an strace -f log: "123 openat(…) = 3" and "123 <... read resumed>…". */
export function syscallNames(trace: string): Set<string> {
  const names = new Set<string>();
  for (const line of trace.split('\n')) {
    const call = /^\d+\s+([a-z_0-9]+)\(/.exec(line)?.[1] ?? /^\d+\s+<\.\.\. ([a-z_0-9]+) resumed>/.exec(line)?.[1];
    if (call !== undefined) names.add(call);
  }
  return names;
}
