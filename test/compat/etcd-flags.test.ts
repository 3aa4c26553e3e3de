// etcd's flags that cairn does not act on, side by side: an etcd 3.4 start-up
// command line full of them starts both etcd and cairn, both serve etcdctl,
// and cairn says once per flag that it ignores it; a value etcd's flag package
// refuses stops both, with the same sentence and exit code 2.
import { expect } from 'chai';
import { etcdctl } from '../harness/etcdctl.js';
import { etcdAvailable, freePort, startCairn, startEtcd, type ServerHandle, type ServerKind } from '../harness/launcher.js';
import { runUntilRefused } from '../harness/refusal.js';

/** Flags of an etcd 3.4 deployment (values as etcd's tuning and operations guides give them), each off its default. */
const etcd34Flags: ReadonlyArray<readonly [flag: string, ...value: string[]]> = [
  ['strict-reconfig-check'],
  ['pre-vote'],
  ['max-snapshots', '10'],
  ['max-wals', '10'],
  ['grpc-keepalive-min-time', '10s'],
  ['grpc-keepalive-interval', '1h'],
  ['grpc-keepalive-timeout', '10s'],
  ['experimental-initial-corrupt-check'],
  ['experimental-corrupt-check-time', '2m'],
  ['metrics', 'extensive'],
  ['enable-pprof'],
  ['backend-batch-interval', '10ms'],
  ['backend-batch-limit', '1000'],
  // Not --experimental-enable-lease-checkpoint: etcd 3.4.23 crashes on it under its default logger (capnslog).
  ['experimental-compaction-batch-limit', '1000'],
];

const compatibilityWarning = / is accepted for compatibility with etcd/;

/** The msg of each JSON line of a log. */
function messages(output: string): string[] {
  return output.split('\n').filter((line) => line.startsWith('{')).map((line) => (JSON.parse(line) as { msg: string }).msg);
}

describe('compat: etcd 3.4 flags cairn accepts without acting on them', function () {
  this.timeout(90_000);

  before(function () {
    if (!etcdAvailable()) this.skip();
  });

  it('both start with them and serve put and get; cairn warns once for each flag', async () => {
    const args = etcd34Flags.flatMap(([flag, ...value]) => [`--${flag}`, ...value]);
    const servers: ServerHandle[] = [];
    try {
      for (const start of [startEtcd, startCairn]) servers.push(await start({ args }));
      for (const server of servers) {
        const put = await etcdctl(server.endpoint, ['put', 'flags/a', '1']);
        expect(put.stdout, `${server.kind}: ${put.stderr}`).to.equal('OK\n');
        expect((await etcdctl(server.endpoint, ['get', 'flags/a'])).stdout).to.equal('flags/a\n1\n');
      }
      const cairn = servers[1];
      if (cairn === undefined) throw new Error('cairn did not start');
      const warnings = messages(cairn.output()).filter((message) => compatibilityWarning.test(message));
      const warned = warnings.map((message) => /^--([^\s=]+)/.exec(message)?.[1]);
      expect(warned).to.have.members(etcd34Flags.map(([flag]) => flag));
      expect(warned).to.have.length(etcd34Flags.length);
    } finally {
      await Promise.all(servers.map((server) => server.destroy()));
    }
  });

  it('--max-snapshots abc stops both with Go\'s flag sentence and exit code 2, before the data directory', async () => {
    const refusals = await Promise.all((['etcd', 'cairn'] as ServerKind[]).map(async (kind) => {
      const url = `http://127.0.0.1:${await freePort()}`;
      return runUntilRefused(kind, url, () => ['--listen-client-urls', url, '--advertise-client-urls', url, '--max-snapshots', 'abc']);
    }));
    for (const refusal of refusals) expect(refusal.output).to.include('invalid value "abc" for flag -max-snapshots: parse error');
    expect(refusals.map((refusal) => refusal.code)).to.deep.equal([2, 2]);
    expect(refusals.map((refusal) => refusal.dataDirCreated)).to.deep.equal([false, false]);
  });
});
