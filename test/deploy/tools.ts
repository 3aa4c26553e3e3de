// The command-line tools some deploy/ tests use when the machine has them
// (kubectl, helm, systemd-analyze, yamllint): where each is, or undefined.
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { runCommand } from '../harness/command.js';

/**
 * The path of `name`, or of the file the environment variable `variable`
 * names (HELM_BIN), when it is there and runs `probeArgs` with exit code 0.
 */
export async function findTool(name: string, probeArgs: readonly string[], variable?: string): Promise<string | undefined> {
  const wanted = (variable === undefined ? undefined : process.env[variable]) ?? name;
  const path = wanted.includes('/') ? (existsSync(wanted) ? wanted : undefined) : onPath(wanted);
  if (path === undefined) return undefined;
  const probe = await runCommand(path, probeArgs, { timeoutMs: 10_000 });
  return probe.code === 0 ? path : undefined;
}

function onPath(name: string): string | undefined {
  const found = spawnSync('sh', ['-c', 'command -v "$0"', name], { encoding: 'utf8' });
  const path = found.stdout.trim();
  return found.status === 0 && path !== '' ? path : undefined;
}
