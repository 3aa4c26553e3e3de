// etcd's environment variables, side by side: ETCD_<FLAG> sets a flag the
// command line leaves alone, on etcd and cairn alike; the same flag on both
// the command line and in the environment stops both at startup with etcd's
// sentence.
import { expect } from 'chai';
import { etcdAvailable, freePort, type ServerKind } from '../harness/launcher.js';
import { runUntilRefused } from '../harness/refusal.js';
import { compatPair } from './pair.js';

describe('compat: ETCD_* environment variables', function () {
  const pair = compatPair({ env: { ETCD_MAX_TXN_OPS: '2' } });

  it('ETCD_MAX_TXN_OPS=2 limits txns as --max-txn-ops 2 does, on both', async () => {
    const result = await pair.etcdctl(['txn'], { stdin: '\nput env/a 1\nput env/b 2\nput env/c 3\n\n\n' });
    expect(result.stderr).to.include('etcdserver: too many operations in txn request');
  });
});

describe('compat: an ETCD_* variable beside its flag', function () {
  before(function () {
    if (!etcdAvailable()) this.skip();
  });

  it('stops both at startup with etcd\'s sentence', async function () {
    this.timeout(40_000);
    const sentence = 'conflicting environment variable "ETCD_NAME" is shadowed by corresponding command-line flag (either unset environment variable or disable flag)';
    const refusals = await Promise.all((['etcd', 'cairn'] as ServerKind[]).map(async (kind) => {
      const url = `http://127.0.0.1:${await freePort()}`;
      const peerUrl = `http://127.0.0.1:${await freePort()}`;
      const flags = ['--name', 'm1', '--listen-client-urls', url, '--advertise-client-urls', url, '--listen-peer-urls', peerUrl,
        '--initial-advertise-peer-urls', peerUrl, '--initial-cluster', `m1=${peerUrl}`];
      return runUntilRefused(kind, url, () => flags, { ETCD_NAME: 'm2' });
    }));
    for (const refusal of refusals) expect(refusal.output).to.include(sentence);
    expect(refusals.map((refusal) => refusal.code)).to.deep.equal([1, 1]);
    expect(refusals.map((refusal) => refusal.dataDirCreated)).to.deep.equal([false, false]);
  });
});
