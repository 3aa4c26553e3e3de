// The JSON gateway side by side: one scripted session of curl calls against a
// real etcd 3.4 and against cairn, every answer compared byte for byte (its
// HTTP status, content type and body) once the few server-chosen values are
// rewritten (gateway-normalise.ts). Both servers run the same writes in the
// same order, so revisions are compared as they are; leases get explicit IDs
// where the ID ends up in a key (locks, elections).
//
// Where the two cannot be byte-equal, the test says so and checks cairn on its
// own: a snapshot carries each backend's own file (its framing and SHA-256
// trailer are checked); cairn lists client URLs without their scheme.
import { expect } from 'chai';
import { createHash } from 'node:crypto';
import { compatPair, type PairSide, type SideName } from './pair.js';
import { curlCall, CurlStream, type CurlAnswer, type CurlOptions } from './curl.js';
import { GatewayNormaliser, type StepNormalisation } from './gateway-normalise.js';

/** One answer as the comparison sees it. */
interface Entry {
  what: string;
  status: number;
  contentType: string;
  body: string;
}

/** base64 of a UTF-8 string, as the gateway carries bytes. */
const b = (text: string): string => Buffer.from(text).toString('base64');
const json = (value: unknown): string => JSON.stringify(value);
/** The base64 range_end that covers every key starting with `prefix`. */
function prefixEnd(prefix: string): string {
  const end = Buffer.from(prefix);
  end[end.length - 1] = (end[end.length - 1] ?? 0) + 1;
  return end.toString('base64');
}

const statusFields = ['version', 'dbSize', 'dbSizeInUse', 'raftIndex', 'raftAppliedIndex', 'raftTerm'];
const leaseTtlSeconds = 600;

/** One server's side of the session: every call is recorded, normalised, in its transcript. */
class GatewaySession {
  readonly transcript: Entry[] = [];
  readonly normaliser: GatewayNormaliser;
  /** Values a step learnt from this server (a token, a lease ID it chose). */
  readonly learnt = new Map<string, string>();

  constructor(readonly side: PairSide) {
    this.normaliser = new GatewayNormaliser(side.server.clientUrl);
  }

  url(path: string): string {
    return `${this.side.server.clientUrl}${path}`;
  }

  async call(what: string, path: string, body: unknown, options: CurlOptions & { normalise?: StepNormalisation } = {}): Promise<CurlAnswer> {
    const text = body === undefined ? undefined : typeof body === 'string' ? body : json(body);
    const answer = await curlCall(this.url(path), text, options);
    this.record(what, answer, options.normalise);
    return answer;
  }

  record(what: string, answer: CurlAnswer, normalise?: StepNormalisation): void {
    this.transcript.push({ what, status: answer.status, contentType: answer.contentType, body: this.normaliser.normalise(answer.body, normalise) });
  }

  stream(path: string, body: unknown, options: CurlOptions = {}): CurlStream {
    return new CurlStream(this.url(path), typeof body === 'string' ? body : json(body), options);
  }

  /** A stream's lines, recorded one entry each. */
  recordLines(what: string, lines: readonly string[]): void {
    lines.forEach((line, index) => this.transcript.push({ what: `${what} [${index}]`, status: 200, contentType: 'stream', body: this.normaliser.normalise(line) }));
  }

  /** The JSON value of a field of an answer (the caller knows it is there). */
  static field(answer: CurlAnswer, ...path: string[]): string {
    let value: unknown = JSON.parse(answer.body);
    for (const name of path) value = (value as Record<string, unknown>)[name];
    return String(value);
  }
}

describe('compat: the JSON gateway, by curl', function () {
  this.timeout(60_000);
  const pair = compatPair();
  const sessions = new Map<SideName, GatewaySession>();
  const sessionOf = (side: PairSide): GatewaySession => {
    let session = sessions.get(side.name);
    if (session === undefined || session.side.server !== side.server) {
      session = new GatewaySession(side);
      sessions.set(side.name, session);
    }
    return session;
  };

  /**
   * Runs `scenario` on both servers and compares the entries it recorded;
   * `kept` rewrites cairn's entries for a difference the test checked and keeps.
   */
  async function same(scenario: (session: GatewaySession) => Promise<void>, kept: (entry: Entry) => Entry = (entry) => entry): Promise<Entry[]> {
    const [etcd, cairn] = await pair.both(async (side) => {
      const session = sessionOf(side);
      const start = session.transcript.length;
      await scenario(session);
      return session.transcript.slice(start);
    });
    expect(cairn.map(kept), 'cairn (actual) vs etcd (expected)').to.deep.equal(etcd);
    return etcd;
  }

  it('kv/put: prev_kv, lease, ignore_value, ignore_lease; an empty key, a missing key, a missing lease, a value with ignore_value', async () => {
    const entries = await same(async (s) => {
      await s.call('put', '/v3/kv/put', { key: b('p/a'), value: b('1') });
      await s.call('put prev_kv', '/v3/kv/put', { key: b('p/a'), value: b('2'), prev_kv: true });
      await s.call('grant', '/v3/lease/grant', { ID: '1000', TTL: String(leaseTtlSeconds) });
      await s.call('put with lease', '/v3/kv/put', { key: b('p/b'), value: b('1'), lease: '1000' });
      await s.call('put ignore_value', '/v3/kv/put', { key: b('p/b'), ignore_value: true, lease: '1000', prev_kv: true });
      await s.call('put ignore_lease', '/v3/kv/put', { key: b('p/b'), value: b('2'), ignore_lease: true, prev_kv: true });
      await s.call('range p/b', '/v3/kv/range', { key: b('p/b') });
      await s.call('ignore_value on a missing key', '/v3/kv/put', { key: b('p/none'), ignore_value: true });
      await s.call('empty key', '/v3/kv/put', { key: '', value: b('1') });
      await s.call('no key at all', '/v3/kv/put', {});
      await s.call('missing lease', '/v3/kv/put', { key: b('p/c'), value: b('1'), lease: '999' });
      await s.call('value with ignore_value', '/v3/kv/put', { key: b('p/a'), value: b('1'), ignore_value: true });
      await s.call('lease with ignore_lease', '/v3/kv/put', { key: b('p/a'), value: b('1'), lease: '1000', ignore_lease: true });
      await s.call('revoke', '/v3/lease/revoke', { ID: '1000' });
    });
    expect(entries.map((entry) => entry.status)).to.deep.equal([200, 200, 200, 200, 200, 200, 200, 400, 400, 400, 404, 400, 400, 200]);
  });

  it('kv/range: prefix, limit, count_only, keys_only, sort, revision, serializable, filters, camelCase names and enum numbers, a future revision', async () => {
    await same(async (s) => {
      for (const [key, value] of [['r/c', '3'], ['r/a', '1'], ['r/b', '2'], ['r/d', '0'], ['r/a', '4']] as const) await s.call(`put ${key}`, '/v3/kv/put', { key: b(key), value: b(value) });
      const written = Number(GatewaySession.field(await s.call('range r/a', '/v3/kv/range', { key: b('r/a') }), 'header', 'revision'));
      const prefix = { key: b('r/'), range_end: prefixEnd('r/') };
      await s.call('prefix', '/v3/kv/range', prefix);
      await s.call('from key', '/v3/kv/range', { key: b('r/b'), range_end: 'AA==' });
      await s.call('limit', '/v3/kv/range', { ...prefix, limit: 2 });
      await s.call('limit as a string', '/v3/kv/range', { ...prefix, limit: '3' });
      await s.call('count_only', '/v3/kv/range', { ...prefix, count_only: true });
      await s.call('keys_only', '/v3/kv/range', { ...prefix, keys_only: true });
      await s.call('sort by value descending', '/v3/kv/range', { ...prefix, sort_order: 'DESCEND', sort_target: 'VALUE' });
      await s.call('sort by mod revision', '/v3/kv/range', { ...prefix, sort_order: 'ASCEND', sort_target: 'MOD', limit: 3 });
      await s.call('sort by create, enums as numbers', '/v3/kv/range', { ...prefix, sort_order: 2, sort_target: 2 });
      await s.call('at an old revision', '/v3/kv/range', { ...prefix, revision: String(written - 2) });
      await s.call('serializable', '/v3/kv/range', { ...prefix, serializable: true });
      await s.call('min_mod_revision', '/v3/kv/range', { ...prefix, min_mod_revision: String(written - 1) });
      await s.call('max_create_revision', '/v3/kv/range', { ...prefix, max_create_revision: String(written - 3) });
      await s.call('camelCase names', '/v3/kv/range', { key: b('r/'), rangeEnd: prefixEnd('r/'), countOnly: true });
      await s.call('a key that is not there', '/v3/kv/range', { key: b('r/zzz') });
      await s.call('a future revision', '/v3/kv/range', { key: b('r/a'), revision: String(written + 100) });
      await s.call('an empty key', '/v3/kv/range', { key: '' });
    });
  });

  it('kv/deleterange: one key, a prefix with prev_kv, nothing', async () => {
    await same(async (s) => {
      for (const key of ['d/a', 'd/b', 'd/c']) await s.call(`put ${key}`, '/v3/kv/put', { key: b(key), value: b(key) });
      await s.call('delete one', '/v3/kv/deleterange', { key: b('d/a') });
      await s.call('delete prefix prev_kv', '/v3/kv/deleterange', { key: b('d/'), range_end: prefixEnd('d/'), prev_kv: true });
      await s.call('delete nothing', '/v3/kv/deleterange', { key: b('d/none') });
      await s.call('delete an empty key', '/v3/kv/deleterange', { key: '' });
    });
  });

  it('kv/txn: compares on value, version, create, mod and lease; nested range, put, delete and txn; camelCase; duplicate keys', async () => {
    await same(async (s) => {
      await s.call('grant', '/v3/lease/grant', { ID: '1001', TTL: String(leaseTtlSeconds) });
      await s.call('put t/a', '/v3/kv/put', { key: b('t/a'), value: b('1') });
      const revision = GatewaySession.field(await s.call('put t/b', '/v3/kv/put', { key: b('t/b'), value: b('2'), lease: '1001' }), 'header', 'revision');
      await s.call('put t/a again', '/v3/kv/put', { key: b('t/a'), value: b('3') });
      const compare = [
        { key: b('t/a'), target: 'VALUE', result: 'EQUAL', value: b('3') },
        { key: b('t/a'), target: 'VERSION', result: 'GREATER', version: '1' },
        { key: b('t/b'), target: 'CREATE', result: 'EQUAL', create_revision: revision },
        { key: b('t/b'), target: 'MOD', result: 'LESS', mod_revision: String(Number(revision) + 1) },
        { key: b('t/b'), target: 'LEASE', result: 'EQUAL', lease: '1001' },
        { key: b('t/'), range_end: prefixEnd('t/'), target: 'VERSION', result: 'NOT_EQUAL', version: '0' },
      ];
      const success = [
        { request_range: { key: b('t/'), range_end: prefixEnd('t/') } },
        { request_put: { key: b('t/c'), value: b('c'), prev_kv: true } },
        { request_delete_range: { key: b('t/a'), prev_kv: true } },
        { request_txn: { compare: [{ key: b('t/b'), target: 'VALUE', value: b('2') }], success: [{ request_put: { key: b('t/d'), value: b('d') } }, { request_range: { key: b('t/d') } }] } },
      ];
      const failure = [{ request_range: { key: b('t/a') } }, { request_delete_range: { key: b('t/none') } }];
      await s.call('txn that succeeds', '/v3/kv/txn', { compare, success, failure });
      await s.call('the same txn again fails', '/v3/kv/txn', { compare, success, failure });
      await s.call('txn in camelCase, no compares', '/v3/kv/txn', { success: [{ requestPut: { key: b('t/e'), value: b('e'), prevKv: true } }, { requestRange: { key: b('t/'), rangeEnd: prefixEnd('t/'), countOnly: true } }] });
      await s.call('compare with target as a number', '/v3/kv/txn', { compare: [{ key: b('t/e'), target: 1, result: 0, create_revision: '0' }], failure: [{ request_range: { key: b('t/e'), keys_only: true } }] });
      await s.call('empty txn', '/v3/kv/txn', {});
      await s.call('duplicate key', '/v3/kv/txn', { success: [{ request_put: { key: b('t/x'), value: b('1') } }, { request_put: { key: b('t/x'), value: b('2') } }] });
      await s.call('a put with an empty key', '/v3/kv/txn', { success: [{ request_put: { key: '', value: b('1') } }] });
      await s.call('revoke', '/v3/lease/revoke', { ID: '1001' });
    });
  });

  it('kv/compaction: compacts, then an old revision is compacted; a compacted and a future compaction', async () => {
    await same(async (s) => {
      await s.call('put', '/v3/kv/put', { key: b('c/a'), value: b('1') });
      const revision = Number(GatewaySession.field(await s.call('put', '/v3/kv/put', { key: b('c/a'), value: b('2') }), 'header', 'revision'));
      await s.call('compact', '/v3/kv/compaction', { revision: String(revision), physical: true });
      await s.call('range below it', '/v3/kv/range', { key: b('c/a'), revision: String(revision - 1) });
      await s.call('range at it', '/v3/kv/range', { key: b('c/a'), revision: String(revision) });
      await s.call('compact there again', '/v3/kv/compaction', { revision: String(revision) });
      await s.call('compact in the future', '/v3/kv/compaction', { revision: String(revision + 100) });
    });
  });

  it('lease: grant (chosen and given IDs), timetolive with keys, leases, revoke, the /v3/kv/lease/ aliases and their errors', async () => {
    await same(async (s) => {
      await s.call('grant, the server chooses', '/v3/lease/grant', { TTL: String(leaseTtlSeconds) });
      await s.call('grant 2000', '/v3/lease/grant', { ID: '2000', TTL: String(leaseTtlSeconds + 10) });
      await s.call('grant 2000 again', '/v3/lease/grant', { ID: '2000', TTL: '60' });
      for (const key of ['l/a', 'l/b']) await s.call(`put ${key}`, '/v3/kv/put', { key: b(key), value: b('1'), lease: '2000' });
      const ttl = { normalise: { grantedTtlSeconds: leaseTtlSeconds + 10, sortKeys: true } };
      await s.call('timetolive', '/v3/lease/timetolive', { ID: '2000' }, ttl);
      await s.call('timetolive keys', '/v3/lease/timetolive', { ID: '2000', keys: true }, ttl);
      await s.call('kv/lease/timetolive keys', '/v3/kv/lease/timetolive', { ID: '2000', keys: true }, ttl);
      await s.call('leases', '/v3/lease/leases', {});
      await s.call('kv/lease/leases', '/v3/kv/lease/leases', {});
      await s.call('revoke', '/v3/lease/revoke', { ID: '2000' });
      await s.call('range its keys', '/v3/kv/range', { key: b('l/'), range_end: prefixEnd('l/') });
      await s.call('kv/lease/revoke it again', '/v3/kv/lease/revoke', { ID: '2000' });
      await s.call('timetolive of a revoked lease', '/v3/lease/timetolive', { ID: '2000' });
      await s.call('grant with a negative TTL', '/v3/lease/grant', { ID: '2001', TTL: '-5' });
      await s.call('grant too long a TTL', '/v3/lease/grant', { ID: '2002', TTL: '9000000001' });
      const chosen = GatewaySession.field(await s.call('leases', '/v3/lease/leases', {}), 'leases');
      expect(chosen).to.not.equal('undefined');
      await s.call('kv/lease/leases', '/v3/kv/lease/leases', {});
    });
  });

  it('cluster/member/list and maintenance: status, alarm get/activate/deactivate, hash, defragment, transfer-leadership', async () => {
    await same(async (s) => {
      await s.call('member list', '/v3/cluster/member/list', {});
      await s.call('status', '/v3/maintenance/status', {}, { normalise: { implementationFields: statusFields } });
      await s.call('alarm get', '/v3/maintenance/alarm', { action: 'GET' });
      const member = s.normaliser.memberId ?? '0';
      await s.call('alarm activate', '/v3/maintenance/alarm', { action: 'ACTIVATE', memberID: member, alarm: 'NOSPACE' });
      await s.call('alarm get', '/v3/maintenance/alarm', {});
      await s.call('status with an alarm', '/v3/maintenance/status', {}, { normalise: { implementationFields: statusFields } });
      await s.call('put under the alarm', '/v3/kv/put', { key: b('m/a'), value: b('1') });
      await s.call('alarm deactivate', '/v3/maintenance/alarm', { action: 'DEACTIVATE', memberID: member, alarm: 'NOSPACE' });
      await s.call('hash', '/v3/maintenance/hash', {}, { normalise: { implementationFields: ['hash'] } });
      await s.call('defragment', '/v3/maintenance/defragment', {});
      await s.call('transfer-leadership to itself', '/v3/maintenance/transfer-leadership', { targetID: member });
      await s.call('transfer-leadership to nobody', '/v3/maintenance/transfer-leadership', { targetID: '12345' });
      await s.call('member add of a bad URL', '/v3/cluster/member/add', { peerURLs: ['not a url'] });
      await s.call('member remove of an unknown member', '/v3/cluster/member/remove', { ID: '12345' });
    });
  });

  it('auth: users and roles, enable, authenticate, the token as Authorization, a permitted and a denied request, a bad token, disable', async () => {
    const entries = await same(async (s) => {
      await s.call('put', '/v3/kv/put', { key: b('a/public'), value: b('1') });
      await s.call('enable without root', '/v3/auth/enable', {});
      await s.call('user add root', '/v3/auth/user/add', { name: 'root', password: 'rootpw' });
      await s.call('role add root', '/v3/auth/role/add', { name: 'root' });
      await s.call('user grant root', '/v3/auth/user/grant', { user: 'root', role: 'root' });
      await s.call('role add reader', '/v3/auth/role/add', { name: 'reader' });
      await s.call('role grant', '/v3/auth/role/grant', { name: 'reader', perm: { permType: 'READ', key: b('a/'), range_end: prefixEnd('a/') } });
      await s.call('user add alice', '/v3/auth/user/add', { name: 'alice', password: 'alicepw' });
      await s.call('user add a<b>&c', '/v3/auth/user/add', { name: 'a<b>&c', password: 'x' });
      await s.call('user add alice again', '/v3/auth/user/add', { name: 'alice', password: 'x' });
      await s.call('user grant alice', '/v3/auth/user/grant', { user: 'alice', role: 'reader' });
      await s.call('user get', '/v3/auth/user/get', { name: 'alice' });
      await s.call('user list', '/v3/auth/user/list', {});
      await s.call('role get', '/v3/auth/role/get', { role: 'reader' });
      await s.call('role list', '/v3/auth/role/list', {});
      await s.call('enable', '/v3/auth/enable', {});
      await s.call('authenticate, wrong password', '/v3/auth/authenticate', { name: 'alice', password: 'nope' });
      const token = GatewaySession.field(await s.call('authenticate', '/v3/auth/authenticate', { name: 'alice', password: 'alicepw' }), 'token');
      const as = (value: string) => ({ headers: [`Authorization: ${value}`] });
      await s.call('permitted range', '/v3/kv/range', { key: b('a/public') }, as(token));
      await s.call('denied put', '/v3/kv/put', { key: b('a/public'), value: b('2') }, as(token));
      await s.call('denied range elsewhere', '/v3/kv/range', { key: b('p/a') }, as(token));
      await s.call('a bad token', '/v3/kv/range', { key: b('a/public') }, as('not-a-token'));
      for (const [what, key, header] of [['watch permitted', 'a/public', token], ['watch denied', 'p/a', token], ['watch with a bad token', 'a/public', 'not-a-token']] as const) {
        const watch = s.stream('/v3/watch', { create_request: { key: b(key) } }, as(header));
        try {
          s.recordLines(what, await watch.take(1));
        } finally {
          await watch.stop();
        }
      }
      await s.call('keepalive with a bad token', '/v3/lease/keepalive', { ID: '1' }, as('not-a-token'));
      await s.call('no token', '/v3/kv/range', { key: b('a/public') });
      await s.call('disable as alice', '/v3/auth/disable', {}, as(token));
      const rootToken = GatewaySession.field(await s.call('authenticate root', '/v3/auth/authenticate', { name: 'root', password: 'rootpw' }), 'token');
      await s.call('user list as root', '/v3/auth/user/list', {}, as(rootToken));
      await s.call('disable as root', '/v3/auth/disable', {}, as(rootToken));
      await s.call('range after disable', '/v3/kv/range', { key: b('a/public') });
      await s.call('authenticate while disabled', '/v3/auth/authenticate', { name: 'root', password: 'rootpw' });
      await s.call('role revoke', '/v3/auth/role/revoke', { role: 'reader', key: b('a/'), range_end: prefixEnd('a/') });
      await s.call('user revoke', '/v3/auth/user/revoke', { name: 'alice', role: 'reader' });
      await s.call('user changepw', '/v3/auth/user/changepw', { name: 'alice', password: 'new' });
      await s.call('user delete', '/v3/auth/user/delete', { name: 'alice' });
      await s.call('user delete again', '/v3/auth/user/delete', { name: 'alice' });
      await s.call('role delete', '/v3/auth/role/delete', { role: 'reader' });
    });
    const status = (what: string) => entries.find((entry) => entry.what === what)?.status;
    expect([status('permitted range'), status('denied put'), status('a bad token')]).to.deep.equal([200, 403, 401]);
  });

  it('lock/lock and lock/unlock; election campaign, leader, proclaim, resign', async () => {
    await same(async (s) => {
      await s.call('grant', '/v3/lease/grant', { ID: '3000', TTL: String(leaseTtlSeconds) });
      const key = GatewaySession.field(await s.call('lock', '/v3/lock/lock', { name: b('lk'), lease: '3000' }), 'key');
      await s.call('range the lock key', '/v3/kv/range', { key });
      await s.call('unlock', '/v3/lock/unlock', { key });
      // etcd's Lock without a lease makes a session of its own: a lease the server chose, in the key.
      const sessionKey = GatewaySession.field(await s.call('lock without a lease', '/v3/lock/lock', { name: b('lk') }, { normalise: { leaseKeyPrefix: 'lk/' } }), 'key');
      await s.call('unlock it', '/v3/lock/unlock', { key: sessionKey });
      await s.call('leader before any', '/v3/election/leader', { name: b('el') });
      const campaign = await s.call('campaign', '/v3/election/campaign', { name: b('el'), lease: '3000', value: b('v1') });
      const leader = JSON.parse(campaign.body).leader as unknown;
      await s.call('leader', '/v3/election/leader', { name: b('el') });
      await s.call('proclaim', '/v3/election/proclaim', { leader, value: b('v2') });
      await s.call('leader after proclaim', '/v3/election/leader', { name: b('el') });
      await s.call('resign', '/v3/election/resign', { leader });
      await s.call('proclaim after resign', '/v3/election/proclaim', { leader, value: b('v3') });
      await s.call('revoke', '/v3/lease/revoke', { ID: '3000' });
    });
  });

  it('/v3beta/ serves the same calls; /v3alpha/ is 404', async () => {
    await same(async (s) => {
      await s.call('v3beta put', '/v3beta/kv/put', { key: b('beta'), value: b('1') });
      await s.call('v3beta range', '/v3beta/kv/range', { key: b('beta') });
      await s.call('v3beta status', '/v3beta/maintenance/status', {}, { normalise: { implementationFields: statusFields } });
      await s.call('v3alpha range', '/v3alpha/kv/range', { key: b('beta') });
    });
  });

  it('errors: bad base64, wrong types, unknown fields, an unknown path, GET, a missing body', async () => {
    await same(async (s) => {
      await s.call('bad base64', '/v3/kv/range', { key: '!!!' });
      await s.call('base64 without padding', '/v3/kv/range', { key: 'YWJjZA' });
      await s.call('url-safe base64', '/v3/kv/put', { key: b('e/a'), value: '-_-_' });
      await s.call('an unknown field', '/v3/kv/range', { key: b('e/a'), bogus: 1 });
      await s.call('null fields', '/v3/kv/range', { key: b('e/a'), limit: null });
      await s.call('no body', '/v3/kv/range', undefined);
      await s.call('empty body', '/v3/maintenance/status', '', { normalise: { implementationFields: statusFields } });
      await s.call('unknown path under /v3/', '/v3/kv/nothing', {});
      await s.call('unknown path /v3/', '/v3/', {});
      await s.call('GET on a gateway path', '/v3/kv/range', undefined, { method: 'GET' });
      await s.call('PUT on a gateway path', '/v3/kv/range', {}, { method: 'PUT' });
    });
  });

  it('a body that is not JSON, or not the request\'s types: Go\'s messages from both; what follows the first value is not read', async () => {
    const bodies = [
      '{bad', '{"key":', '{"key":"YQ==",}', '{"key" "YQ=="}', '{"key":"YQ==" "limit":1}', '[]', '"text"', '5', 'nul', '{"key":tru}',
      '{"key":"\\x"}', '{"key":"\\u12"}', '{"limit":-}', '{"limit":1.}', '{"limit":1e}', '{"key":"a\tb"}', '{"key":"YQ=="}}', '{"key":"YQ=="} trailing',
      '{"limit":"x"}', '{"limit":true}', '{"limit":1.5}', '{"limit":"1.5"}', '{"limit":1e3}', '{"limit":""}', '{"limit":"1 2"}', '{"key":"YQ==","limit":" 1"}',
      '{"key":"YQ==","limit":"99999999999999999999"}', '{"keys_only":"true"}', '{"key":5}', '{"key":true}', '{"sort_order":"BAD"}', '{"sort_order":true}',
      '{"sort_order":1.5}', '{"key":"YQ==","sort_order":99}', '{"key":"YQ==","count_only":1}', '{"Key":"YQ=="}',
    ];
    await same(async (s) => {
      for (const body of bodies) await s.call(`range ${body}`, '/v3/kv/range', body);
      for (const body of ['{"compare":{}}', '{"compare":[1]}', '{"compare":[{"target":"NOPE"}]}', '{"success":[{"request_put":5}]}', '{"compare":null}', '{"success":[{}]}']) {
        await s.call(`txn ${body}`, '/v3/kv/txn', body);
      }
      await s.call('a lease ID above 2^53 as a JSON number', '/v3/lease/grant', '{"ID":9007199254740993,"TTL":60}');
      await s.call('revoke it', '/v3/lease/revoke', '{"ID":9007199254740993}');
      await s.call('a uint64 below zero', '/v3/cluster/member/remove', '{"ID":-1}');
    });
  });

  it('a null request inside a txn: cairn reads it as an empty one; etcd 3.4\'s gateway drops the connection', async () => {
    // etcd's gateway fails on the nil RequestOp and closes the connection without an answer (curl: empty reply);
    // cairn answers as for `{}`, an operation with no key.
    const answer = await curlCall(`${pair.cairn.clientUrl}/v3/kv/txn`, '{"success":[null]}');
    expect(answer).to.deep.equal({ status: 400, contentType: 'application/json', body: '{"error":"etcdserver: key not found","message":"etcdserver: key not found","code":3}' });
  });

  describe('streams', function () {
    /** Runs `body` on a stream and records its lines once `count` arrived (then curl is killed), or once it ended by itself. */
    async function streamLines(s: GatewaySession, what: string, path: string, body: unknown, count: number | 'to the end', steps: () => Promise<void> = async () => undefined, options: CurlOptions = {}): Promise<string[]> {
      const stream = s.stream(path, body, options);
      try {
        const first = count === 'to the end' ? [] : await stream.take(1);
        await steps();
        const lines = count === 'to the end' ? (await stream.ended()).split('\n').filter((line) => line !== '') : [...first, ...await stream.take(count - 1)];
        s.recordLines(what, lines);
        return lines;
      } finally {
        await stream.stop();
      }
    }

    it('watch: a create, then puts and deletes as {"result": …} lines; prev_kv; filters; two creates and a cancel in one body; progress', async () => {
      await same(async (s) => {
        const put = (key: string, value: string) => s.call(`put ${key}`, '/v3/kv/put', { key: b(key), value: b(value) });
        const writes = async (): Promise<void> => {
          await put('w/a', '1');
          await put('w/a', '2');
          await s.call('delete w/a', '/v3/kv/deleterange', { key: b('w/a') });
          await put('w/b', '1');
        };
        await streamLines(s, 'watch w/ prev_kv', '/v3/watch', { create_request: { key: b('w/'), range_end: prefixEnd('w/'), prev_kv: true } }, 5, writes);
        await streamLines(s, 'watch NOPUT', '/v3/watch', { create_request: { key: b('w/'), range_end: prefixEnd('w/'), filters: ['NOPUT'] } }, 2, writes);
        await streamLines(s, 'watch NODELETE by number', '/v3/watch', { create_request: { key: b('w/a'), filters: [1] } }, 3, writes);
        const body = `${json({ create_request: { key: b('w/a') } })}\n${json({ create_request: { key: b('w/b'), watch_id: '7' } })}${json({ cancel_request: { watch_id: '0' } })} ${json({ progress_request: {} })}`;
        await streamLines(s, 'two creates, a cancel, a progress request', '/v3/watch', body, 5, async () => {
          await put('w/b', '2');
        });
      });
    });

    it('watch: from an old revision, from a compacted one; a bad first request (500, code 2) and a bad later one (the watch goes on)', async () => {
      await same(async (s) => {
        const first = Number(GatewaySession.field(await s.call('put', '/v3/kv/put', { key: b('h/a'), value: b('1') }), 'header', 'revision'));
        await s.call('put', '/v3/kv/put', { key: b('h/a'), value: b('2') });
        await s.call('delete', '/v3/kv/deleterange', { key: b('h/a') });
        await streamLines(s, 'watch from an old revision', '/v3/watch', { create_request: { key: b('h/a'), start_revision: String(first) } }, 2);
        await s.call('compact', '/v3/kv/compaction', { revision: String(first + 1) });
        await streamLines(s, 'watch from a compacted revision', '/v3/watch', { create_request: { key: b('h/a'), start_revision: String(first) } }, 2);
        await s.call('a bad first request', '/v3/watch', '{"create_request":{"key":"!!"}}');
        await s.call('a first request that is not JSON', '/v3/watch', '{"create_request":{"key"');
        await s.call('an unknown filter', '/v3/watch', { create_request: { key: b('h/a'), filters: ['NOPUT', 'BAD'] } });
        const later = `${json({ create_request: { key: b('h/b') } })}{"create_request":{"key":"!!"}}`;
        await streamLines(s, 'a bad later request', '/v3/watch', later, 2, async () => {
          await s.call('put', '/v3/kv/put', { key: b('h/b'), value: b('1') });
        });
      });
    });

    it('lease/keepalive: two requests in one body, a missing lease, a bad later request; the stream ends with the body', async () => {
      await same(async (s) => {
        await s.call('grant', '/v3/lease/grant', { ID: '4000', TTL: String(leaseTtlSeconds) });
        await streamLines(s, 'keepalive twice', '/v3/lease/keepalive', `${json({ ID: '4000' })}${json({ ID: 4000 })}`, 'to the end');
        await streamLines(s, 'keepalive of a missing lease', '/v3/lease/keepalive', { ID: '4001' }, 'to the end');
        await streamLines(s, 'keepalive, then a bad request', '/v3/lease/keepalive', `${json({ ID: '4000' })}{"ID":"x"}${json({ ID: '4000' })}`, 'to the end');
        await s.call('a bad first request', '/v3/lease/keepalive', '{"ID":"x"}');
        await s.call('revoke', '/v3/lease/revoke', { ID: '4000' });
      });
    });

    it('election/observe: the leader now, then each proclamation; a bad name', async () => {
      await same(async (s) => {
        await s.call('grant', '/v3/lease/grant', { ID: '5000', TTL: String(leaseTtlSeconds) });
        const leader = (JSON.parse((await s.call('campaign', '/v3/election/campaign', { name: b('obs'), lease: '5000', value: b('v1') })).body) as { leader: unknown }).leader;
        await streamLines(s, 'observe', '/v3/election/observe', { name: b('obs') }, 3, async () => {
          await s.call('proclaim', '/v3/election/proclaim', { leader, value: b('v2') });
          await s.call('proclaim', '/v3/election/proclaim', { leader, value: b('v3') });
        });
        await s.call('observe a bad name', '/v3/election/observe', { name: '!!' });
        await s.call('revoke', '/v3/lease/revoke', { ID: '5000' });
      });
    });

    it('maintenance/snapshot: {"result":{"blob"…}} lines of at most 32 KiB with the bytes still to come, then the SHA-256 of the rest', async () => {
      const [etcd, cairn] = await pair.both(async (side) => {
        const stream = new CurlStream(`${side.server.clientUrl}/v3/maintenance/snapshot`, '{}');
        return (await stream.ended()).split('\n').filter((line) => line !== '');
      });
      // The files differ (bbolt and lmdb); their framing must not.
      for (const lines of [etcd, cairn]) {
        const results = lines.map((line) => (JSON.parse(line) as { result: { blob?: string; remaining_bytes?: string } }).result);
        const blobs = results.map((result) => Buffer.from(result.blob ?? '', 'base64'));
        const database = Buffer.concat(blobs.slice(0, -1));
        expect(blobs.at(-1), 'the trailer').to.deep.equal(createHash('sha256').update(database).digest());
        let remaining = database.length;
        results.slice(0, -1).forEach((result, index) => {
          expect(Object.keys(result)).to.deep.equal(index === results.length - 2 ? ['blob'] : ['remaining_bytes', 'blob']);
          expect(blobs[index]?.length).to.be.at.most(32 * 1024);
          remaining -= blobs[index]?.length ?? 0;
          expect(result.remaining_bytes ?? '0').to.equal(String(remaining));
        });
        expect(Object.keys(results.at(-1) ?? {})).to.deep.equal(['blob']);
        // One line per 32 KiB of the file, then the trailer. (How many differs by nature: the files' sizes.)
        expect(lines.length, 'lines').to.equal(Math.ceil(database.length / (32 * 1024)) + 1).and.to.be.at.least(2);
      }
    });
  });
});

describe('compat: the JSON gateway, by curl, with --max-request-bytes 1024', function () {
  const pair = compatPair({ args: ['--max-request-bytes', '1024'] });

  it('a request past the limit, and a body past the gateway\'s own bound: "request is too large" from both', async () => {
    for (const valueBytes of [2_000, 60_000]) {
      const body = json({ key: b('big'), value: Buffer.alloc(valueBytes, 'x').toString('base64') });
      const answer = await pair.same(`a ${valueBytes}-byte value`, (side) => curlCall(`${side.server.clientUrl}/v3/kv/put`, body));
      expect(answer).to.deep.equal({ status: 400, contentType: 'application/json', body: '{"error":"etcdserver: request is too large","message":"etcdserver: request is too large","code":3}' });
    }
  });
});
