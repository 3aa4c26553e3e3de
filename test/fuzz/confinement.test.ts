// A user confined to a prefix gets no byte outside it, through any RPC:
// generated Range, Put, DeleteRange, Txn (compares, both branches, nested
// txns), Watch, LeaseRevoke, LeaseTimeToLive and Lock calls, made with the
// token of a user granted readwrite on "in/" alone, against one cairn with
// keys and a lease outside the prefix. The oracle: no answer (response,
// error, watch event) carries a key outside "in/" or any byte of a value
// stored outside it, and everything outside the prefix is as it was.
//
// cairn only: etcd 3.4.23 fails this by design (it checks no op of a nested
// txn, and lists a lease's keys to anyone; docs/security.md).
import { expect } from 'chai';
import fc from 'fast-check';
import { credentials, Metadata, type ServiceError } from '@grpc/grpc-js';
import {
  AuthClient, Compare_CompareResult, Compare_CompareTarget, KVClient, LeaseClient, RangeRequest, WatchClient,
  type Compare, type RequestOp, type TxnRequest, type WatchResponse,
} from '../../proto/gen/etcdserverpb/rpc.js';
import { LockClient } from '../../proto/gen/v3lockpb/v3lock.js';
import { etcdctl } from '../harness/etcdctl.js';
import { startCairn, type ServerHandle } from '../harness/launcher.js';
import { failureReport } from './run.js';
import { fuzzSettings, propertyTimeoutMs, withCiTimeLimit } from './settings.js';

const name = 'confinement: a user granted in/ alone reads and writes nothing outside it';
const settings = withCiTimeLimit(fuzzSettings(), 20);
const secretMark = 'SECRET';
const callDeadlineMs = 3_000;
/** How long a generated watch is listened to before it is cancelled. */
const watchListenMs = 60;

/** Keys near the edges of the grant: inside, outside, and their neighbours in byte order. */
const keys = ['in/', 'in/a', 'in/b', 'in/\xff', 'in', 'in.', 'in0', 'im', 'out/a', 'out/b', '', '\0', 'z'];
const rangeEnds = ['', '\0', 'in0', 'in/b', 'in/z', 'in/\xff\xff', 'out0', 'zz', 'in'];

type Call =
  | { kind: 'range'; key: string; rangeEnd: string; serializable: boolean; keysOnly: boolean }
  | { kind: 'put'; key: string; prevKv: boolean; lease: 'none' | 'inside' | 'outside' }
  | { kind: 'delete'; key: string; rangeEnd: string; prevKv: boolean }
  | { kind: 'txn'; txn: TxnRequest }
  | { kind: 'watch'; key: string; rangeEnd: string }
  | { kind: 'leaseRevoke'; lease: 'inside' | 'outside' }
  | { kind: 'leaseTimeToLive'; lease: 'inside' | 'outside' }
  | { kind: 'lock'; name: string };

const key = fc.oneof(fc.constantFrom(...keys), fc.string({ maxLength: 4 }).map((tail) => `in/${tail}`), fc.string({ maxLength: 3 }));
const rangeEnd = fc.constantFrom(...rangeEnds);
const buffer = (text: string): Buffer => Buffer.from(text, 'latin1');

function rangeRequest(k: string, end: string): RangeRequest {
  return RangeRequest.fromPartial({ key: buffer(k), rangeEnd: buffer(end) });
}

const compare: fc.Arbitrary<Compare> = fc.record({ key, rangeEnd, target: fc.constantFrom(Compare_CompareTarget.VALUE, Compare_CompareTarget.VERSION, Compare_CompareTarget.CREATE) })
  .map(({ key: k, rangeEnd: end, target }) => ({
    key: buffer(k), rangeEnd: buffer(end), target, result: Compare_CompareResult.NOT_EQUAL,
    version: 0n, createRevision: 0n, modRevision: 0n, value: buffer('x'), lease: 0n,
  }));

/** Ops of a txn; nested txns weigh most, since each level is checked on its own. */
const txnOp: fc.Memo<RequestOp> = fc.memo((depth) => fc.oneof(
  { depthSize: 'small', withCrossShrink: true },
  { weight: 2, arbitrary: fc.record({ key, rangeEnd }).map(({ key: k, rangeEnd: end }) => ({ requestRange: rangeRequest(k, end) })) },
  {
    weight: 2,
    arbitrary: fc.record({ key, prevKv: fc.boolean() })
      .map(({ key: k, prevKv }) => ({ requestPut: { key: buffer(k), value: buffer('v'), lease: 0n, prevKv, ignoreValue: false, ignoreLease: false } })),
  },
  { weight: 1, arbitrary: fc.record({ key, rangeEnd, prevKv: fc.boolean() }).map(({ key: k, rangeEnd: end, prevKv }) => ({ requestDeleteRange: { key: buffer(k), rangeEnd: buffer(end), prevKv } })) },
  ...(depth > 1 ? [{ weight: 4, arbitrary: txn(depth - 1).map((nested) => ({ requestTxn: nested })) }] : []),
));

function txn(depth: number): fc.Arbitrary<TxnRequest> {
  return fc.record({
    compare: fc.array(compare, { maxLength: 1 }),
    success: fc.array(txnOp(depth), { maxLength: 2 }),
    failure: fc.array(txnOp(depth), { maxLength: 2 }),
  });
}

/** Every kind of call; txns twice, as they hide the most (compares, branches, nesting). */
const call: fc.Arbitrary<Call> = fc.oneof(
  fc.record({ kind: fc.constant('range' as const), key, rangeEnd, serializable: fc.boolean(), keysOnly: fc.boolean() }),
  fc.record({ kind: fc.constant('put' as const), key, prevKv: fc.boolean(), lease: fc.constantFrom('none' as const, 'inside' as const, 'outside' as const) }),
  fc.record({ kind: fc.constant('delete' as const), key, rangeEnd, prevKv: fc.boolean() }),
  fc.record({ kind: fc.constant('txn' as const), txn: txn(3) }),
  fc.record({ kind: fc.constant('txn' as const), txn: txn(3) }),
  fc.record({ kind: fc.constant('watch' as const), key, rangeEnd }),
  fc.record({ kind: fc.constant('leaseRevoke' as const), lease: fc.constantFrom('inside' as const, 'outside' as const) }),
  fc.record({ kind: fc.constant('leaseTimeToLive' as const), lease: fc.constantFrom('inside' as const, 'outside' as const) }),
  fc.record({ kind: fc.constant('lock' as const), name: key }),
);

interface Clients {
  kv: KVClient;
  lease: LeaseClient;
  watch: WatchClient;
  lock: LockClient;
}

/** What the outside of the prefix holds: each key's value, mod revision and lease, in key order. */
type Outside = Array<[string, string, string, string]>;

describe('fuzz: confinement under auth', function () {
  let server: ServerHandle | undefined;
  let clients: Clients;
  let token = '';
  const leases = { inside: 0n, outside: 0n };
  let outside: Outside = [];

  const root = ['--user', 'root:secret'];
  const run = async (args: string[]): Promise<string> => {
    const result = await etcdctl(must(server).endpoint, args);
    if (result.code !== 0) throw new Error(`etcdctl ${args.join(' ')}: ${result.stderr}`);
    return result.stdout;
  };

  before(async function () {
    this.timeout(60_000);
    server = await startCairn();
    const endpoint = server.endpoint;
    const channel = credentials.createInsecure();
    clients = { kv: new KVClient(endpoint, channel), lease: new LeaseClient(endpoint, channel), watch: new WatchClient(endpoint, channel), lock: new LockClient(endpoint, channel) };
    for (const args of [['user', 'add', 'root:secret'], ['user', 'grant-role', 'root', 'root'], ['role', 'add', 'in'],
      ['role', 'grant-permission', 'in', 'readwrite', '--prefix', 'in/'], ['user', 'add', 'u:pw'], ['user', 'grant-role', 'u', 'in']]) await run(args);
    leases.inside = BigInt(`0x${/lease ([0-9a-f]+) granted/.exec(await run(['lease', 'grant', '600']))?.[1]}`);
    leases.outside = BigInt(`0x${/lease ([0-9a-f]+) granted/.exec(await run(['lease', 'grant', '600']))?.[1]}`);
    for (const k of ['in', 'in.', 'in0', 'im', 'out/b', 'z']) await run(['put', k, `${secretMark}-${k}`]);
    await run(['put', 'out/a', `${secretMark}-out/a`, `--lease=${leases.outside.toString(16)}`]);
    await run(['put', 'in/a', 'inside', `--lease=${leases.inside.toString(16)}`]);
    await run(['auth', 'enable']);
    token = await authenticate(endpoint);
    outside = await outsideState();
  });

  after(async () => {
    for (const client of Object.values(clients ?? {})) client.close();
    await server?.destroy();
  });

  async function outsideState(): Promise<Outside> {
    const out = await run([...root, 'get', '', '--from-key', '-w', 'json']);
    const kvs = (JSON.parse(out) as { kvs?: Array<{ key: string; value?: string; mod_revision: number; lease?: number }> }).kvs ?? [];
    return kvs
      .map((kv) => [Buffer.from(kv.key, 'base64').toString('latin1'), Buffer.from(kv.value ?? '', 'base64').toString('latin1'), String(kv.mod_revision), String(kv.lease ?? 0)] as [string, string, string, string])
      .filter(([k]) => !k.startsWith('in/'));
  }

  it(name, async function () {
    this.timeout(propertyTimeoutMs(settings) || 0);
    const seed = settings.seed ?? Math.floor(Math.random() * 0x7fffffff);
    const runs = settings.runs ?? 150;
    console.log(`    fuzz ${name}: seed ${seed}, up to ${runs} cases`);
    const property = fc.asyncProperty(fc.array(call, { minLength: 1, maxLength: settings.callsPerCaseMax }), async (calls) => {
      for (const each of calls) {
        const answer = await send(clients, token, leases, each);
        const leaks = leaksIn(answer);
        if (leaks.length > 0) throw new Error(`${JSON.stringify(each)} answered ${leaks.join('; ')}`);
      }
      const now = await outsideState();
      if (JSON.stringify(now) !== JSON.stringify(outside)) throw new Error(`the outside changed: ${JSON.stringify(outside)} → ${JSON.stringify(now)}`);
    });
    // No shrinking: a failing case may have changed the server for good, so smaller replays of it on the same server would mislead.
    const details = await fc.check(property, {
      numRuns: runs, seed, path: settings.path, interruptAfterTimeLimit: settings.timeLimitMs, markInterruptAsFailure: false, endOnFailure: true,
    });
    if (details.failed) {
      const calls = (details.counterexample?.[0] ?? []).map((each) => JSON.stringify(each));
      throw new Error(failureReport(name, details, calls, false));
    }
    expect(details.numRuns, 'cases run').to.be.greaterThan(0);
  });
});

function must<T>(value: T | undefined): T {
  if (value === undefined) throw new Error('the server did not start');
  return value;
}

async function authenticate(endpoint: string): Promise<string> {
  const client = new AuthClient(endpoint, credentials.createInsecure());
  try {
    return await new Promise((resolve, reject) => client.authenticate({ name: 'u', password: 'pw' }, new Metadata(), { deadline: Date.now() + callDeadlineMs },
      (error, response) => (error === null ? resolve(response.token) : reject(error))));
  } finally {
    client.close();
  }
}

/** Sends `each` as the confined user; resolves with whatever came back (a response, an error, watch responses). */
async function send(clients: Clients, token: string, leases: { inside: bigint; outside: bigint }, each: Call): Promise<unknown> {
  const metadata = new Metadata();
  metadata.set('token', token);
  const options = { deadline: Date.now() + callDeadlineMs };
  const unary = <T>(start: (done: (error: ServiceError | null, response: T) => void) => void): Promise<unknown> =>
    new Promise((resolve) => start((error, response) => resolve(error ?? response)));
  switch (each.kind) {
    case 'range':
      return unary((done) => clients.kv.range({ ...rangeRequest(each.key, each.rangeEnd), serializable: each.serializable, keysOnly: each.keysOnly }, metadata, options, done));
    case 'put': {
      const lease = each.lease === 'none' ? 0n : leases[each.lease];
      return unary((done) => clients.kv.put({ key: buffer(each.key), value: buffer('v'), lease, prevKv: each.prevKv, ignoreValue: false, ignoreLease: false }, metadata, options, done));
    }
    case 'delete':
      return unary((done) => clients.kv.deleteRange({ key: buffer(each.key), rangeEnd: buffer(each.rangeEnd), prevKv: each.prevKv }, metadata, options, done));
    case 'txn':
      return unary((done) => clients.kv.txn(each.txn, metadata, options, done));
    case 'leaseRevoke':
      return unary((done) => clients.lease.leaseRevoke({ ID: leases[each.lease] }, metadata, options, done));
    case 'leaseTimeToLive':
      return unary((done) => clients.lease.leaseTimeToLive({ ID: leases[each.lease], keys: true }, metadata, options, done));
    case 'lock':
      return unary((done) => clients.lock.lock({ name: buffer(each.name), lease: leases.inside }, metadata, { deadline: Date.now() + 500 }, done));
    case 'watch':
      return watchOnce(clients.watch, metadata, each.key, each.rangeEnd);
  }
}

/** Creates one watch from revision 1, listens briefly, and returns every response it got. */
function watchOnce(client: WatchClient, metadata: Metadata, key: string, end: string): Promise<unknown> {
  const responses: WatchResponse[] = [];
  const stream = client.watch(metadata);
  return new Promise((resolve) => {
    stream.on('data', (response: WatchResponse) => responses.push(response));
    stream.on('error', () => undefined);
    stream.write({ createRequest: { key: buffer(key), rangeEnd: buffer(end), startRevision: 1n, progressNotify: false, filters: [], prevKv: true, watchId: 0n, fragment: false } });
    setTimeout(() => {
      stream.cancel();
      resolve(responses);
    }, watchListenMs);
  });
}

/** Every key outside "in/" and every stored-outside value the answer carries, described. */
function leaksIn(answer: unknown): string[] {
  const leaks: string[] = [];
  const visit = (value: unknown, field: string): void => {
    if (Buffer.isBuffer(value) || value instanceof Uint8Array) {
      const text = Buffer.from(value).toString('latin1');
      if (text.includes(secretMark)) leaks.push(`${field} = ${JSON.stringify(text)}`);
      if ((field === 'key' || field === 'keys') && !text.startsWith('in/')) leaks.push(`${field} = ${JSON.stringify(text)} (outside in/)`);
      return;
    }
    if (typeof value === 'string') {
      if (value.includes(secretMark)) leaks.push(`${field} = ${JSON.stringify(value)}`);
      return;
    }
    if (Array.isArray(value)) {
      for (const item of value) visit(item, field);
      return;
    }
    if (value !== null && typeof value === 'object') {
      for (const [name, inner] of Object.entries(value)) if (name !== 'metadata') visit(inner, name);
    }
  };
  visit(answer, 'answer');
  return leaks;
}
