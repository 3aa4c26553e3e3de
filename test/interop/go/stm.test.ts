// etcd's Go concurrency.STM (clientv3 3.4, in etcd-client) against etcd and
// against cairn: several processes, started together, each increment one
// counter key in read-modify-write transactions. STM commits with compares on
// the mod revisions of what it read, so under the serializable-snapshot,
// serializable and repeatable-reads isolation levels every conflict fails its
// Txn and is retried: the counter ends exact, and retries show that the
// processes did conflict. read-committed commits without compares: it never
// retries and may lose increments.
import { expect } from 'chai';
import { compatPair } from '../../compat/pair.js';
import { EtcdctlProcesses } from '../etcdctl-process.js';
import { useGoClient } from './build.js';
import { field, type GoClientProcess, startGoClient } from './client-process.js';
import { withRecipes } from './recipe-side.js';

const processesCount = 3;
const incrementsPerProcess = 20;
const total = processesCount * incrementsPerProcess;
const runMsMax = 30_000;

const exactIsolations = ['serializable-snapshot', 'serializable', 'repeatable-reads'] as const;

describe('interop: Go clientv3 concurrency.STM', function () {
  this.timeout(60_000);
  const goClient = useGoClient();
  const pair = compatPair();
  const processes = new EtcdctlProcesses();
  afterEach(() => processes.killAll());

  /** Runs the processes on one side, started together; the counter, increments and attempts they report. */
  async function contend(endpoint: string, isolation: string) {
    const key = `stm/${isolation}`;
    const workers: GoClientProcess[] = Array.from({ length: processesCount }, () =>
      startGoClient(processes, goClient(), ['stm', '--isolation', isolation, endpoint, key, String(incrementsPerProcess)]));
    await Promise.all(workers.map((worker) => worker.waitForEvent('ready')));
    for (const worker of workers) worker.background.write('start\n');
    const done = await Promise.all(workers.map((worker) => worker.waitForEvent('done', runMsMax)));
    const exits = await Promise.all(workers.map((worker) => worker.background.closed));
    const counter = await withRecipes(endpoint, async ({ client }) => (await client.get(key))?.value.toString('utf8'));

    return {
      counter: Number(counter),
      increments: done.reduce((sum, event) => sum + Number(field(event, 'increments')), 0),
      attempts: done.reduce((sum, event) => sum + Number(field(event, 'attempts')), 0),
      exits: exits.map((exit) => exit.code),
    };
  }

  for (const isolation of exactIsolations) {
    it(`${isolation}: ${processesCount} processes × ${incrementsPerProcess} increments leave the counter exact, retrying conflicts`, async () => {
      const [etcd, cairn] = await pair.both(async (side) => {
        const result = await contend(side.server.endpoint, isolation);
        return { counter: result.counter, increments: result.increments, retried: result.attempts > result.increments, exits: result.exits };
      });
      expect(etcd).to.deep.equal({ counter: total, increments: total, retried: true, exits: Array<number>(processesCount).fill(0) });
      expect(cairn, `STM ${isolation}: cairn (actual) vs etcd (expected)`).to.deep.equal(etcd);
    });
  }

  it('read-committed: commits without compares, so it never retries and the counter is at most exact', async () => {
    const [etcd, cairn] = await pair.both(async (side) => {
      const result = await contend(side.server.endpoint, 'read-committed');
      return { counterAtMostTotal: result.counter >= 1 && result.counter <= total, attempts: result.attempts, increments: result.increments, exits: result.exits };
    });
    expect(etcd).to.deep.equal({ counterAtMostTotal: true, attempts: total, increments: total, exits: Array<number>(processesCount).fill(0) });
    expect(cairn, 'STM read-committed: cairn (actual) vs etcd (expected)').to.deep.equal(etcd);
  });
});
