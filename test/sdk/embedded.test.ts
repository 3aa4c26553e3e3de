// The embedded server (server/embed.ts) as an application's own test would
// use it: started in this process on free ports, used through the SDK and a
// recipe, stopped with its data directory removed.
import { expect } from 'chai';
import { existsSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { connect, op, type Client } from '../../client/index.js';
import { Mutex, Session } from '../../recipes/index.js';
import { ConfigError } from '../../server/config.js';
import { startEmbeddedServer, type EmbeddedServer } from '../../server/embed.js';

describe('embedded server', function () {
  const started: EmbeddedServer[] = [];
  const clients: Client[] = [];

  async function start(...args: Parameters<typeof startEmbeddedServer>): Promise<EmbeddedServer> {
    const server = await startEmbeddedServer(...args);
    started.push(server);
    return server;
  }

  async function clientOf(server: EmbeddedServer): Promise<Client> {
    const client = await connect({ endpoints: [server.endpoint] });
    clients.push(client);
    return client;
  }

  afterEach(async () => {
    for (const client of clients.splice(0)) client.close();
    for (const server of started.splice(0)) await server.stop();
  });

  it('serves the SDK and the recipes, two servers side by side, and leaves no process handlers behind', async () => {
    const signalHandlers = process.listenerCount('SIGTERM') + process.listenerCount('uncaughtException');
    const [first, second] = await Promise.all([start(), start()]);
    expect(first.endpoint).to.match(/^127\.0\.0\.1:\d+$/);
    expect(first.endpoint).to.not.equal(second.endpoint);
    expect(first.clientUrl).to.equal(`http://${first.endpoint}`);
    const [a, b] = await Promise.all([clientOf(first), clientOf(second)]);
    await a.put('app/k', 'on the first');
    expect((await a.get('app/k'))?.value.toString()).to.equal('on the first');
    expect(await b.get('app/k')).to.equal(undefined);

    const session = await Session.create(a, { ttlSeconds: 5 });
    const held = await new Mutex(session, 'jobs').lock();
    const fenced = await a.txn().if(held.guard()).then([op.put('app/fenced', 'yes')]).commit();
    expect(fenced.succeeded).to.equal(true);
    await held.unlock();
    await session.close();
    expect(process.listenerCount('SIGTERM') + process.listenerCount('uncaughtException')).to.equal(signalHandlers);
  });

  it('stop() removes the data directory it made and may be called twice', async () => {
    const server = await start();
    expect(existsSync(server.dataDir)).to.equal(true);
    await server.stop();
    await server.stop();
    expect(existsSync(server.dataDir)).to.equal(false);
  });

  it('keeps a given data directory: a server started again on it has the same data', async () => {
    const dataDir = join(mkdtempSync(join(tmpdir(), 'cairn-embedded-test-')), 'data');
    try {
      const server = await start({ dataDir });
      const client = await clientOf(server);
      const written = await client.put('kept', 'across restarts');
      client.close();
      await server.stop();
      expect(existsSync(dataDir)).to.equal(true);
      const again = await start({ dataDir });
      const read = await (await clientOf(again)).get('kept');
      expect(read?.value.toString()).to.equal('across restarts');
      expect(read?.modRevision).to.equal(written.header.revision);
    } finally {
      for (const server of started.splice(0)) await server.stop();
      rmSync(join(dataDir, '..'), { recursive: true, force: true });
    }
  });

  it('takes etcd flags, and refuses unusable ones with etcd\'s sentence, leaving no directory behind', async () => {
    const server = await start({ flags: ['--max-txn-ops', '1'] });
    const client = await clientOf(server);
    const refused = await client.txn().then([op.put('a', '1'), op.put('b', '2')]).commit().then(() => undefined, (error: Error) => error.message);
    expect(refused).to.equal('etcdserver: too many operations in txn request');
    const madeDirs = () => readdirSync(tmpdir()).filter((name) => name.startsWith('cairn-embedded-') && !name.startsWith('cairn-embedded-test-')).sort();
    const before = madeDirs();
    const error = await startEmbeddedServer({ flags: ['--election-timeout', '10'] }).then(() => undefined, (caught: unknown) => caught);
    expect(error).to.be.instanceOf(ConfigError);
    expect((error as Error).message).to.include('election');
    expect(madeDirs()).to.deep.equal(before);
  });
});
