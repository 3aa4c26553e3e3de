// STM against cairn and etcd: concurrent increments exact at the three strict
// isolation levels, what each level detects (a read changed, a blind write
// changed), read committed's absence of checks, prefetch in one round trip,
// and conflicts counted up to StmConflictError.
import { expect } from 'chai';
import { codecs, connect, Isolation, StmConflictError, type Client, type Stm } from '../../client/index.js';
import type { ServerHandle } from '../harness/launcher.js';
import { CallRecorder, rejection, selectedTargets } from './support.js';

const writers = 4;
const incrementsEach = 5;

async function increment(stm: Stm, key: string): Promise<void> {
  const count = Number((await stm.get(key, { codec: codecs.string })) ?? '0');
  stm.put(key, String(count + 1));
}

for (const target of selectedTargets()) {
  describe(`sdk stm against ${target.kind}`, function () {
    let server: ServerHandle;
    let client: Client;
    let other: Client;
    const recorder = new CallRecorder();

    before(async function () {
      if (!target.available()) return this.skip();
      server = await target.start();
      client = await connect({ endpoints: [server.endpoint], interceptors: [recorder.interceptor] });
      other = await connect({ endpoints: [server.endpoint] });
    });
    after(async () => {
      client?.close();
      other?.close();
      await server?.destroy();
    });

    for (const isolation of [Isolation.SerializableSnapshot, Isolation.Serializable, Isolation.RepeatableReads]) {
      it(`${isolation}: ${writers} clients × ${incrementsEach} concurrent increments count exactly`, async () => {
        const key = `stm/counter/${isolation}`;
        const clients = await Promise.all(Array.from({ length: writers }, () => connect({ endpoints: [server.endpoint] })));
        let conflicts = 0;
        let runs = 0;
        try {
          await Promise.all(clients.map(async (writer) => {
            for (let round = 0; round < incrementsEach; round++) {
              const result = await writer.stm((stm) => {
                runs++;
                return increment(stm, key);
              }, { isolation, retries: 100 });
              conflicts += result.conflicts;
            }
          }));
        } finally {
          for (const writer of clients) writer.close();
        }
        expect((await client.get(key, { codec: codecs.string }))?.value).to.equal(String(writers * incrementsEach));
        // Every run that did not commit was counted as a conflict.
        expect(runs).to.equal(writers * incrementsEach + conflicts);
      });
    }

    it('a read changed by another writer is a conflict at the strict levels; read committed commits over it', async () => {
      for (const isolation of Object.values(Isolation)) {
        await client.put('stm/read', '1');
        let runs = 0;
        const result = await client.stm(async (stm) => {
          runs++;
          const seen = (await stm.get('stm/read', { codec: codecs.string })) ?? '';
          if (runs === 1) await other.put('stm/read', '2');
          stm.put(`stm/copy/${isolation}`, seen);
          return seen;
        }, { isolation });
        const strict = isolation !== Isolation.ReadCommitted;
        expect(result.conflicts, isolation).to.equal(strict ? 1 : 0);
        expect(result.value, isolation).to.equal(strict ? '2' : '1');
        expect((await client.get(`stm/copy/${isolation}`, { codec: codecs.string }))?.value, isolation).to.equal(result.value);
      }
    });

    it('serializable levels read from one snapshot; repeatable reads and read committed read the latest value of each key', async () => {
      for (const isolation of Object.values(Isolation)) {
        await client.put('stm/first', 'a');
        await client.put('stm/later', 'old');
        const seen: string[] = [];
        const result = await client.stm(async (stm) => {
          await stm.get('stm/first');
          if (seen.length === 0) await other.put('stm/later', 'new');
          seen.push((await stm.get('stm/later', { codec: codecs.string })) ?? '');
        }, { isolation });
        // At the serializable levels the first run saw its snapshot, so its commit conflicted and the second run saw the new value.
        const snapshot = isolation === Isolation.SerializableSnapshot || isolation === Isolation.Serializable;
        expect(seen, isolation).to.deep.equal(snapshot ? ['old', 'new'] : ['new']);
        expect(result.conflicts, isolation).to.equal(snapshot ? 1 : 0);
      }
    });

    it('serializable snapshot also fails a blind write to a key changed after its snapshot; serializable does not', async () => {
      for (const [isolation, conflicts] of [[Isolation.SerializableSnapshot, 1], [Isolation.Serializable, 0]] as const) {
        await client.put('stm/blind', 'mine');
        let runs = 0;
        const result = await client.stm(async (stm) => {
          runs++;
          await stm.get('stm/anything');
          if (runs === 1) await other.put('stm/blind', 'theirs');
          stm.put('stm/blind', 'mine');
        }, { isolation });
        expect(result.conflicts, isolation).to.equal(conflicts);
      }
    });

    it('prefetch reads its keys in one round trip: a transaction of three reads and a write costs two txns', async () => {
      await Promise.all(['stm/p/1', 'stm/p/2', 'stm/p/3'].map((key) => client.put(key, '1')));
      const before = recorder.count('/etcdserverpb.KV/Txn') + recorder.count('/etcdserverpb.KV/Range');
      const result = await client.stm(async (stm) => {
        let sum = 0;
        for (const key of ['stm/p/1', 'stm/p/2', 'stm/p/3']) sum += Number(await stm.get(key, { codec: codecs.string }));
        stm.put('stm/p/sum', String(sum));
        return sum;
      }, { prefetch: ['stm/p/1', 'stm/p/2', 'stm/p/3'] });
      expect(result.value).to.equal(3);
      expect(recorder.count('/etcdserverpb.KV/Txn') + recorder.count('/etcdserverpb.KV/Range') - before).to.equal(2);
    });

    it('counts conflicts, and after `retries` of them rejects with StmConflictError having written nothing', async () => {
      await client.put('stm/contended', '0');
      const error = await rejection(client.stm(async (stm) => {
        await increment(stm, 'stm/contended');
        await other.put('stm/contended', 'moved');
        stm.put('stm/side-effect', 'x');
      }, { retries: 2 }));
      expect(error).to.be.instanceOf(StmConflictError);
      expect((error as StmConflictError).conflicts).to.equal(3);
      expect(await client.get('stm/side-effect')).to.equal(undefined);
      const deleted = await client.stm(async (stm) => {
        stm.delete('stm/contended');
        return stm.get('stm/contended');
      });
      expect(deleted.value).to.equal(undefined);
      expect(await client.get('stm/contended')).to.equal(undefined);
    });
  });
}
