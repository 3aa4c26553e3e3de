// Long-running etcdctl processes (watch, lock, elect) — or other client
// programs (startCommand) — for process-level tests: started in the
// background, observed through their output, and always killed by PID — a
// test registers one EtcdctlProcesses per describe block and calls killAll()
// in an after/afterEach hook.
//
// Each etcdctl is started as the leader of its own process group, so that
// killAll() also ends what it started (`etcdctl lock NAME -- sh -c ...`
// runs a shell that would otherwise outlive a kill -9 of etcdctl).
import { spawn, type ChildProcess } from 'node:child_process';
import { basename } from 'node:path';
import { etcdctlBinary } from '../harness/launcher.js';

/** Process groups started and not yet killed: killed when the test process exits, even if no hook ran. */
const liveGroups = new Set<number>();
process.on('exit', () => {
  for (const pid of liveGroups) killGroup(pid);
});

function killGroup(pid: number): void {
  try {
    process.kill(-pid, 'SIGKILL');
  } catch {
    // The whole group is gone already.
  }
}

/** How long a test waits for a process to print what it expects before failing. */
const outputWaitMsDefault = 10_000;
const pollIntervalMs = 25;

export interface EtcdctlExit {
  code: number | null;
  signal: NodeJS.Signals | null;
}

export interface BackgroundEtcdctl {
  readonly pid: number;
  readonly args: readonly string[];
  /** Everything printed on stdout so far. */
  stdout(): string;
  stderr(): string;
  /** Writes to stdin (for `watch -i`); stdin stays open until the process ends or closeStdin(). */
  write(text: string): void;
  /** Ends stdin: a program that reads it to its end sees end-of-file. */
  closeStdin(): void;
  /** True once the process has exited and its output is drained. */
  exited(): boolean;
  /**
   * Resolves when the process has exited and its output is drained. (A
   * command it started that still runs holds the output open: after a kill -9
   * of `etcdctl lock ... -- cmd`, wait for `exit` instead.)
   */
  readonly closed: Promise<EtcdctlExit>;
  /** Resolves when the etcdctl process itself has exited. */
  readonly exit: Promise<EtcdctlExit>;
  /** Resolves once `predicate(stdout)` holds; rejects after `timeoutMs`, naming what was printed. */
  waitForStdout(predicate: (stdout: string) => boolean, what: string, timeoutMs?: number): Promise<void>;
  /** Sends a signal to etcdctl only (not its process group) and waits until etcdctl itself has exited. */
  signal(signal: NodeJS.Signals): Promise<EtcdctlExit>;
}

export interface BackgroundOptions {
  /** Extra environment variables for etcdctl and what it runs. */
  env?: Record<string, string>;
  cwd?: string;
}

/** The etcdctl processes one describe block started; killAll() ends every one of them. */
export class EtcdctlProcesses {
  private readonly running = new Set<ChildProcess>();

  start(endpoint: string, args: string[], options: BackgroundOptions = {}): BackgroundEtcdctl {
    const binary = etcdctlBinary();
    if (binary === undefined) throw new Error('etcdctl is not installed');
    return this.startCommand(binary, [`--endpoints=${endpoint}`, ...args], { ...options, env: { ETCDCTL_API: '3', ...options.env } }, args);
  }

  /**
   * Starts `command` with `args` the same way (own process group, output
   * captured, killed by killAll()). `shownArgs` are the arguments errors name
   * (default `args`).
   */
  startCommand(command: string, args: string[], options: BackgroundOptions = {}, shownArgs: readonly string[] = args): BackgroundEtcdctl {
    const program = basename(command);
    const child = spawn(command, args, {
      stdio: ['pipe', 'pipe', 'pipe'],
      env: { ...process.env, ...options.env },
      cwd: options.cwd,
      detached: true,
    });
    if (child.pid === undefined) throw new Error(`${program} ${shownArgs.join(' ')} did not start`);
    this.running.add(child);
    liveGroups.add(child.pid);
    let stdout = '';
    let stderr = '';
    let isClosed = false;
    child.stdout?.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
    child.stderr?.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    child.stdin?.on('error', () => undefined);
    // 'close', not 'exit': output is drained only at 'close'.
    const closed = new Promise<EtcdctlExit>((resolve) => child.on('close', (code, signal) => {
      isClosed = true;
      resolve({ code, signal });
    }));
    const exit = new Promise<EtcdctlExit>((resolve) => child.on('exit', (code, signal) => resolve({ code, signal })));
    const pid = child.pid;
    return {
      pid,
      args: shownArgs,
      stdout: () => stdout,
      stderr: () => stderr,
      write: (text) => child.stdin?.write(text),
      closeStdin: () => child.stdin?.end(),
      exited: () => isClosed,
      closed,
      exit,
      async waitForStdout(predicate, what, timeoutMs = outputWaitMsDefault) {
        const deadline = Date.now() + timeoutMs;
        while (!predicate(stdout)) {
          if (Date.now() > deadline || isClosed) {
            const state = isClosed ? 'exited' : `still running after ${timeoutMs} ms`;
            throw new Error(`${program} ${shownArgs.join(' ')}: ${state} without printing ${what}\nstdout: ${stdout}\nstderr: ${stderr}`);
          }
          await sleep(pollIntervalMs);
        }
      },
      async signal(signal) {
        if (child.exitCode === null && child.signalCode === null) child.kill(signal);
        return exit;
      },
    };
  }

  /** SIGKILLs every process group started here that may still hold a process, and waits for each etcdctl to close. */
  async killAll(): Promise<void> {
    const children = [...this.running];
    this.running.clear();
    for (const child of children) {
      if (child.pid === undefined) continue;
      killGroup(child.pid);
      liveGroups.delete(child.pid);
    }
    await Promise.all(children.map((child) => new Promise<void>((resolve) => {
      if (child.exitCode !== null || child.signalCode !== null) resolve();
      else child.on('close', () => resolve());
    })));
  }
}

export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** Polls `predicate` until it holds; rejects after `timeoutMs` naming `what`. */
export async function waitFor(predicate: () => boolean, what: string, timeoutMs = outputWaitMsDefault): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!predicate()) {
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await sleep(pollIntervalMs);
  }
}
