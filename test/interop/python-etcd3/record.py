"""What a scenario records, as plain JSON that is equal on etcd and on cairn
exactly when python-etcd3 saw the two behave the same.

Normalised here, because they differ between any two servers:
- revisions, made relative to the revision read when the session started
  (`base`), so that a scenario does not depend on what ran before it;
- lease IDs, which the server chooses: named '<lease 1>', '<lease 2>', ... in
  order of first sight (an ID the scenario chose itself is kept);
- the response header's cluster_id, member_id and raft_term (never recorded).
Everything else (values, versions, counts, booleans, the order of events,
exception classes, gRPC codes and messages) is kept as the client gives it.
"""
import grpc

from etcd3 import exceptions

# A key no scenario writes: a Range of it reads the store's revision.
REVISION_PROBE_KEY = 'python-etcd3/revision-probe'


class Recorder(object):
    def __init__(self, client):
        self.client = client
        self.base = self.revision_now()
        self.results = {}
        self._lease_names = {}
        self._chosen_lease_ids = set()

    def __setitem__(self, step, value):
        if step in self.results:
            raise KeyError('step recorded twice: %s' % step)
        self.results[step] = value

    def revision_now(self):
        return self.client.get_response(REVISION_PROBE_KEY).header.revision

    def revision(self, absolute):
        """A revision relative to the session's start; 0 (no revision: a missing key's) as None."""
        return absolute - self.base if absolute else None

    def choose_lease_id(self, lease_id):
        """A lease ID the scenario asks for: recorded as it is."""
        self._chosen_lease_ids.add(lease_id)
        return lease_id

    def lease(self, lease_id):
        if not lease_id:
            return None
        if lease_id in self._chosen_lease_ids:
            return lease_id
        return self._lease_names.setdefault(lease_id, '<lease %d>' % (len(self._lease_names) + 1))

    def header(self, header):
        return {'revision': self.revision(header.revision)}

    def key_value(self, kv):
        """An mvccpb.KeyValue."""
        return {
            'key': text(kv.key),
            'value': text(kv.value),
            'create_revision': self.revision(kv.create_revision),
            'mod_revision': self.revision(kv.mod_revision),
            'version': kv.version,
            'lease': self.lease(kv.lease),
        }

    def value_and_metadata(self, value, metadata):
        """What get() returns: (value, KVMetadata), or (None, None) for a missing key."""
        if metadata is None:
            return {'value': value, 'metadata': None}
        return {
            'value': text(value),
            'metadata': {
                'key': text(metadata.key),
                'create_revision': self.revision(metadata.create_revision),
                'mod_revision': self.revision(metadata.mod_revision),
                'version': metadata.version,
                'lease_id': self.lease(metadata.lease_id),
                'response_header': self.header(metadata.response_header),
            },
        }

    def range(self, pairs):
        """What get_prefix(), get_range() and get_all() yield."""
        return [self.value_and_metadata(value, metadata) for value, metadata in pairs]

    def event(self, event):
        """A PutEvent or DeleteEvent; prev_kv when the watch asked for it."""
        raw = event._event
        recorded = {'class': type(event).__name__, 'kv': self.key_value(raw.kv)}
        if raw.HasField('prev_kv'):
            recorded['prev_kv'] = self.key_value(raw.prev_kv)
        return recorded

    def watch_response(self, response):
        return {'header': self.header(response.header), 'events': [self.event(event) for event in response.events]}

    def error(self, error):
        """An exception the client raised: its class, and its gRPC code and message or its text."""
        recorded = {'raised': type(error).__name__}
        if isinstance(error, grpc.RpcError) and hasattr(error, 'code'):
            recorded['code'] = error.code().name
            recorded['details'] = error.details()
        else:
            recorded['message'] = str(error)
        if isinstance(error, exceptions.RevisionCompactedError):
            recorded['compacted_revision'] = self.revision(error.compacted_revision)
        return recorded

    def outcome(self, call, shape=lambda returned: returned):
        """What `call` returned (through `shape`), or what it raised."""
        try:
            return {'returned': shape(call())}
        except Exception as error:  # the class is what is recorded
            return self.error(error)


def text(value):
    """Bytes as text when they are UTF-8, else as {'hex': ...}, so that JSON can hold them."""
    if not isinstance(value, bytes):
        return value
    try:
        return value.decode('utf-8')
    except UnicodeDecodeError:
        return {'hex': value.hex()}


def response_op(recorder, op):
    """One of a transaction's responses: the client gives a ResponseOp for put, delete and txn."""
    kind = op.WhichOneof('response')
    if kind == 'response_put':
        put = op.response_put
        return {'put': {'header': recorder.header(put.header), 'prev_kv': recorder.key_value(put.prev_kv) if put.HasField('prev_kv') else None}}
    if kind == 'response_delete_range':
        deleted = op.response_delete_range
        return {'delete': {'deleted': deleted.deleted, 'prev_kvs': [recorder.key_value(kv) for kv in deleted.prev_kvs]}}
    if kind == 'response_txn':
        nested = op.response_txn
        return {'txn': {'succeeded': nested.succeeded, 'responses': [response_op(recorder, inner) for inner in nested.responses]}}
    if kind == 'response_range':
        return {'range': [recorder.key_value(kv) for kv in op.response_range.kvs]}
    raise ValueError('unknown response %r' % kind)


def transaction_result(recorder, result):
    """What transaction() returns: (succeeded, responses), a range as a list of (value, KVMetadata)."""
    succeeded, responses = result
    shaped = []
    for response in responses:
        if isinstance(response, list):
            shaped.append({'range': recorder.range(response)})
        else:
            shaped.append(response_op(recorder, response))
    return {'succeeded': succeeded, 'responses': shaped}
