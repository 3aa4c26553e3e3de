// python-etcd3 (Debian's python3-etcd3, 0.12.0) against etcd 3.4 and cairn:
// each area of its public API runs as one session (python-etcd3/session.py)
// on both servers at once, and the normalised results (record.py) must be
// equal whole. Each test then checks on etcd's results that the session did
// what it means to, so that two equally broken answers cannot pass.
//
// Areas that need servers of their own: python-etcd3-alarms.test.ts (a small
// backend quota), python-etcd3-auth.test.ts (TLS and auth).
import { expect } from 'chai';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { compatPair, type PairSide, type SideName } from '../compat/pair.js';
import { requirePythonEtcd3, runArea, sessionTimeoutMs, type PythonArea, type SessionOutput } from './python-etcd3-session.js';
import { snapshotFacts } from './python-etcd3-snapshot.js';

/** The transactions area: which branch each compare chose. */
const succeededByCompare: Record<string, boolean> = {
  'no compares': true,
  'value == equal': true,
  'value == different': false,
  'value !=': true,
  'value <': true,
  'value >': false,
  'value == of a missing key': false,
  'value != of a missing key': false,
  'version ==': true,
  'version >': false,
  'version <': true,
  'version != of a missing key': false,
  'create == 0 of a missing key': true,
  'create ==': true,
  'create >': false,
  'mod ==': true,
  'mod <': false,
  'mod !=': false,
  'lease == the lease': true,
  'lease == 0 of a key without one': true,
  'lease > 0 of a key without one': false,
  'lease != of a missing key': false,
  'version > 0 over a range': true,
  'create > over a range that has an older key': false,
  'two compares, one false': false,
};

const grpcError = (code: string, details: string) => ({ raised: '_InactiveRpcError', code, details });

describe('interop: python-etcd3 against etcd and cairn', function () {
  this.timeout(sessionTimeoutMs + 10_000);
  const python = requirePythonEtcd3();
  const pair = compatPair();

  /** Runs `area` on both servers; asserts that cairn's results equal etcd's; returns etcd's. */
  async function same(area: PythonArea): Promise<Record<string, unknown>> {
    const [etcd, cairn] = await both(area);
    expect(cairn.results, `python-etcd3 ${area}: cairn (actual) vs etcd (expected)`).to.deep.equal(etcd.results);
    return etcd.results;
  }

  function both(area: PythonArea, flags: (side: PairSide) => string[] = () => []): Promise<[SessionOutput, SessionOutput]> {
    return pair.both((side) => runArea(python(), area, side, flags(side)));
  }

  it('keys: put, get, the range reads with every sort, delete, delete_prefix, replace', async () => {
    const etcd = await same('keys');
    expect(etcd['puts']).to.deep.equal([1, 2, 3, 4, 5, 6, 7, 8, 9, 10].map((revision) => ({ header: { revision }, prev_kv: null })));
    expect(etcd['put k/e again with prev_kv']).to.have.nested.property('prev_kv.value', 'e1');
    expect(etcd['get']).to.deep.include({ value: '2' });
    expect(etcd['get']).to.have.nested.property('metadata.version', 2);
    expect(etcd['get missing']).to.deep.equal({ value: null, metadata: null });
    expect(etcd['get bytes']).to.have.deep.nested.property('value', { hex: '0001fe' });
    expect(etcd['get_prefix sorted']).to.deep.include({
      'None by key': ['k/a', 'k/b', 'k/c', 'k/d'],
      // etcd sorts ascending when a target other than the key is asked for without an order.
      'None by value': ['k/d', 'k/a', 'k/c', 'k/b'],
      'ascend by create': ['k/b', 'k/d', 'k/c', 'k/a'],
      'ascend by mod': ['k/c', 'k/d', 'k/a', 'k/b'],
      'ascend by version': ['k/c', 'k/a', 'k/d', 'k/b'],
      'descend by key': ['k/d', 'k/c', 'k/b', 'k/a'],
      'descend by value': ['k/b', 'k/c', 'k/a', 'k/d'],
    });
    expect((etcd['get_prefix keys_only'] as Array<{ value: string }>).map((pair) => pair.value)).to.deep.equal(['', '', '', '']);
    expect(etcd['get_prefix limit 1'], '0.12.0 drops the limit').to.have.length(4);
    expect(etcd['get_range end before start']).to.deep.equal([]);
    expect(etcd['get_range to the end']).to.deep.equal(['k/c', 'k/d']);
    expect(etcd['put empty key']).to.deep.equal(grpcError('INVALID_ARGUMENT', 'etcdserver: key is not provided'));
    expect(etcd['put oversized value']).to.deep.equal(grpcError('INVALID_ARGUMENT', 'etcdserver: request is too large'));
    expect(etcd).to.deep.include({
      'replace': true,
      'replace stale': false,
      'replace missing': false,
      'put_if_not_exists existing': false,
      'put_if_not_exists new': true,
      'delete': true,
      'delete missing': false,
      'get_prefix after delete_prefix': [],
    });
    expect(etcd['delete_prefix']).to.deep.include({ deleted: 3 });
  });

  it('transactions: every compare target and operator, every operation, and the refused txns', async () => {
    const etcd = await same('transactions');
    const succeeded = Object.fromEntries(Object.keys(succeededByCompare).map((step) => [step, (etcd[step] as { returned?: { succeeded: boolean } }).returned?.succeeded]));
    expect(succeeded).to.deep.equal(succeededByCompare);
    const writes = etcd['put, get, delete, nested txn'] as { returned: { succeeded: boolean; responses: unknown[] } };
    expect(writes.returned.succeeded).to.equal(true);
    expect(writes.returned.responses).to.have.length(6);
    expect(writes.returned.responses[1]).to.have.nested.property('put.prev_kv.value', '2');
    expect(writes.returned.responses[3]).to.have.nested.property('delete.prev_kvs[0].key', 't/b');
    // etcd evaluates a nested txn's compares before the outer txn writes: t/b still holds "b" for it.
    expect(writes.returned.responses[5]).to.have.nested.property('txn.succeeded', true);
    expect(etcd['one key twice']).to.deep.equal(grpcError('INVALID_ARGUMENT', 'etcdserver: duplicate key given in txn request'));
    expect(etcd['too many operations']).to.deep.equal(grpcError('INVALID_ARGUMENT', 'etcdserver: too many operations in txn request'));
    expect(etcd['an unknown lease']).to.deep.equal(grpcError('NOT_FOUND', 'etcdserver: requested lease not found'));
  });

  it('leases: grant, remaining and granted TTL, keys, refresh, revoke, and a short lease expiring', async () => {
    const etcd = await same('leases');
    expect(etcd['lease with a chosen ID']).to.deep.equal({ id: 0x5eed, ttl: 600 });
    // FAILED_PRECONDITION ("lease already exists") becomes the client's own class, without the message.
    expect(etcd['lease with that ID again']).to.deep.equal({ raised: 'PreconditionFailedError', message: '' });
    expect(etcd['lease with a TTL too large']).to.deep.equal(grpcError('OUT_OF_RANGE', 'etcdserver: too large lease TTL'));
    expect(etcd['lease info']).to.deep.equal({ remaining_ttl: '<granted or up to 2 s less>', granted_ttl: 600, keys: ['l/a', 'l/b'] });
    expect(etcd['refresh']).to.have.nested.property('[0].TTL', 600);
    expect(etcd['lease info after revoke']).to.deep.equal({ remaining_ttl: -1, granted_ttl: 0, keys: [] });
    expect(etcd['refresh after revoke']).to.have.nested.property('[0].TTL', 0);
    expect(etcd['revoke again']).to.deep.equal(grpcError('NOT_FOUND', 'etcdserver: requested lease not found'));
    expect(etcd['get after both revokes']).to.deep.equal([]);
    expect(etcd['short lease']).to.include({ ttl: 2, granted_ttl: 2 });
    expect(etcd['short lease expiry']).to.deep.equal({ 'key gone': true, 'after the TTL': true, 'revisions the expiry took': 1, remaining_ttl: -1, granted_ttl: 0, keys: [] });
  });

  it('watches: iterators with cancel, history from a start revision with prev_kv, watch_once, callbacks', async () => {
    const etcd = await same('watches');
    const classes = (events: unknown) => (events as Array<{ class: string }>).map((event) => event.class);
    expect(classes(etcd['watch'])).to.deep.equal(['PutEvent', 'PutEvent', 'DeleteEvent', 'PutEvent']);
    expect(etcd['watch after cancel']).to.deep.equal([]);
    const history = etcd['watch_prefix from the start, with prev_kv'] as Array<{ kv: { mod_revision: number }; prev_kv?: { value: string } }>;
    expect(history.map((event) => event.kv.mod_revision)).to.deep.equal([1, 2, 3, 4, 5, 5]);
    expect(history[3]?.prev_kv?.value).to.equal('2');
    expect(etcd['watch_prefix_response of the history']).to.have.nested.property('[0].events').with.length(6);
    expect(etcd['watch_once of a past revision']).to.have.nested.property('returned.kv.value', '1');
    expect(etcd['watch_once, nothing comes']).to.deep.equal({ raised: 'WatchTimedOut', message: '' });
    expect(etcd['watch_once, a put comes']).to.have.nested.property('returned.kv.value', 'o');
    const callbacks = (etcd['add_watch_callback'] as { callbacks: Array<{ events: Array<{ kv: { value: string } }> }> }).callbacks;
    expect(callbacks.map((response) => response.events.map((event) => event.kv.value)), 'nothing after cancel_watch').to.deep.equal([['before']]);
    expect((etcd['watch of a future revision'] as Array<{ kv: { value: string } }>).map((event) => event.kv.value)).to.deep.equal(['2', '3']);
  });

  it('locks: acquire, is_acquired, refresh, release, a second lock timing out, a lock whose lease expires', async () => {
    const etcd = await same('locks');
    expect(etcd).to.deep.include({
      'acquire': true,
      'key': '/locks/one',
      'is_acquired': true,
      'second acquire while held, timeout 0': false,
      'second is_acquired': false,
      'second release while not holding': false,
      'release': true,
      'is_acquired after release': false,
      'second acquire after the release': true,
      'holder after both released': null,
      'context manager: after': { is_acquired: false, holder: null },
      'short lock lease TTL': 2,
      'waiting lock acquire while held': false,
      'waited at least the short TTL': true,
      'waiting lock acquire after the expiry': true,
      'short lock is_acquired after expiry': false,
    });
    // 0.12.0 with bookworm's tenacity 8: an acquire that would wait fails (see scenarios/locks.py).
    expect(etcd['second acquire while held, waiting']).to.have.property('raised', 'TypeError');
    expect(etcd['holder']).to.deep.equal({ 'value is this lock': true, 'lease': '<lease 1>', 'version': 1 });
    expect(etcd['the short lock key changes']).to.have.nested.property('returned.class', 'DeleteEvent');
  });

  it('compaction: compact, compacting again, and watching a compacted revision', async () => {
    const etcd = await same('compaction');
    const [, , third] = etcd['revisions'] as number[];
    const compacted = grpcError('OUT_OF_RANGE', 'etcdserver: mvcc: required revision has been compacted');
    expect(etcd).to.deep.include({
      'compact': { returned: null },
      'compact the same revision': compacted,
      'compact an older revision': compacted,
      'compact a future revision': grpcError('OUT_OF_RANGE', 'etcdserver: mvcc: required revision is a future revision'),
      'compact physical': { returned: null },
      'watch from a compacted revision': [{ raised: 'RevisionCompactedError', message: '', compacted_revision: third }],
      'its callbacks': [{ raised: 'RevisionCompactedError', message: '', compacted_revision: third }],
    });
    expect(etcd['watch from the compaction revision']).to.have.nested.property('[0].kv.value', 'v3');
    // 0.12.0's watch_once takes the error handed to its callback for a response.
    expect(etcd['watch_once from a compacted revision']).to.deep.equal({ raised: 'AttributeError', message: "'RevisionCompactedError' object has no attribute 'events'" });
  });

  describe('maintenance', () => {
    let directory = '';
    before(() => {
      directory = mkdtempSync(join(tmpdir(), 'cairn-python-etcd3-'));
    });
    after(() => rmSync(directory, { recursive: true, force: true }));

    it('members, status, hash, defragment, and a snapshot each server\'s status tool reads', async () => {
      const snapshotOf = (name: SideName) => join(directory, `${name}.db`);
      const [etcd, cairn] = await both('maintenance', (side) => ['--snapshot', snapshotOf(side.name)]);
      expect(cairn.results, 'python-etcd3 maintenance: cairn (actual) vs etcd (expected)').to.deep.equal(etcd.results);
      const member = { 'is the leader': true, 'name': 'default', 'peer_urls': ['http://127.0.0.1:<port>'], 'client_urls': ['http://<endpoint>'], 'active_alarms': [] };
      expect(etcd.results).to.deep.include({
        'members': [member],
        'status': { 'version': '3.4', 'leader': member, 'raft_term': 2, 'db_size positive': true, 'raft_index positive': true },
        'hash twice without writes': true,
        'hash after writes differs': true,
        'status after writes': { 'db_size grew': true, 'raft_index grew by the writes at least': true, 'raft_term': 2 },
        'defragment': { returned: null },
        'snapshot': { returned: null },
      });
      const [etcdFile, cairnFile] = await Promise.all([
        snapshotFacts('etcd', snapshotOf('etcd'), etcd.base),
        snapshotFacts('cairn', snapshotOf('cairn'), cairn.base),
      ]);
      expect(cairnFile, 'the snapshot file: cairn (actual) vs etcd (expected)').to.deep.equal(etcdFile);
      expect(etcdFile).to.deep.equal({ framing: 'SHA-256 trailer', revision: etcd.results['revision at snapshot'], fields: ['hash', 'revision', 'totalKey', 'totalSize'] });
    });
  });
});
