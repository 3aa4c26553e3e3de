// The console's coordination page in Chromium against a real cairn, with
// the recipes run by etcdctl (lock, elect) and by cairn's SDK (queue,
// service discovery): holders, waiters in order, fencing tokens and leaders
// as the page shows them must be what the keys say, and follow a release live.
import { expect } from 'chai';
import type { Browser, Page } from 'playwright-core';
import { connect, type Client } from '../../client/index.js';
import { Queue, register, Session } from '../../recipes/index.js';
import { artifactPath, chromiumAvailable, launchChromium } from '../harness/browser.js';
import { etcdctl } from '../harness/etcdctl.js';
import { etcdctlAvailable, startCairn, type ServerHandle } from '../harness/launcher.js';
import { EtcdctlProcesses } from '../interop/etcdctl-process.js';

const waitMs = 15_000;

describe('ui: the console\'s coordination page', function () {
  this.timeout(120_000);
  let server: ServerHandle | undefined;
  let browser: Browser | undefined;
  let client: Client | undefined;
  let session: Session | undefined;
  const processes = new EtcdctlProcesses();

  before(async function () {
    if (!chromiumAvailable() || !etcdctlAvailable()) this.skip();
    server = await startCairn();
    browser = await launchChromium();
    client = await connect({ endpoints: [server.endpoint] });
    session = await Session.create(client);
  });

  after(async () => {
    await processes.killAll();
    await session?.close().catch(() => undefined);
    client?.close();
    await browser?.close();
    await server?.destroy();
  });

  /** The create revisions of the keys under `prefix`, oldest first, with their keys. */
  async function participants(prefix: string): Promise<Array<{ key: string; createRevision: number }>> {
    const listed = await etcdctl((server as ServerHandle).endpoint, ['get', prefix, '--prefix', '--keys-only', '-w', 'json']);
    const kvs = (JSON.parse(listed.stdout) as { kvs?: Array<{ key: string; create_revision: number }> }).kvs ?? [];
    return kvs.map((kv) => ({ key: Buffer.from(kv.key, 'base64').toString(), createRevision: kv.create_revision })).sort((a, b) => a.createRevision - b.createRevision);
  }

  it('shows a lock\'s holder with its fencing token and its waiter, an election\'s leader and candidate, a queue and a service — and a release as it happens', async () => {
    const endpoint = (server as ServerHandle).endpoint;
    const holder = processes.start(endpoint, ['lock', '/locks/printer']);
    await holder.waitForStdout((stdout) => stdout.includes('/locks/printer/'), 'the first etcdctl lock to hold');
    processes.start(endpoint, ['lock', '/locks/printer']);
    const leader = processes.start(endpoint, ['elect', '/elections/primary', 'alpha']);
    await leader.waitForStdout((stdout) => stdout.includes('alpha\n'), 'alpha elected');
    processes.start(endpoint, ['elect', '/elections/primary', 'beta']);
    const queue = new Queue(client as Client, '/queues/jobs');
    for (const item of ['a', 'b', 'c']) await queue.enqueue(item);
    await register(session as Session, '/services/api', 'node-1', 'http://10.0.0.1:8080');
    // The waiters' keys exist once their etcdctl has queued.
    for (const prefix of ['/locks/printer/', '/elections/primary/']) {
      for (let tries = 0; (await participants(prefix)).length < 2; tries++) {
        if (tries > 100) throw new Error(`no second participant under ${prefix}`);
        await new Promise((resolve) => setTimeout(resolve, 100));
      }
    }

    const page = (await (browser as Browser).newPage({ viewport: { width: 1280, height: 800 } })) as Page;
    const errors: string[] = [];
    page.on('pageerror', (error) => errors.push(error.message));
    await page.goto(`${(server as ServerHandle).clientUrl}/ui/#/coordination`);
    const lock = page.locator('.structure[data-name="/locks/printer"] li');
    await lock.nth(1).waitFor({ timeout: waitMs });
    const [first, second] = await participants('/locks/printer/');
    expect(await lock.allTextContents()).to.deep.equal([
      `Holder: lease ${first?.key.split('/').pop()?.padStart(16, '0')} — fencing token ${first?.createRevision} ${first?.key}`,
      `lease ${second?.key.split('/').pop()?.padStart(16, '0')} — waiting, created at ${second?.createRevision} ${second?.key}`,
    ]);
    const election = page.locator('.structure[data-name="/elections/primary"] li');
    expect(await election.count()).to.equal(2);
    expect(await election.nth(0).textContent()).to.match(/^Leader: lease [0-9a-f]{16} — leads: alpha /);
    expect(await election.nth(1).textContent()).to.match(/^lease [0-9a-f]{16} — candidate: beta /);
    await page.getByText('/queues/jobs: 3 items').waitFor({ timeout: waitMs });
    const service = page.getByRole('region', { name: 'Services' });
    await service.getByRole('link', { name: '/services/api/node-1' }).waitFor({ timeout: waitMs });
    expect(await service.textContent()).to.include('http://10.0.0.1:8080');
    await page.screenshot({ path: artifactPath('console', 'coordination'), fullPage: true });

    // The holder lets go (etcdctl lock revokes its session's lease on SIGINT): the waiter holds, with its own token.
    await holder.signal('SIGINT');
    await lock.nth(1).waitFor({ state: 'detached', timeout: waitMs });
    expect(await lock.allTextContents()).to.deep.equal([`Holder: lease ${second?.key.split('/').pop()?.padStart(16, '0')} — fencing token ${second?.createRevision} ${second?.key}`]);
    // Under a steady stream of writes elsewhere the page still reads again (at most once a second).
    let writing = true;
    const noise = (async () => {
      for (let i = 0; writing; i++) {
        await (client as Client).put('/noise/key', String(i));
        await new Promise((resolve) => setTimeout(resolve, 50));
      }
    })();
    try {
      await queue.dequeue();
      await page.getByText('/queues/jobs: 2 items').waitFor({ timeout: waitMs });
    } finally {
      writing = false;
      await noise;
    }
    await page.close();
    expect(errors).to.deep.equal([]);
  });
});
