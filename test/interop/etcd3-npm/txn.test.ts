// The npm `etcd3` client's if/then/else transactions (ComparatorBuilder),
// against etcd and cairn: which branch runs for every compare target and
// operator, what commit() resolves with (responses of every op kind, nested
// transactions), and the errors the package throws for a refused transaction.
import { expect } from 'chai';
import { CompareResult, CompareTarget, type Etcd3 } from 'etcd3';
import { etcd3Pair } from './etcd3-pair.js';

type Target = 'Create' | 'Mod' | 'Version' | 'Value' | 'Lease';
type Operator = '==' | '===' | '!=' | '!==' | '>' | '<';

describe('interop: etcd3 npm — transactions', function () {
  const pairs = etcd3Pair();

  it('every compare target (Create, Mod, Version, Value, Lease) with every operator picks the same branch', async () => {
    const etcd = await pairs.same('compare targets', async ({ client, n }) => {
      const lease = client.lease(60, { autoKeepAlive: false });
      const id = await lease.grant();
      try {
        await client.put('t/a').value('m'); // rev+1, version 1
        await client.put('t/a').value('m'); // rev+2, version 2
        await client.put('t/l').value('x').lease(id); // rev+3
        const cases: Array<[string, Target, Operator, string | number]> = [
          ['t/a', 'Create', '==', n.at(1)], ['t/a', 'Create', '!=', n.at(1)], ['t/a', 'Create', '>', n.at(0)], ['t/a', 'Create', '<', n.at(1)],
          ['t/missing', 'Create', '==', 0], ['t/missing', 'Create', '<', n.at(1)],
          ['t/a', 'Mod', '==', n.at(2)], ['t/a', 'Mod', '===', n.at(2)], ['t/a', 'Mod', '!==', n.at(2)], ['t/a', 'Mod', '<', n.at(3)], ['t/a', 'Mod', '>', n.at(2)],
          ['t/a', 'Version', '==', 2], ['t/a', 'Version', '>', 1], ['t/a', 'Version', '<', 2], ['t/a', 'Version', '!=', 1], ['t/missing', 'Version', '==', 0],
          ['t/a', 'Value', '==', 'm'], ['t/a', 'Value', '>', 'a'], ['t/a', 'Value', '<', 'a'], ['t/a', 'Value', '!=', 'm'],
          // etcd: a Value compare on a missing key always fails, whatever the operator.
          ['t/missing', 'Value', '==', ''], ['t/missing', 'Value', '!=', 'x'],
          ['t/l', 'Lease', '==', id], ['t/l', 'Lease', '!=', id], ['t/a', 'Lease', '==', 0], ['t/l', 'Lease', '>', 0], ['t/missing', 'Lease', '==', 0],
        ];
        const outcomes: Record<string, boolean> = {};
        for (const [key, target, operator, value] of cases) {
          const result = await client.if(key, target, operator, value).commit();
          const shown = target === 'Lease' ? n.lease(value) : target === 'Create' || target === 'Mod' ? n.rev(value) : value;
          outcomes[`${key} ${target} ${operator} ${shown}`] = result.succeeded;
        }
        const conjunction = await client.if('t/a', 'Version', '==', 2).and('t/a', 'Value', '==', 'm').and('t/l', 'Lease', '==', id).commit();
        const oneFalse = await client.if('t/a', 'Version', '==', 2).and('t/a', 'Value', '==', 'other').commit();
        return { outcomes, conjunction: conjunction.succeeded, oneFalse: oneFalse.succeeded };
      } finally {
        await lease.revoke();
      }
    });
    expect(etcd.outcomes['t/a Value == m']).to.equal(true);
    expect(etcd.outcomes['t/missing Value == ']).to.equal(false);
    expect(etcd.conjunction).to.equal(true);
  });

  it('then and else run get, getAll, put and delete builders; commit resolves with every response', async () => {
    const etcd = await pairs.same('branches', async ({ client, n }) => {
      await client.put('tb/a').value('1');
      await client.put('tb/b').value('2');
      const branch = (client: Etcd3, guard: string) => client.if('tb/a', 'Value', '==', guard)
        .then(client.get('tb/a'), client.put('tb/c').value('then'), client.getAll().prefix('tb/'), client.delete().key('tb/b'))
        .else(client.put('tb/d').value('else'), client.delete().key('tb/a'), client.getAll().prefix('tb/').sort('Key', 'Descend'))
        .commit();
      const success = n.of(await branch(client, '1'));
      const failure = n.of(await branch(client, 'no'));
      return { success, failure, after: await client.getAll().prefix('tb/').keys() };
    });
    expect(etcd.success).to.have.property('succeeded', true);
    expect(etcd.success).to.have.nested.property('header.revision', 'rev+3');
    expect(etcd.failure).to.have.property('succeeded', false);
    expect(etcd.after).to.deep.equal(['tb/c', 'tb/d']);
  });

  it('nested transactions (raw request_txn ops) and raw request ops mixed with builders', async () => {
    const etcd = await pairs.same('nested', async ({ client, n }) => {
      await client.put('tn/a').value('1');
      const inner = (guard: string) => ({
        request_txn: {
          compare: [{ key: Buffer.from('tn/a'), target: CompareTarget.Value, result: CompareResult.Equal, value: Buffer.from(guard) }],
          success: [{ request_put: { key: Buffer.from(`tn/inner-${guard}`), value: Buffer.from('ok') } }],
          failure: [{ request_range: { key: Buffer.from('tn/a') } }],
        },
      });
      const outer = await client.if('tn/a', 'Version', '>', 0)
        .then(inner('1'), inner('2'), { request_range: { key: Buffer.from('tn/'), range_end: Buffer.from('tn0') } })
        .commit();
      return { outer: n.of(outer), inner: await client.getAll().prefix('tn/inner').keys() };
    });
    expect(etcd.outer).to.have.property('succeeded', true);
    expect(etcd.inner).to.deep.equal(['tn/inner-1']);
  });

  it('refused transactions: a duplicate key, a put and a delete of the same key, a put with an unknown lease', async () => {
    await pairs.same('refused transactions', async ({ client, n }) => {
      await client.put('tr/a').value('1');
      const duplicate = await n.outcome(client.if('tr/a', 'Version', '>', 0).then(client.put('tr/x').value('1'), client.put('tr/x').value('2')).commit());
      const putAndDelete = await n.outcome(client.if('tr/a', 'Version', '>', 0).then(client.put('tr/x').value('1'), client.delete().prefix('tr/')).commit());
      // In the branch that does not run: still refused.
      const inElse = await n.outcome(client.if('tr/a', 'Version', '>', 0).else(client.put('tr/y').value('1'), client.put('tr/y').value('2')).commit());
      const unknownLease = await n.outcome(client.if('tr/a', 'Version', '>', 0).then(client.put('tr/z').value('1').lease('77777777')).commit());
      const unchanged = n.of(await client.getAll().prefix('tr/').exec());
      return { duplicate, putAndDelete, inElse, unknownLease, unchanged };
    });
  });
});
