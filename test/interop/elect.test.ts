// `etcdctl elect -l NAME` observing while two `etcdctl elect NAME pN`
// campaign in turn, against cairn and against etcd: the leader sequence the
// observer prints must be the same. etcdctl 3.4 runs the election
// client-side (concurrency.Election over KV, Lease and Watch).
import { expect } from 'chai';
import { compatPair } from '../compat/pair.js';
import { LeaseNames } from '../compat/lease-ids.js';
import { EtcdctlProcesses, sleep } from './etcdctl-process.js';

/** How long the second candidate is given to (wrongly) become leader while the first leads. */
const contendMs = 500;
/** After the last leader change, how long to keep listening for output that should not come. */
const trailingQuietMs = 300;

describe('interop: etcdctl elect', function () {
  const pair = compatPair();
  const processes = new EtcdctlProcesses();
  afterEach(() => processes.killAll());

  it('the observer sees p1, then p2 once p1 exits; the same sequence as on etcd', async () => {
    const [etcd, cairn] = await pair.both(async (side) => {
      const names = new LeaseNames();
      const start = (args: string[]) => processes.start(side.server.endpoint, args);
      const observer = start(['elect', '-l', 'elx']);
      await sleep(contendMs);
      const observedBeforeAnyLeader = observer.stdout();
      const first = start(['elect', 'elx', 'p1']);
      await first.waitForStdout((stdout) => stdout.includes('p1\n'), `${side.name}: p1 elected`);
      await observer.waitForStdout((stdout) => stdout.includes('p1\n'), `${side.name}: the observer to see p1`);
      const second = start(['elect', 'elx', 'p2']);
      await sleep(contendMs);
      const secondWhileFirstLeads = second.stdout();
      // SIGTERM: etcdctl elect resigns and exits.
      const firstExit = await first.signal('SIGTERM');
      await second.waitForStdout((stdout) => stdout.includes('p2\n'), `${side.name}: p2 elected`);
      await observer.waitForStdout((stdout) => stdout.includes('p2\n'), `${side.name}: the observer to see p2`);
      const secondExit = await second.signal('SIGTERM');
      await sleep(trailingQuietMs);
      await observer.signal('SIGKILL');
      return {
        observedBeforeAnyLeader,
        secondWhileFirstLeads,
        // Keys are `elx/<lease hex>`: named in order of first sight, p1's lease is <lease 1> everywhere.
        first: names.rewriteKeys(first.stdout(), 'elx/'),
        second: names.rewriteKeys(second.stdout(), 'elx/'),
        observed: names.rewriteKeys(observer.stdout(), 'elx/'),
        exits: [firstExit.code, secondExit.code],
        stderr: [first.stderr(), second.stderr(), observer.stderr()],
      };
    });
    expect(etcd.observed).to.equal('elx/<lease 1>\np1\nelx/<lease 2>\np2\n');
    expect(etcd.first).to.equal('elx/<lease 1>\np1\n');
    expect(etcd.secondWhileFirstLeads).to.equal('');
    expect(cairn, 'leader sequence: cairn (actual) vs etcd (expected)').to.deep.equal(etcd);
  });
});
