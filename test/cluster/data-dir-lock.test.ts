// A second server started on a running member's data directory must not
// serve from it: both would hand out the same revisions and acknowledged
// writes would be lost. etcd's second process waits on the backend's file
// lock until the first exits, then starts from the data; cairn does the same
// (and says so at once). Run against both, side by side.
import { expect } from 'chai';
import { etcdctl } from '../harness/etcdctl.js';
import { etcdAvailable, freePort, serverCommand, spawnServer, startCairn, startEtcd, waitServing, type ServerHandle, type ServerKind, type ServerProcess } from '../harness/launcher.js';

/** How long the second process is watched while the first still runs: it must not serve meanwhile. */
const blockedWatchMs = 3_000;

/** A second server of `kind` on `first`'s data directory, on ports of its own. */
async function secondOn(kind: ServerKind, first: ServerHandle): Promise<ServerProcess> {
  const clientUrl = `http://127.0.0.1:${await freePort()}`;
  const peerUrl = `http://127.0.0.1:${await freePort()}`;
  const { command, args } = serverCommand(kind, [
    '--name', 'default',
    '--data-dir', first.dataDir,
    '--listen-client-urls', clientUrl,
    '--advertise-client-urls', clientUrl,
    '--listen-peer-urls', peerUrl,
    '--initial-advertise-peer-urls', peerUrl,
    '--initial-cluster', `default=${peerUrl}`,
  ]);
  // The directory stays the first server's to remove.
  return spawnServer({ kind, command, args, clientUrl, dataDir: first.dataDir, ownsDir: false });
}

for (const kind of ['cairn', 'etcd'] as const) {
  describe(`${kind}: one process per data directory`, function () {
    this.timeout(60_000);
    let first: ServerHandle | undefined;
    let second: ServerProcess | undefined;

    before(function () {
      if (!etcdAvailable()) this.skip();
    });
    afterEach(async () => {
      await second?.destroy();
      await first?.destroy();
      first = second = undefined;
    });

    it('a second process waits without serving until the first exits, then serves every acknowledged write', async () => {
      first = kind === 'cairn' ? await startCairn() : await startEtcd();
      for (let i = 0; i < 20; i++) expect((await etcdctl(first.endpoint, ['put', `lock/k${i}`, `v${i}`])).stdout).to.equal('OK\n');
      second = await secondOn(kind, first);
      await new Promise((resolve) => setTimeout(resolve, blockedWatchMs));
      expect(second.running(), 'the second process waits, it does not give up').to.equal(true);
      const meanwhile = await etcdctl(second.endpoint, ['get', 'lock/k0', '--command-timeout=1s', '--dial-timeout=1s']);
      expect(meanwhile.code, `the second process served while the first ran: ${meanwhile.stdout}`).to.not.equal(0);
      if (kind === 'cairn') expect(second.output()).to.match(new RegExp(`data dir is in use: .*cairn\\.lock is locked by process ${first.pid}; waiting for it to exit`));
      expect((await etcdctl(first.endpoint, ['put', 'lock/last', 'acknowledged'])).stdout).to.equal('OK\n');

      await first.kill9();
      await waitServing(second, 'linearizable');
      const keys = await etcdctl(second.endpoint, ['get', 'lock/', '--prefix', '--keys-only']);
      expect(keys.stdout.split('\n').filter((line) => line !== '')).to.have.length(21);
      expect((await etcdctl(second.endpoint, ['get', 'lock/last', '--print-value-only'])).stdout).to.equal('acknowledged\n');
      expect((await etcdctl(second.endpoint, ['put', 'lock/after', 'x'])).stdout).to.equal('OK\n');
    });
  });
}
