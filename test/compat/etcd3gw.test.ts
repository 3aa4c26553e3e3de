// python3-etcd3gw (Debian's package, 2.0.0), a client of etcd's JSON gateway,
// side by side: one scripted session (fixtures/etcd3gw-session.py) against
// etcd 3.4 and against cairn, its normalised results compared whole. The
// client needs api_path='/v3/': its default, /v3alpha/, is gone in etcd 3.4
// (the session checks that too). It sends lease IDs as JSON numbers, so a
// lease ID above 2^53 must survive the gateway's JSON reading.
import { expect } from 'chai';
import { spawnSync } from 'node:child_process';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { runCommand } from '../harness/command.js';
import { compatPair } from './pair.js';

/** The script sits in the source tree; the compiled test runs from dist/test/compat. */
const script = join(dirname(fileURLToPath(import.meta.url)), '..', '..', '..', 'test', 'compat', 'fixtures', 'etcd3gw-session.py');
const sessionTimeoutMs = 60_000;

/** A Python that imports etcd3gw: Debian's package installs it for the system's python3, which a PATH python3 may not be. */
function pythonWithEtcd3gw(): string | undefined {
  for (const python of ['/usr/bin/python3', 'python3']) {
    const probe = spawnSync(python, ['-c', 'import etcd3gw'], { stdio: 'ignore' });
    if (probe.status === 0) return python;
  }
  return undefined;
}

describe('compat: python3-etcd3gw against the JSON gateway', function () {
  this.timeout(sessionTimeoutMs + 10_000);
  let python: string | undefined;

  before(function () {
    python = pythonWithEtcd3gw();
    if (python !== undefined) return;
    const why = 'python3 with etcd3gw is not installed (apt-get install -y python3-etcd3gw)';
    if (process.env.CI === 'true') throw new Error(`${why}; CI must have it`);
    console.warn(`    skipped: ${why}`);
    this.skip();
  });

  const pair = compatPair();

  it('keys, leases, watches, locks, status and members: the same session gives the same results', async () => {
    const [etcd, cairn] = await pair.both(async (side) => {
      const [host, port] = side.server.endpoint.split(':') as [string, string];
      const result = await runCommand(python as string, [script, host, port], { timeoutMs: sessionTimeoutMs });
      expect(result.code, `etcd3gw session on ${side.name}: ${result.stderr}`).to.equal(0);
      return JSON.parse(result.stdout) as Record<string, unknown>;
    });
    expect(cairn, 'cairn (actual) vs etcd (expected)').to.deep.equal(etcd);
    // The session did what it means to (on etcd).
    expect(etcd).to.include({ 'put': true, 'create existing': false, 'replace': true, 'refresh': 600, 'ttl': '<remaining>', 'ttl after revoke': -1 });
    expect(etcd).to.include({ 'lock acquire': true, 'lock is_acquired': true, 'second lock acquire': false, 'lock release': true });
    expect(etcd['keys']).to.deep.equal(['gw/l1', 'gw/l2']);
    expect(etcd['watch_once']).to.have.nested.property('kv.value', 'once');
    expect(etcd['watch iterator']).to.have.length(3);
    expect(etcd['v3alpha']).to.deep.equal({ raised: 'Etcd3Exception', detail: '404 page not found\n' });
  });
});
