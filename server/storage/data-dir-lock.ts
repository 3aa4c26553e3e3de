// One process per data directory. Two members writing the same WAL and
// backend would hand out the same revisions and lose acknowledged writes, so
// a member takes an exclusive lock on a file in its data directory before it
// reads anything there, and holds it until it stops. The lock is the
// kernel's (a POSIX record lock, through os-lock): it goes with the process,
// so a member killed with SIGKILL leaves nothing stale behind.
//
// As etcd (whose backend waits on its db file's flock), a second process
// waits for the first to exit rather than failing; it says so at once and
// again while it waits, naming the holder's PID.
import type { Log } from '../log.js';
import { closeSync, ftruncateSync, openSync, readFileSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { lock } from 'os-lock';
import type { Clock } from '../clock.js';

export const lockFileName = 'cairn.lock';
/** How often a member waiting for the lock says it still waits. */
const waitingLogIntervalMs = 10_000;

export interface DataDirLock {
  readonly path: string;
  /** Lets the next process in. Idempotent. */
  release(): void;
}

/**
 * Locks `memberDir` (which must exist) for this process, waiting while
 * another process holds it. The lock file then holds this process's PID.
 */
export async function lockDataDir(memberDir: string, log: Log, clock: Clock): Promise<DataDirLock> {
  const path = join(memberDir, lockFileName);
  const fd = openSync(path, 'a+');
  try {
    if (!(await tryLock(fd))) await waitForLock(fd, path, log, clock);
    ftruncateSync(fd, 0);
    writeSync(fd, `${process.pid}\n`);
  } catch (error) {
    closeSync(fd);
    throw error;
  }
  let held = true;
  return {
    path,
    release() {
      if (!held) return;
      held = false;
      closeSync(fd); // closing the descriptor drops the lock
    },
  };
}

async function tryLock(fd: number): Promise<boolean> {
  try {
    await lock(fd, { exclusive: true, immediate: true });
    return true;
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'EAGAIN' || code === 'EACCES') return false;
    throw error;
  }
}

async function waitForLock(fd: number, path: string, log: Log, clock: Clock): Promise<void> {
  const say = (): void => log.warn(`data dir is in use: ${path} is locked by ${holderOf(path)}; waiting for it to exit`);
  say();
  const reminder = clock.every(waitingLogIntervalMs, say);
  try {
    await lock(fd, { exclusive: true });
  } finally {
    reminder.cancel();
  }
}

function holderOf(path: string): string {
  const pid = readFileSync(path, 'utf8').trim();
  return /^[0-9]+$/.test(pid) ? `process ${pid}` : 'another process';
}
