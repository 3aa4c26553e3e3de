// Builds etcd-client (test/interop/go/etcd-client: etcd's own Go client,
// clientv3 3.4 and its concurrency package, driven from the command line)
// offline from Debian's packages: golang-go and golang-etcd-server-dev, whose
// sources sit in /usr/share/gocode. GOPATH mode, nothing vendored.
//
// The binary is cached under the system's temporary directory, keyed by a hash
// of the Go sources and of `go version`, so a run builds it at most once and
// later runs reuse it. Concurrent builders each write their own file and
// rename it into place.
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readdirSync, readFileSync, renameSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { spawnSync } from 'node:child_process';
import { runCommand } from '../../harness/command.js';
import { repositoryRoot } from '../../harness/sources.js';

/** Where Debian's golang-*-dev packages install Go sources (GOPATH layout). */
const debianGoSources = process.env.CAIRN_GOCODE ?? '/usr/share/gocode';
const clientSources = join(repositoryRoot, 'test', 'interop', 'go', 'etcd-client');
const cacheRoot = join(tmpdir(), 'cairn-go');
/** A cold build (empty Go build cache) takes ~40 s on a 2-core machine. */
const buildTimeoutMs = 300_000;

const missing = 'the Go toolchain or etcd 3.4\'s Go client sources are not installed (apt-get install -y golang-go golang-etcd-server-dev)';

/** Why the Go client cannot be built here, or undefined when it can. */
function unavailableReason(): string | undefined {
  const go = spawnSync('go', ['version'], { encoding: 'utf8' });
  if (go.status !== 0) return missing;
  if (!existsSync(join(debianGoSources, 'src', 'go.etcd.io', 'etcd', 'clientv3', 'concurrency'))) return missing;
  return undefined;
}

/**
 * For a before hook: false (the caller skips) when Go or the client sources
 * are missing locally; throws in CI, where their absence is a failure.
 */
export function goClientAvailable(): boolean {
  const why = unavailableReason();
  if (why === undefined) return true;
  if (process.env.CI === 'true') throw new Error(`${why}; CI must have them`);
  console.warn(`    skipped: ${why}`);
  return false;
}

function sourcesHash(): string {
  const hash = createHash('sha256');
  hash.update(spawnSync('go', ['version'], { encoding: 'utf8' }).stdout);
  for (const name of readdirSync(clientSources).filter((file) => file.endsWith('.go')).sort()) {
    hash.update(`${name}\0`).update(readFileSync(join(clientSources, name))).update('\0');
  }
  return hash.digest('hex').slice(0, 16);
}

export interface GoClientBuild {
  /** Path of the etcd-client binary. */
  binary: string;
  /** Time spent building in this process; 0 when the cached binary was reused. */
  buildMs: number;
}

let building: Promise<GoClientBuild> | undefined;

/** The etcd-client binary: built on first use in this process unless cached from an earlier run. */
export function etcdGoClient(): Promise<GoClientBuild> {
  building ??= build();
  return building;
}

async function build(): Promise<GoClientBuild> {
  const directory = join(cacheRoot, sourcesHash());
  const binary = join(directory, 'etcd-client');
  if (existsSync(binary)) return { binary, buildMs: 0 };
  mkdirSync(directory, { recursive: true });
  const partial = `${binary}.${process.pid}.partial`;
  const startedAt = Date.now();
  const result = await runCommand('go', ['build', '-o', partial, '.'], {
    cwd: clientSources,
    timeoutMs: buildTimeoutMs,
    env: {
      GO111MODULE: 'off',
      GOPATH: `${join(cacheRoot, 'gopath')}:${debianGoSources}`,
      GOCACHE: join(cacheRoot, 'go-build'),
      GOFLAGS: '',
      // A static binary: no C compiler needed.
      CGO_ENABLED: '0',
    },
  });
  if (result.code !== 0) throw new Error(`go build of ${clientSources} failed (exit ${result.code}):\n${result.stderr}`);
  renameSync(partial, binary);
  const buildMs = Date.now() - startedAt;
  console.log(`    built etcd-client in ${(buildMs / 1000).toFixed(1)} s: ${binary}`);
  return { binary, buildMs };
}

/**
 * Registers a before hook (call it first in a describe block) that skips the
 * block, or fails it in CI, when Go is missing, and otherwise builds or finds
 * etcd-client. Returns the binary's path once the hook has run.
 */
export function useGoClient(): () => string {
  let binary: string | undefined;
  before(async function () {
    if (!goClientAvailable()) return this.skip();
    this.timeout(buildTimeoutMs + 10_000);
    binary = (await etcdGoClient()).binary;
  });
  return () => {
    if (binary === undefined) throw new Error('etcd-client is not built: useGoClient() must register its hook first');
    return binary;
  };
}
