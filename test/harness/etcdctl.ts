// Runs etcdctl (API v3) against one endpoint and captures what it prints.
import { runCommand, type CommandOptions, type CommandResult } from './command.js';
import { etcdctlBinary } from './launcher.js';

export type EtcdctlResult = CommandResult;
export type EtcdctlOptions = Omit<CommandOptions, 'env'>;

export async function etcdctl(endpoint: string, args: string[], options: EtcdctlOptions = {}): Promise<EtcdctlResult> {
  const binary = etcdctlBinary();
  if (binary === undefined) throw new Error('etcdctl is not installed');
  return runCommand(binary, [`--endpoints=${endpoint}`, ...args], { ...options, env: { ETCDCTL_API: '3' } });
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

/** etcdctl without a server: its commands that read files only (snapshot status, snapshot restore). */
export async function etcdctlOffline(args: string[], options: EtcdctlOptions = {}): Promise<EtcdctlResult> {
  const binary = etcdctlBinary();
  if (binary === undefined) throw new Error('etcdctl is not installed');
  return runCommand(binary, args, { ...options, env: { ETCDCTL_API: '3' } });
}

/** The lines etcdctl or cairn printed as an error (etcdctl's logs are JSON lines around them). */
export function errorLines(stderr: string): string[] {
  return stderr.split('\n').filter((line) => line.startsWith('Error:'));
}
