// SIGTERM while a member is still starting: a member of a new 3-member
// cluster whose peers never come waits for a quorum before it serves, and
// must still stop at once on SIGTERM (a container runtime or systemd sends it,
// then kills after a grace period; as PID 1, a signal with no handler would be
// ignored).
import { expect } from 'chai';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort, serverCommand, spawnServer, type ServerProcess } from '../harness/launcher.js';

/** The member's output says it is running before the signal is sent. */
const startedLine = '"msg":"starting cairn"';
const waitStartMs = 10_000;
/** From SIGTERM to exit: the start is abandoned at once. */
const exitMsMax = 3_000;

describe('cluster: SIGTERM during the start', function () {
  this.timeout(30_000);
  let server: ServerProcess | undefined;

  afterEach(async () => {
    await server?.destroy();
  });

  it('stops a member that waits for a quorum with exit code 0 and says so', async () => {
    const dataDir = join(mkdtempSync(join(tmpdir(), 'cairn-start-signal-')), 'm1');
    const clientUrl = `http://127.0.0.1:${await freePort()}`;
    const peers = await Promise.all([1, 2, 3].map(async (index) => `m${index}=http://127.0.0.1:${await freePort()}`));
    const own = (peers[0] as string).slice('m1='.length);
    const { command, args } = serverCommand('cairn', [
      '--name', 'm1', '--data-dir', dataDir,
      '--listen-client-urls', clientUrl, '--advertise-client-urls', clientUrl,
      '--listen-peer-urls', own, '--initial-advertise-peer-urls', own,
      '--initial-cluster', peers.join(','), '--initial-cluster-state', 'new',
    ]);
    server = spawnServer({ kind: 'cairn', command, args, clientUrl, dataDir, ownsDir: true });
    const started = Date.now();
    while (!server.output().includes(startedLine)) {
      if (Date.now() - started > waitStartMs || !server.running()) throw new Error(`the member did not start: ${server.output()}`);
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect(server.output()).to.not.include('ready to serve client requests');
    const signalled = Date.now();
    process.kill(server.pid, 'SIGTERM');
    const code = await Promise.race([server.exited, new Promise((resolve) => setTimeout(() => resolve('still running'), exitMsMax))]);
    expect(code, server.output()).to.equal(0);
    expect(Date.now() - signalled).to.be.below(exitMsMax);
    expect(server.output()).to.include('"msg":"stopped before serving"');
  });
});
