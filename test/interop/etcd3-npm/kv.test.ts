// The npm `etcd3` client's get/put/delete builders and getAll's range
// options, against etcd and cairn: what each builder resolves with (or the
// error it throws) must be the same on both, revisions relative to the
// scenario's start.
import { expect } from 'chai';
import { etcd3Pair } from './etcd3-pair.js';

describe('interop: etcd3 npm — get, put, delete, getAll', function () {
  const pairs = etcd3Pair();

  it('put (string, Buffer, number values) and get as string, json, buffer, number, exists and exec', async () => {
    const etcd = await pairs.same('put and get', async ({ client, n }) => {
      await client.put('kv/str').value('hello');
      await client.put('kv/json').value(JSON.stringify({ a: [1, 'two'] }));
      await client.put('kv/buf').value(Buffer.from([0, 1, 0xfe, 0xff]));
      const numberPut = await client.put('kv/num').value(42.5);
      return {
        numberPut: n.of(numberPut),
        string: await client.get('kv/str').string(),
        hex: await client.get('kv/str').string('hex'),
        json: await client.get('kv/json').json(),
        buffer: (await client.get('kv/buf').buffer())?.toString('hex'),
        number: await client.get('kv/num').number(),
        notANumber: await client.get('kv/str').number(),
        // Awaiting the builder itself resolves with the value as a string.
        awaited: await client.get('kv/num'),
        exists: [await client.get('kv/str').exists(), await client.get('kv/missing').exists()],
        missing: [await client.get('kv/missing').string(), await client.get('kv/missing').buffer(), await client.get('kv/missing').number()],
        exec: n.of(await client.get('kv/json').exec()),
        serializable: n.of(await client.get('kv/str').serializable(true).exec()),
      };
    });
    expect(etcd.numberPut).to.deep.equal({ header: { revision: 'rev+4' }, prev_kv: null });
    expect(etcd.json).to.deep.equal({ a: [1, 'two'] });
    expect(etcd.buffer).to.equal('0001feff');
    expect(etcd.number).to.equal(42.5);
    expect(etcd.exists).to.deep.equal([true, false]);
    expect(etcd.exec).to.deep.include({ count: '1', more: false });
  });

  it('put: getPrevious, touch, and get at an older revision', async () => {
    const etcd = await pairs.same('getPrevious and touch', async ({ client, n }) => {
      await client.put('prev/a').value('1');
      const previous = await client.put('prev/a').value('2').getPrevious();
      const noPrevious = await client.put('prev/new').value('x').getPrevious();
      const touched = await client.put('prev/a').touch();
      const touchMissing = await n.outcome(client.put('prev/missing').touch());
      return {
        previous: n.of(previous),
        noPrevious: n.of(noPrevious),
        touched: n.of(touched),
        afterTouch: n.of((await client.get('prev/a').exec()).kvs),
        touchMissing,
        atFirstPut: await client.get('prev/a').revision(n.at(1)).string(),
        beforeFirstPut: await client.get('prev/a').revision(n.at(0)).string(),
        atSecondPut: n.of((await client.get('prev/a').revision(Number(n.at(2))).exec()).kvs),
      };
    });
    expect(etcd.previous).to.deep.include({ value: '1', version: '1', mod_revision: 'rev+1' });
    expect(etcd.afterTouch).to.deep.equal([{ key: 'prev/a', value: '2', version: '3', create_revision: 'rev+1', mod_revision: 'rev+4', lease: '0' }]);
    expect(etcd.touchMissing).to.have.nested.property('error.message').that.includes('etcdserver: key not found');
    expect(etcd.atFirstPut).to.equal('1');
  });

  it('get at a future or compacted revision throws the package\'s error on both', async () => {
    await pairs.same('revision errors', async ({ client, n }) => {
      await client.put('rev/a').value('1');
      await client.put('rev/a').value('2');
      const future = await n.outcome(client.get('rev/a').revision(n.at(100)).string());
      await client.kv.compact({ revision: n.at(2) });
      const compacted = await n.outcome(client.get('rev/a').revision(n.at(1)).string());
      const atCompaction = await n.outcome(client.get('rev/a').revision(n.at(2)).string());
      return { future, compacted, atCompaction };
    });
  });

  it('put with a lease, ignoreLease keeps it, a plain put drops it; an unknown lease and ignoreLease on a missing key fail', async () => {
    const etcd = await pairs.same('put with a lease', async ({ client, n }) => {
      const lease = client.lease(60, { autoKeepAlive: false });
      const id = await lease.grant();
      n.lease(id);
      try {
        await client.put('pl/a').value('1').lease(id);
        const withLease = n.of((await client.get('pl/a').exec()).kvs);
        await client.put('pl/a').value('2').ignoreLease();
        const ignored = n.of((await client.get('pl/a').exec()).kvs);
        await client.put('pl/a').value('3');
        const dropped = n.of((await client.get('pl/a').exec()).kvs);
        const unknownLease = await n.outcome(client.put('pl/b').value('1').lease('123456789'));
        const ignoreMissing = await n.outcome(client.put('pl/missing').value('1').ignoreLease());
        const ignoreWithLease = await n.outcome(client.put('pl/a').value('4').lease(id).ignoreLease());
        return { withLease, ignored, dropped, unknownLease, ignoreMissing, ignoreWithLease };
      } finally {
        await lease.revoke();
      }
    });
    expect(etcd.withLease).to.have.nested.property('[0].lease', '<lease 1>');
    expect(etcd.ignored).to.have.nested.property('[0].lease', '<lease 1>');
    expect(etcd.dropped).to.have.nested.property('[0].lease', '0');
  });

  it('delete: key, prefix, inRange, range, all, with getPrevious and deleted counts', async () => {
    const etcd = await pairs.same('delete builders', async ({ client, n }) => {
      for (const key of ['d/a', 'd/b', 'd/c', 'd/d', 'd/e/1', 'd/e/2', 'd/f']) await client.put(key).value(`v-${key}`);
      const one = n.of(await client.delete().key('d/a'));
      const none = n.of(await client.delete().key('d/a'));
      const prefixPrevious = n.of(await client.delete().prefix('d/e/').getPrevious());
      const inRange = n.of(await client.delete().inRange({ start: 'd/b', end: 'd/d' }));
      const range = n.of(await client.delete().range(client.range({ start: 'd/d', end: 'd/e' })).getPrevious());
      const left = await client.getAll().prefix('d/').keys();
      // all() deletes every key on the server: the scenario puts its own keys back afterwards.
      const all = n.of(await client.delete().all().exec());
      const empty = await client.getAll().all().count();
      return { one, none, prefixPrevious, inRange, range, left, all, empty };
    });
    expect(etcd.one).to.deep.equal({ header: { revision: 'rev+8' }, deleted: '1', prev_kvs: [] });
    expect(etcd.none).to.deep.equal({ header: { revision: 'rev+8' }, deleted: '0', prev_kvs: [] });
    expect(etcd.left).to.deep.equal(['d/f']);
    expect(etcd.empty).to.equal(0);
  });

  it('getAll: prefix, inRange, all, limit; keys, strings, numbers, json, buffers, count', async () => {
    const etcd = await pairs.same('getAll', async ({ client, n }) => {
      for (const [key, value] of [['g/1', '10'], ['g/2', '20'], ['g/3', '30'], ['g/4', '40'], ['h/1', '"h"']] as const) await client.put(key).value(value);
      const prefix = client.getAll().prefix('g/');
      return {
        keys: await client.getAll().prefix('g/').keys(),
        keyBuffers: (await client.getAll().prefix('g/').keyBuffers()).map((key) => key.toString()),
        strings: await prefix.strings(),
        numbers: await client.getAll().prefix('g/').numbers(),
        json: await client.getAll().prefix('h/').json(),
        buffers: Object.entries(await client.getAll().prefix('h/').buffers()).map(([key, value]) => [key, value.toString('hex')]),
        count: await client.getAll().prefix('g/').count(),
        inRange: await client.getAll().inRange({ start: 'g/2', end: 'g/4' }).keys(),
        inRangePrefix: await client.getAll().inRange({ prefix: 'h' }).keys(),
        all: (await client.getAll().all().keys()).filter((key) => key.startsWith('g/') || key.startsWith('h/')),
        limit: n.of(await client.getAll().prefix('g/').limit(2).exec()),
        limitAll: n.of(await client.getAll().prefix('g/').limit(4).exec()),
        awaited: await client.getAll().prefix('h/'),
        emptyRange: n.of(await client.getAll().prefix('nothing/').exec()),
      };
    });
    expect(etcd.keys).to.deep.equal(['g/1', 'g/2', 'g/3', 'g/4']);
    expect(etcd.limit).to.deep.include({ more: true, count: '4' });
    expect(etcd.inRange).to.deep.equal(['g/2', 'g/3']);
  });

  it('getAll.sort: every target in every order, and with a limit', async () => {
    const etcd = await pairs.same('sort', async ({ client }) => {
      // Distinct orders for every target: creation c,a,d,b; versions c1 b2 a3 d4; last mods c,b,a,d; values d<c<b<a.
      const puts: Array<[string, string]> = [['s/c', 'v2'], ['s/a', 'v4'], ['s/d', 'v1'], ['s/b', 'v3'], ['s/b', 'v3'], ['s/a', 'v4'], ['s/a', 'v4'], ['s/d', 'v1'], ['s/d', 'v1'], ['s/d', 'v1']];
      for (const [key, value] of puts) await client.put(key).value(value);
      const sorted: Record<string, string[]> = {};
      for (const target of ['Key', 'Version', 'Create', 'Mod', 'Value'] as const) {
        for (const order of ['None', 'Ascend', 'Descend'] as const) {
          sorted[`${target} ${order}`] = await client.getAll().prefix('s/').sort(target, order).keys();
        }
      }
      const limited = await client.getAll().prefix('s/').sort('Mod', 'Descend').limit(2).exec();
      return { sorted, limited: { keys: limited.kvs.map((kv) => kv.key.toString()), more: limited.more, count: limited.count } };
    });
    expect(etcd.sorted['Create Ascend']).to.deep.equal(['s/c', 's/a', 's/d', 's/b']);
    expect(etcd.sorted['Value Descend']).to.deep.equal(['s/a', 's/b', 's/c', 's/d']);
    expect(etcd.limited).to.deep.equal({ keys: ['s/d', 's/a'], more: true, count: '4' });
  });

  it('getAll: min/max mod and create revision filters, alone, together, with a limit and a count', async () => {
    const etcd = await pairs.same('revision filters', async ({ client, n }) => {
      for (const key of ['f/1', 'f/2', 'f/3', 'f/4']) await client.put(key).value('a');
      await client.put('f/1').value('b');
      await client.put('f/3').value('b');
      const keys = async (build: (builder: ReturnType<typeof client.getAll>) => ReturnType<typeof client.getAll>) => {
        const response = await build(client.getAll().prefix('f/')).exec();
        return { keys: response.kvs.map((kv) => kv.key.toString()), more: response.more, count: response.count };
      };
      return {
        minMod: await keys((b) => b.minModRevision(n.at(4))),
        maxMod: await keys((b) => b.maxModRevision(n.at(3))),
        minCreate: await keys((b) => b.minCreateRevision(n.at(3))),
        maxCreate: await keys((b) => b.maxCreateRevision(n.at(2))),
        both: await keys((b) => b.minModRevision(n.at(2)).maxCreateRevision(n.at(3))),
        limited: await keys((b) => b.minModRevision(n.at(2)).limit(2)),
        counted: await client.getAll().prefix('f/').minModRevision(n.at(5)).count(),
      };
    });
    expect(etcd.minMod).to.deep.equal({ keys: ['f/1', 'f/3', 'f/4'], more: false, count: '4' });
    expect(etcd.maxCreate.keys).to.deep.equal(['f/1', 'f/2']);
  });
});
