"""Auth, on servers over TLS with auth enabled (the mocha test sets it up
with etcdctl: python-etcd3 0.12.0 has no user or role API): root (the
session's client), and alice, whose role grants readwrite on the prefix app/
and read on the key shared. etcd3.client(user=, password=) authenticates once
and sends the token with every call, as gRPC call credentials and again as
metadata; grpcio sends call credentials over TLS only, hence the TLS.

What each user may do, and the errors of a wrong password, an unknown user,
no credentials, and a user outside its grants (keys, txns, watches, locks,
maintenance)."""
import io
import itertools
import threading

import etcd3

OTHER_USER = 'alice'
OTHER_PASSWORD = 'alice-secret'
WAIT_SECONDS = 10


def run(recorder, connection, options):
    root = recorder.client
    recorder['root put'] = recorder.header(root.put('app/1', 'v').header)
    root.put('shared', 's')
    root.put('secret', 'x')

    recorder['wrong password'] = recorder.outcome(lambda: etcd3.client(**connection, user=OTHER_USER, password='wrong'))
    recorder['unknown user'] = recorder.outcome(lambda: etcd3.client(**connection, user='nobody', password='x'))
    anonymous = etcd3.client(**connection)
    recorder['no credentials: get'] = recorder.outcome(lambda: anonymous.get('app/1'))
    recorder['no credentials: status'] = recorder.outcome(lambda: anonymous.status().version.split('.')[:2])

    alice = etcd3.client(**connection, user=OTHER_USER, password=OTHER_PASSWORD)
    recorder['get inside the grant'] = recorder.outcome(lambda: alice.get('app/1'), lambda got: recorder.value_and_metadata(*got))
    recorder['put inside the grant'] = recorder.outcome(lambda: alice.put('app/2', 'w'), lambda response: recorder.header(response.header))
    recorder['get a read-only key'] = recorder.outcome(lambda: alice.get('shared'), lambda got: recorder.value_and_metadata(*got))
    recorder['put a read-only key'] = recorder.outcome(lambda: alice.put('shared', 'no'))
    recorder['get outside the grants'] = recorder.outcome(lambda: alice.get('secret'))
    recorder['delete outside the grants'] = recorder.outcome(lambda: alice.delete('secret'))
    recorder['get_prefix inside'] = recorder.outcome(lambda: alice.get_prefix('app/'), recorder.range)
    recorder['get_all'] = recorder.outcome(lambda: list(alice.get_all()))
    recorder['replace inside'] = recorder.outcome(lambda: alice.replace('app/2', 'w', 'w2'))
    recorder['replace comparing outside'] = recorder.outcome(lambda: alice.transaction(
        compare=[alice.transactions.value('secret') == 'x'], success=[alice.transactions.put('app/2', 'w3')], failure=[]))

    lease = alice.lease(60)
    recorder['lease'] = recorder.lease(lease.id)
    recorder['put with the lease inside'] = recorder.outcome(lambda: alice.put('app/leased', 'v', lease=lease), lambda response: recorder.header(response.header))
    recorder['lease keys'] = recorder.outcome(lambda: sorted(key.decode() for key in lease.keys))
    recorder['revoke'] = recorder.outcome(lease.revoke)

    recorder['watch outside the grants: the watch ID'] = recorder.outcome(lambda: alice.add_watch_callback('secret', lambda response: None))
    events, cancel = alice.watch_prefix('app/')
    deadline = threading.Timer(WAIT_SECONDS, cancel)
    deadline.start()
    root.put('app/3', 'from root')
    recorder['watch inside the grant'] = [recorder.event(event) for event in itertools.islice(events, 1)]
    deadline.cancel()
    cancel()

    recorder['lock outside the grants'] = recorder.outcome(lambda: alice.lock('alice-lock').acquire(timeout=0))
    root_lock = root.lock('root-lock')
    recorder['root lock'] = root_lock.acquire(timeout=0)
    recorder['root lock release'] = root_lock.release()
    root_lock.lease.revoke()

    for name, client in (('alice', alice), ('root', root)):
        recorder[name + ' status'] = recorder.outcome(lambda: client.status().version.split('.')[:2])
        recorder[name + ' members'] = recorder.outcome(lambda: [member.name for member in client.members])
        recorder[name + ' list_alarms'] = recorder.outcome(lambda: list(client.list_alarms()))
        # 0.12.0's hash() sends no credentials: refused even for root.
        recorder[name + ' hash'] = recorder.outcome(client.hash)
        recorder[name + ' defragment'] = recorder.outcome(client.defragment)
        recorder[name + ' snapshot'] = recorder.outcome(lambda: client.snapshot(io.BytesIO()))
    recorder['alice compact'] = recorder.outcome(lambda: alice.compact(recorder.revision_now()))
