// Runs etcdctl (API v3) against one endpoint and captures what it prints.
import { spawn } from 'node:child_process';
import { etcdctlBinary } from './launcher.js';

export interface EtcdctlResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

export interface EtcdctlOptions {
  stdin?: string;
  timeoutMs?: number;
}

export async function etcdctl(endpoint: string, args: string[], options: EtcdctlOptions = {}): Promise<EtcdctlResult> {
  const binary = etcdctlBinary();
  if (binary === undefined) throw new Error('etcdctl is not installed');
  const child = spawn(binary, [`--endpoints=${endpoint}`, ...args], {
    stdio: ['pipe', 'pipe', 'pipe'],
    env: { ...process.env, ETCDCTL_API: '3' },
  });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
  child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  // etcdctl may exit without reading its input (a usage error): ignore EPIPE.
  child.stdin.on('error', () => undefined);
  child.stdin.end(options.stdin ?? '');
  const timer = setTimeout(() => child.kill('SIGKILL'), options.timeoutMs ?? 15_000);
  // 'close', not 'exit': 'exit' can fire before stdout and stderr are drained,
  // which loses output when the machine is busy.
  const code = await new Promise<number | null>((resolve) => child.on('close', (exitCode) => resolve(exitCode)));
  clearTimeout(timer);
  return { code, stdout, stderr };
}

/**
 * Runs each etcdctl command of `commands` in order, with `flags` before each
 * (e.g. --cacert/--cert/--key, --user); throws on the first that fails,
 * naming it and carrying what etcdctl wrote to stderr.
 */
export async function etcdctlEach(endpoint: string, commands: readonly string[][], flags: readonly string[] = []): Promise<void> {
  for (const args of commands) {
    const result = await etcdctl(endpoint, [...flags, ...args]);
    if (result.code !== 0) throw new Error(`etcdctl ${args.join(' ')}: ${result.stderr.trim()}`);
  }
}
