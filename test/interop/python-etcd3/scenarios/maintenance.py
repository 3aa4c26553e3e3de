"""The member and its backend: members, status, hash, defragment, snapshot.

Normalised here, because they differ between any two servers by nature:
- the member ID (random on both; recorded as whether it is the leader's);
- ports in URLs (the ports are free ones chosen per run);
- status: the version to major.minor (etcd reports its release, 3.4.23;
  cairn the etcd API version it implements, 3.4.0), the db size and the raft
  index to how they change (bbolt and lmdb files grow differently; etcd's log
  also holds its configuration changes and published attributes, so the
  indexes of two servers differ from the start);
- hash: a hash of each backend's own file format, so only how it changes.
The snapshot's file is checked by the mocha test (it knows the status tools).
"""
import re

# Enough values to grow either backend by more than its first pages.
GROWTH_KEYS = 64
GROWTH_VALUE_BYTES = 4096


def run(recorder, connection, options):
    client = recorder.client

    members = list(client.members)
    status = client.status()
    endpoint = '%s:%d' % (connection['host'], connection['port'])
    recorder['members'] = [member_of(member, status, endpoint) for member in members]
    recorder['status'] = {
        'version': '.'.join(status.version.split('.')[:2]),
        'leader': member_of(status.leader, status, endpoint) if status.leader is not None else None,
        'raft_term': status.raft_term,
        'db_size positive': status.db_size > 0,
        'raft_index positive': status.raft_index > 0,
    }

    hashed = client.hash()
    recorder['hash twice without writes'] = client.hash() == hashed
    for i in range(GROWTH_KEYS):
        client.put('m/%02d' % i, 'v' * GROWTH_VALUE_BYTES)
    # The hash before the status: etcd commits its backend before it hashes it, and measures
    # its size when it commits, so the status after the hash reports the grown size.
    recorder['hash after writes differs'] = client.hash() != hashed
    grown = client.status()
    recorder['status after writes'] = {
        'db_size grew': grown.db_size > status.db_size,
        'raft_index grew by the writes at least': grown.raft_index - status.raft_index >= GROWTH_KEYS,
        'raft_term': grown.raft_term,
    }

    client.delete_prefix('m/')
    client.compact(recorder.revision_now(), physical=True)
    recorder['defragment'] = recorder.outcome(client.defragment)
    recorder['get after defragment'] = recorder.range(client.get_prefix('m/'))
    recorder['status after defragment'] = {'db_size positive': client.status().db_size > 0}

    client.put('m/snapshot', 'kept')
    recorder['revision at snapshot'] = recorder.revision(recorder.revision_now())
    with open(options.snapshot, 'wb') as snapshot:
        recorder['snapshot'] = recorder.outcome(lambda: client.snapshot(snapshot))
    client.delete_prefix('m/')


def member_of(member, status, endpoint):
    return {
        'is the leader': member.id == status.leader.id if status.leader is not None else None,
        'name': member.name,
        'peer_urls': [with_port(url, endpoint) for url in member.peer_urls],
        'client_urls': [with_port(url, endpoint) for url in member.client_urls],
        'active_alarms': [{'alarm_type': alarm.alarm_type, 'member is this one': alarm.member_id == member.id} for alarm in member.active_alarms],
    }


def with_port(url, endpoint):
    """A URL with its port named (the servers listen on ports chosen per run): the endpoint the
    session connected to as <endpoint>, any other as 127.0.0.1:<port>."""
    return re.sub(r'127\.0\.0\.1:\d+', '127.0.0.1:<port>', url.replace(endpoint, '<endpoint>'))
