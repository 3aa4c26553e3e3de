// The npm `etcd3` client's software transactions (client.stm()) at every
// isolation level, against etcd and cairn. The STM runs client-side: it reads
// through Range (serializable reads, reads at the first read's revision for
// the Serializable levels) and commits one Txn whose compares (mod revisions
// of what it read, and of what it writes for SerializableSnapshot) must fail
// on both servers exactly when a concurrent write happened, so that the
// number of attempts, what each attempt read, and the final values match.
import { expect } from 'chai';
import { Isolation, STMConflictError, type Etcd3 } from 'etcd3';
import { etcd3Pair } from './etcd3-pair.js';

const levels: ReadonlyArray<[string, Isolation]> = [
  ['SerializableSnapshot', Isolation.SerializableSnapshot],
  ['Serializable', Isolation.Serializable],
  ['RepeatableReads', Isolation.RepeatableReads],
  ['ReadCommitted', Isolation.ReadCommitted],
];

describe('interop: etcd3 npm — STM', function () {
  const pairs = etcd3Pair();

  it('every isolation level commits a transfer between two keys and reads its own writes', async () => {
    const etcd = await pairs.same('transfer', async ({ client, n }) => {
      const results: Record<string, unknown> = {};
      for (const [name, isolation] of levels) {
        const a = `stm/${name}/a`;
        const b = `stm/${name}/b`;
        await client.put(a).value(10);
        const returned = await client.stm({ isolation }).transact(async (tx) => {
          const [balanceA, balanceB] = await Promise.all([tx.get(a).number(), tx.get(b).number()]);
          await tx.put(a).value((balanceA ?? 0) - 3);
          await tx.put(b).value((balanceB ?? 0) + 3);
          return { read: [balanceA, balanceB], ownWrite: await tx.get(a).number() };
        });
        const kvs = (await client.getAll().prefix(`stm/${name}/`).exec()).kvs;
        results[name] = { returned, stored: n.of(kvs) };
      }
      return results;
    });
    for (const [name] of levels) {
      expect(etcd[name], name).to.deep.include({ returned: { read: [10, null], ownWrite: 7 } });
    }
  });

  it('a write by another client between the reads and the commit: which levels retry, and what each attempt read', async () => {
    const etcd = await pairs.same('conflicts', async ({ client, newClient }) => {
      const other = newClient();
      const results: Record<string, unknown> = {};
      for (const [name, isolation] of levels) {
        const first = `stmc/${name}/first`;
        const second = `stmc/${name}/second`;
        await client.put(first).value(1);
        await client.put(second).value(100);
        const attempts: unknown[] = [];
        await client.stm({ isolation, retries: 3 }).transact(async (tx) => {
          const readFirst = await tx.get(first).number();
          // Only during the first attempt: another client changes the key this transaction reads next.
          if (attempts.length === 0) await other.put(second).value(200);
          const readSecond = await tx.get(second).number();
          attempts.push([readFirst, readSecond]);
          await tx.put(first).value((readFirst ?? 0) + (readSecond ?? 0));
        });
        results[name] = { attempts, stored: await client.getAll().prefix(`stmc/${name}/`).numbers() };
      }
      return results;
    });
    // Serializable levels read at the first read's revision: the outside write is seen only on the retry.
    expect(etcd.SerializableSnapshot).to.deep.include({ attempts: [[1, 100], [1, 200]] });
    expect(etcd.Serializable).to.deep.include({ attempts: [[1, 100], [1, 200]] });
    // RepeatableReads and ReadCommitted read the latest value: nothing changed after the read, one attempt.
    expect(etcd.RepeatableReads).to.deep.include({ attempts: [[1, 200]] });
    expect(etcd.ReadCommitted).to.deep.include({ attempts: [[1, 200]] });
  });

  it('a conflict on every attempt: STMConflictError once the retries run out; ReadCommitted overwrites instead', async () => {
    const etcd = await pairs.same('retries run out', async ({ client, newClient, n }) => {
      const other = newClient();
      const results: Record<string, unknown> = {};
      for (const [name, isolation] of levels) {
        const counter = `stmr/${name}`;
        await client.put(counter).value(0);
        let attempts = 0;
        const outcome = await n.outcome(client.stm({ isolation, retries: 2 }).transact(async (tx) => {
          attempts++;
          const value = await tx.get(counter).number();
          await bump(other, counter);
          await tx.put(counter).value((value ?? 0) + 1);
          return value;
        }));
        results[name] = { outcome, attempts, stored: await client.get(counter).number() };
      }
      return results;
    });
    for (const name of ['SerializableSnapshot', 'Serializable', 'RepeatableReads']) {
      expect(etcd[name], name).to.deep.equal({ outcome: { error: { class: STMConflictError.name, message: new STMConflictError().message } }, attempts: 3, stored: 3 });
    }
    expect(etcd.ReadCommitted).to.deep.equal({ outcome: { ok: 0 }, attempts: 1, stored: 1 });
  });
});

/** Adds one to the number at `key`, from another client: a conflicting write. */
async function bump(client: Etcd3, key: string): Promise<void> {
  const value = await client.get(key).number();
  await client.put(key).value((value ?? 0) + 1);
}
