"""Transactions: transaction(compare, success, failure) with every compare
target and operator, every operation (put, get, delete, a nested txn), a
compare over a range, and the errors of a txn that writes one key twice, has
too many operations or names an unknown lease."""
import etcd3.etcdrpc as etcdrpc
from etcd3 import transactions

from record import transaction_result

LEASE_TTL_SECONDS = 600
# etcd's default --max-txn-ops.
TXN_OPS_MAX = 128


class Lease(transactions.BaseCompare):
    """A compare of a key's lease. 0.12.0 offers value, version, create and
    mod only; this is the Compare etcd's API defines for the fifth target
    (target LEASE, field lease), built on the client's own base class, as a
    user of this version would write it."""

    def build_compare(self, compare):
        compare.target = etcdrpc.Compare.LEASE
        compare.lease = int(self.value)


def run(recorder, connection, options):
    client = recorder.client
    t = client.transactions

    lease = client.lease(LEASE_TTL_SECONDS)
    client.put('t/a', '1')
    second = client.put('t/a', '2').header.revision
    client.put('t/b', 'b', lease=lease)
    created = client.get('t/a')[1].create_revision
    recorder['setup'] = {'t/a create': recorder.revision(created), 't/a mod': recorder.revision(second), 'lease': recorder.lease(lease.id)}

    def attempt(step, compare, success=(), failure=()):
        recorder[step] = recorder.outcome(
            lambda: client.transaction(compare=list(compare), success=list(success), failure=list(failure)),
            lambda result: transaction_result(recorder, result))

    # Each branch reads t/a, so that the result shows which one ran.
    read = [t.get('t/a')]
    attempt('no compares', [], read)
    attempt('value == equal', [t.value('t/a') == '2'], read, [])
    attempt('value == different', [t.value('t/a') == '1'], [], read)
    attempt('value !=', [t.value('t/a') != '1'], read, [])
    attempt('value <', [t.value('t/a') < '3'], read, [])
    attempt('value >', [t.value('t/a') > '3'], [], read)
    attempt('value == of a missing key', [t.value('t/missing') == ''], [], read)
    attempt('value != of a missing key', [t.value('t/missing') != 'x'], [], read)
    attempt('version ==', [t.version('t/a') == 2], read, [])
    attempt('version >', [t.version('t/a') > 2], [], read)
    attempt('version <', [t.version('t/a') < 3], read, [])
    attempt('version != of a missing key', [t.version('t/missing') != 0], [], read)
    attempt('create == 0 of a missing key', [t.create('t/missing') == 0], read, [])
    attempt('create ==', [t.create('t/a') == created], read, [])
    attempt('create >', [t.create('t/a') > created], [], read)
    attempt('mod ==', [t.mod('t/a') == second], read, [])
    attempt('mod <', [t.mod('t/a') < second], [], read)
    attempt('mod !=', [t.mod('t/a') != second], [], read)
    attempt('lease == the lease', [Lease('t/b') == lease.id], read, [])
    attempt('lease == 0 of a key without one', [Lease('t/a') == 0], read, [])
    attempt('lease > 0 of a key without one', [Lease('t/a') > 0], [], read)
    attempt('lease != of a missing key', [Lease('t/missing') != 0], [], read)
    attempt('version > 0 over a range', [t.version('t/', range_end='t0') > 0], read, [])
    attempt('create > over a range that has an older key', [t.create('t/', range_end='t0') > created], [], read)
    attempt('two compares, one false', [t.value('t/a') == '2', t.version('t/a') == 1], [], read)

    attempt('put, get, delete, nested txn', [t.version('t/a') > 0], [
        t.put('t/c', 'c1'),
        t.put('t/a', '3', prev_kv=True),
        t.put('t/d', 'd', lease=lease),
        t.delete('t/b', prev_kv=True),
        t.get('t/', 't0'),
        t.txn(compare=[t.value('t/b') == 'b'], success=[t.delete('t/missing')], failure=[t.get('t/c'), t.put('t/e', 'e')]),
    ])
    attempt('delete a range', [], [t.delete('t/c', 't/e', prev_kv=True)])
    attempt('one key twice', [], [t.put('t/a', '4'), t.put('t/a', '5')])
    attempt('one key put and deleted', [], [t.put('t/a', '4'), t.delete('t/a')])
    attempt('too many operations', [], [t.put('t/many/%d' % i, 'v') for i in range(TXN_OPS_MAX + 1)])
    attempt('an unknown lease', [], [t.put('t/a', '4', lease=1)])
    recorder['keys after'] = recorder.range(client.get_prefix('t/'))

    lease.revoke()
    client.delete_prefix('t/')
