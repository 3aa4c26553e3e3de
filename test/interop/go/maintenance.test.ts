// clientv3.Maintenance's per-endpoint calls (Status, HashKV, Defragment) from
// etcd's Go client (3.4, in etcd-client) against etcd and against cairn. Each
// call dials its one endpoint as written: `host:port`, or `http://host:port`,
// which etcdctl and the Go client accept and which then reaches the server as
// the HTTP/2 :authority `http://host:port` (gRPC target
// passthrough:///http://host:port). etcd serves both.
import { expect } from 'chai';
import { compatPair } from '../../compat/pair.js';
import { EtcdctlProcesses } from '../etcdctl-process.js';
import { useGoClient } from './build.js';
import { field, startGoClient, type ClientEvent } from './client-process.js';

/**
 * What a call's event says that must be the same on both servers: the same
 * history gives etcd's exact hash. Status.version is compared as major.minor:
 * cairn reports the API level it speaks, 3.4.0 (docs/storage.md), etcd its release.
 */
function normalise(event: ClientEvent): Record<string, unknown> {
  switch (event.event) {
    case 'status':
      return { event: 'status', version: field(event, 'version').split('.').slice(0, 2).join('.'), leadsItself: field(event, 'leader') === field(event, 'memberId') && field(event, 'leader') !== '0' };
    case 'hashkv':
      return { event: 'hashkv', hash: event.hash, compactRevision: event.compactRevision, headerRevision: event.headerRevision };
    case 'failed':
      return { event: 'failed', call: event.call, message: event.message };
    default:
      return { event: event.event };
  }
}

describe('interop: Go clientv3 Maintenance per-endpoint calls', function () {
  this.timeout(30_000);
  const goClient = useGoClient();
  const pair = compatPair();
  const processes = new EtcdctlProcesses();
  afterEach(() => processes.killAll());

  before(async function () {
    // A history to hash: the same writes on both servers.
    await pair.putAll([['maintenance/a', '1'], ['maintenance/b', '2'], ['maintenance/a', '3']]);
  });

  /** Runs `etcd-client maintenance <endpoint>` on each side, `written` turning host:port into the endpoint as given. */
  async function maintenance(written: (hostPort: string) => string) {
    return pair.both(async (side) => {
      const go = startGoClient(processes, goClient(), ['maintenance', written(side.server.endpoint)]);
      const exit = await go.background.closed;
      return { events: go.events().map(normalise), exit: exit.code, stderr: exit.code === 0 ? '' : go.background.stderr().slice(-2_000) };
    });
  }

  const expectedEvents = ['status', 'hashkv', 'defragment'];

  it('host:port: Status, HashKV and Defragment answer as on etcd', async () => {
    const [etcd, cairn] = await maintenance((hostPort) => hostPort);
    expect(etcd.events.map((event) => event.event), etcd.stderr).to.deep.equal(expectedEvents);
    expect(etcd.events[0]).to.include({ version: '3.4', leadsItself: true });
    expect(etcd.events[1]).to.include({ headerRevision: '4', compactRevision: '-1' });
    expect(etcd.exit).to.equal(0);
    expect(cairn, 'Maintenance calls on host:port: cairn (actual) vs etcd (expected)').to.deep.equal(etcd);
  });

  it('http://host:port, the scheme kept in the :authority: Status, HashKV and Defragment answer as on etcd', async () => {
    const [etcd, cairn] = await maintenance((hostPort) => `http://${hostPort}`);
    expect(etcd.events.map((event) => event.event), etcd.stderr).to.deep.equal(expectedEvents);
    expect(etcd.exit).to.equal(0);
    expect(cairn, 'Maintenance calls on http://host:port: cairn (actual) vs etcd (expected)').to.deep.equal(etcd);
  });
});
