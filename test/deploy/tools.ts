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

/**
 * For a test that needs a tool from a Debian package: its path, or the test
 * is skipped with a line saying why. In CI, which installs the package, its
 * absence is a failure (as with etcd in the harness).
 */
export async function requireTool(context: Mocha.Context, name: string, probeArgs: readonly string[], debianPackage: string): Promise<string> {
  const path = await findTool(name, probeArgs);
  if (path !== undefined) return path;
  const why = `${name} is not installed (apt-get install -y ${debianPackage})`;
  if (process.env.CI === 'true') throw new Error(`${why}; CI must have it`);
  console.warn(`    skipped: ${why}`);
  context.skip();
}
