// etcdctl endpoint status / health / hashkv, side by side on etcd and cairn.
//
// `endpoint hashkv` must give etcd's exact hash for the same history: etcd's
// HashKV is a CRC-32C over its key bucket (revision keys and encoded
// KeyValues), so a different hash means a different encoding or history.
import { expect } from 'chai';
import { HashKVRequest, StatusRequest } from '../../proto/gen/etcdserverpb/rpc.js';
import { etcdctl } from '../harness/etcdctl.js';
import { compatPair } from './pair.js';
import { normaliseRun } from './normalise.js';
import { hashKvRaw, moveLeaderRaw, responseOf, statusRaw, type Clients } from './rpc.js';

const hashKvAt = (clients: Clients, revision: bigint) => hashKvRaw(clients, HashKVRequest.fromPartial({ revision }));

describe('compat: etcdctl endpoint', function () {
  const pair = compatPair();

  // Runs first, before any write: the hash of an empty store.
  it('hashkv of an empty store', async () => {
    const empty = await pair.etcdctl(['endpoint', 'hashkv', '-w', 'json']);
    expect(empty.stdout).to.include('"hash"');
  });

  it('status: revision, leadership, learner and errors', async () => {
    await pair.putAll([['ep/a', '1'], ['ep/b', '2']]);
    const status = await pair.etcdctl(['endpoint', 'status', '-w', 'json']);
    expect(status.stdout).to.include('"revision"');
    const simple = await pair.etcdctl(['endpoint', 'status']);
    expect(simple.stdout).to.include(', true, false,');
  });

  it('health', async () => {
    // etcdctl 3.4 prints the health line on stderr.
    const health = await pair.etcdctl(['endpoint', 'health']);
    expect(health.stderr).to.include('is healthy');
    await pair.etcdctl(['endpoint', 'health', '-w', 'json']);
  });

  it('hashkv after puts, overwrites and deletes', async () => {
    await pair.putAll([['ep/a', 'again'], ['ep/c', ''], ['ep/d', 'x'.repeat(300)]]);
    await pair.del('ep/b');
    const hash = await pair.etcdctl(['endpoint', 'hashkv']);
    expect(hash.code).to.equal(0);
    await pair.etcdctl(['endpoint', 'hashkv', '-w', 'json']);
  });

  it('hashkv --rev at each earlier revision', async () => {
    const current = await pair.put('ep/e', 'last');
    for (let revision = 1n; revision <= current; revision += 1n) {
      await pair.raw((clients) => hashKvAt(clients, revision));
    }
    await pair.etcdctl(['endpoint', 'hashkv', `--rev=${current - 2n}`, '-w', 'json']);
  });

  it('hashkv at a future revision fails the same way', async () => {
    const outcome = await pair.raw((clients) => hashKvAt(clients, 1_000_000n));
    expect(outcome.ok).to.equal(false);
  });

  it('hashkv after a compaction', async () => {
    const revision = await pair.putAll([['ep/a', 'after'], ['ep/f', 'y']]);
    await pair.etcdctl(['compaction', '--physical', String(revision - 3n)]);
    await pair.etcdctl(['endpoint', 'hashkv', '-w', 'json']);
    await pair.raw((clients) => hashKvAt(clients, revision - 1n));
    await pair.raw((clients) => hashKvAt(clients, revision - 4n));
  });

  it('status after compaction still reports the same revision', async () => {
    await pair.etcdctl(['endpoint', 'status', '-w', 'json']);
  });

  // Written as a URL, the endpoint is dialled as the gRPC target "passthrough:///http://…" by the
  // per-endpoint commands, whose :authority then carries the scheme (server/http/authority-repair.ts);
  // with --cluster they dial the client URLs the member list gives, which carry their scheme as etcd's.
  const perEndpoint = [['endpoint', 'status'], ['endpoint', 'status', '-w', 'json'], ['endpoint', 'hashkv'], ['endpoint', 'health'], ['defrag']];
  for (const args of [...perEndpoint, ['endpoint', 'status', '--cluster'], ['endpoint', 'hashkv', '--cluster'], ['defrag', '--cluster']]) {
    it(`${args.join(' ')} with the endpoint written http://host:port`, async () => {
      const [etcd, cairn] = await pair.both(async (side) => {
        const url = `http://${side.server.endpoint}`;
        return normaliseRun(await etcdctl(url, args), url, args);
      });
      expect(cairn, 'cairn (actual) vs etcd (expected)').to.deep.equal(etcd);
      expect(etcd.code).to.equal(0);
      expect(JSON.stringify(etcd)).to.include('<endpoint>');
    });
  }

  it('MoveLeader to the member that leads answers an empty response, no header, as etcd 3.4', async () => {
    const outcome = await pair.raw(async (clients) => {
      const self = responseOf(await statusRaw(clients, StatusRequest.fromPartial({})), 'Status').leader;
      return moveLeaderRaw(clients, { targetID: self });
    });
    expect(outcome).to.deep.equal({ ok: true, response: { header: undefined } });
  });
});
