"""Keys: put, get, get_prefix / get_range / get_all with every sort order and
target, delete, delete_prefix, replace, put_if_not_exists, and the errors of
an empty key and an oversized request."""

from record import text

# Four keys written so that each sort target orders them differently:
# by key a b c d; by create revision b d c a; by mod revision c d a b;
# by version c(1) a(2) d(3) b(4); by value d(1) a(2) c(3) b(4).
WRITES = (
    ('k/b', 'x'), ('k/d', 'x'), ('k/c', '3'), ('k/a', 'x'),
    ('k/d', 'x'), ('k/b', 'x'), ('k/d', '1'), ('k/b', 'x'), ('k/a', '2'), ('k/b', '4'),
)
SORT_ORDERS = (None, 'ascend', 'descend')
SORT_TARGETS = ('key', 'version', 'create', 'mod', 'value')
# etcd's default --max-request-bytes is 1.5 MiB; gRPC itself takes up to 2 MiB, so a value
# between the two reaches the server's own check.
OVERSIZED_VALUE_BYTES = 1024 * 1024 + 700 * 1024


def run(recorder, connection, options):
    client = recorder.client

    def put_response(response):
        prev_kv = recorder.key_value(response.prev_kv) if response.HasField('prev_kv') else None
        return {'header': recorder.header(response.header), 'prev_kv': prev_kv}

    def keys_of(pairs):
        return [text(metadata.key) for _, metadata in pairs]

    recorder['puts'] = [put_response(client.put(key, value)) for key, value in WRITES]
    recorder['put k/e'] = put_response(client.put('k/e', 'e1'))
    recorder['put k/e again with prev_kv'] = put_response(client.put('k/e', 'e2', prev_kv=True))
    recorder['delete k/e'] = client.delete('k/e')

    recorder['get'] = recorder.value_and_metadata(*client.get('k/a'))
    recorder['get serializable'] = recorder.value_and_metadata(*client.get('k/a', serializable=True))
    recorder['get missing'] = recorder.value_and_metadata(*client.get('k/missing'))
    recorder['put bytes'] = put_response(client.put(b'k-bytes/\xff\x00', b'\x00\x01\xfe'))
    recorder['get bytes'] = recorder.value_and_metadata(*client.get(b'k-bytes/\xff\x00'))

    recorder['get_prefix'] = recorder.range(client.get_prefix('k/'))
    recorder['get_prefix sorted'] = {
        '%s by %s' % (order, target): keys_of(client.get_prefix('k/', sort_order=order, sort_target=target))
        for order in SORT_ORDERS for target in SORT_TARGETS
    }
    recorder['get_prefix keys_only'] = recorder.range(client.get_prefix('k/', keys_only=True))
    # 0.12.0 takes limit (and revision, count_only, min/max revisions) but never sets them in the request.
    recorder['get_prefix limit 1'] = keys_of(client.get_prefix('k/', limit=1))
    recorder['get_prefix unknown sort order'] = recorder.outcome(lambda: list(client.get_prefix('k/', sort_order='up')))

    recorder['get_range'] = recorder.range(client.get_range('k/b', 'k/d'))
    recorder['get_range descending by mod'] = keys_of(client.get_range('k/a', 'k/e', sort_order='descend', sort_target='mod'))
    recorder['get_range end before start'] = recorder.range(client.get_range('k/d', 'k/a'))
    recorder['get_range to the end'] = keys_of(client.get_range('k/c', '\0'))

    recorder['get_all'] = recorder.range(client.get_all())
    recorder['get_all descending by value'] = keys_of(client.get_all(sort_order='descend', sort_target='value'))
    recorder['get_all keys_only'] = recorder.range(client.get_all(keys_only=True))

    recorder['get empty key'] = recorder.outcome(lambda: client.get(''))
    recorder['put empty key'] = recorder.outcome(lambda: client.put('', 'v'))
    recorder['put oversized value'] = recorder.outcome(lambda: client.put('k/big', b'v' * OVERSIZED_VALUE_BYTES))

    recorder['replace'] = client.replace('k/a', '2', '5')
    recorder['replace stale'] = client.replace('k/a', '2', '6')
    recorder['replace missing'] = client.replace('k/missing', '', '1')
    recorder['put_if_not_exists existing'] = client.put_if_not_exists('k/a', 'x')
    recorder['put_if_not_exists new'] = client.put_if_not_exists('k/new', 'n')
    recorder['get after replace'] = recorder.range(client.get_prefix('k/'))

    recorder['delete'] = client.delete('k/c')
    recorder['delete missing'] = client.delete('k/c')
    deleted = client.delete('k/d', prev_kv=True, return_response=True)
    recorder['delete with prev_kv'] = {'header': recorder.header(deleted.header), 'deleted': deleted.deleted, 'prev_kvs': [recorder.key_value(kv) for kv in deleted.prev_kvs]}
    deleted = client.delete_prefix('k/')
    recorder['delete_prefix'] = {'header': recorder.header(deleted.header), 'deleted': deleted.deleted, 'prev_kvs': [recorder.key_value(kv) for kv in deleted.prev_kvs]}
    recorder['get_prefix after delete_prefix'] = recorder.range(client.get_prefix('k/'))
    client.delete_prefix('k-bytes/')
