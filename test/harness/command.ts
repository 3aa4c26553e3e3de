// Runs a command-line tool to completion and captures what it prints: etcdctl
// (etcdctl.ts) and the cairn binary's own commands (`cairn snapshot ...`).
import { spawn } from 'node:child_process';
import { serverCommand } from './launcher.js';

export interface CommandResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

export interface CommandOptions {
  stdin?: string;
  /** Killed (SIGKILL) after this long; default 15 s. */
  timeoutMs?: number;
  /** Environment variables added to this process's. */
  env?: Record<string, string>;
  /** Working directory; default this process's. */
  cwd?: string;
}

export async function runCommand(command: string, args: readonly string[], options: CommandOptions = {}): Promise<CommandResult> {
  const child = spawn(command, args, { stdio: ['pipe', 'pipe', 'pipe'], env: { ...process.env, ...options.env }, cwd: options.cwd });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
  child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  // The tool may exit without reading its input (a usage error): ignore EPIPE.
  child.stdin.on('error', () => undefined);
  child.stdin.end(options.stdin ?? '');
  const timer = setTimeout(() => child.kill('SIGKILL'), options.timeoutMs ?? 15_000);
  // 'close', not 'exit': 'exit' can fire before stdout and stderr are drained,
  // which loses output when the machine is busy.
  const code = await new Promise<number | null>((resolve) => child.on('close', (exitCode) => resolve(exitCode)));
  clearTimeout(timer);
  return { code, stdout, stderr };
}

/** Runs the cairn binary with `args` (e.g. ['snapshot', 'status', file]). */
export function runCairn(args: readonly string[], options: CommandOptions = {}): Promise<CommandResult> {
  const { command, args: full } = serverCommand('cairn', [...args]);
  return runCommand(command, full, options);
}
