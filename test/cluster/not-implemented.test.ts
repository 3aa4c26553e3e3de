// What cairn does not implement yet must fail fast and say so, never hang a
// client: etcdctl retries UNAVAILABLE without end, so these answer UNIMPLEMENTED.
import { expect } from 'chai';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { etcdctl } from '../harness/etcdctl.js';
import { etcdctlBinary, startCairn, type ServerHandle } from '../harness/launcher.js';

describe('cairn: not-yet-implemented RPCs fail fast', function () {
  let server: ServerHandle | undefined;
  let directory = '';

  before(async function () {
    if (etcdctlBinary() === undefined) {
      if (process.env.CI === 'true') throw new Error('etcdctl is not installed; CI must have it');
      return this.skip();
    }
    server = await startCairn();
    directory = mkdtempSync(join(tmpdir(), 'cairn-snapshot-'));
  });
  after(async () => {
    await server?.destroy();
    rmSync(directory, { recursive: true, force: true });
  });

  it('etcdctl snapshot save exits with an UNIMPLEMENTED error instead of retrying forever', async () => {
    const result = await etcdctl(server!.endpoint, ['snapshot', 'save', join(directory, 'snap.db')], { timeoutMs: 20_000 });
    expect(result.code).to.not.equal(0);
    expect(result.code, 'etcdctl was killed by the timeout: it hung').to.not.equal(null);
    expect(result.stderr).to.include('code = Unimplemented desc = cairn: Maintenance.Snapshot is not implemented yet');
  });
});
