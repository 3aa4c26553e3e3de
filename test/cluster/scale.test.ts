// Scale: one cairn process carrying 10,000 watchers and 10,000
// leases. A burst of writes must reach every watcher it concerns; then the
// 10,000 leases expire together and must all be revoked, their keys gone,
// while a writer keeps getting its writes through. The write latency during
// the revocation storm is printed, not asserted (the machine is shared);
// only a generous liveness bound is.
//
// Granting 10,000 leases takes longer than their 3 s TTL, so while they are
// being set up one keep-alive stream renews each about every second; it stops
// after a last pass that renews them all, and from then on nothing keeps
// them alive: they expire within a few hundred milliseconds of each other.
import { credentials, Metadata, type ClientDuplexStream, type ServiceError } from '@grpc/grpc-js';
import { expect } from 'chai';
import {
  KVClient,
  LeaseClient,
  LeaseGrantRequest,
  LeaseKeepAliveRequest,
  LeaseLeasesRequest,
  PutRequest,
  RangeRequest,
  RequestOp,
  TxnRequest,
  WatchClient,
  WatchRequest,
  type LeaseGrantResponse,
  type LeaseKeepAliveResponse,
  type LeaseLeasesResponse,
  type PutResponse,
  type RangeResponse,
  type TxnResponse,
  type WatchResponse,
} from '../../proto/gen/etcdserverpb/rpc.js';
import { Event_EventType } from '../../proto/gen/mvccpb/kv.js';
import { startCairn, type ServerHandle } from '../harness/launcher.js';
import { must } from '../harness/must.js';

const watchersCount = 10_000;
const streamsCount = 4;
/** Single-key watchers share this many keys (about 10 watchers per key); one prefix watcher per stream watches the lease keys. */
const watchedKeysCount = 1_000;
const leasesCount = 10_000;
const leaseTtlSeconds = 3n;
/** Lease grants in flight at once. */
const grantConcurrency = 64;
/** Lease keys are put by txns of this many puts (under --max-txn-ops 128). */
const attachPutsPerTxn = 100;
/** Each lease is renewed about once per cycle while the leases are set up (TTL 3 s). */
const keepAliveCycleMs = 1_000;
const burstConcurrency = 32;
const rpcDeadlineMs = 20_000;
const ackWaitMsMax = 20_000;
const deliveryWaitMsMax = 20_000;
/** Liveness bound for the revocation of every lease, from their last renewal; etcd's rate (1,000/s) needs about 10 s of it. */
const revokeWaitMsMax = 30_000;
/** One write slower than this means writes stalled. */
const writeLatencyMsMax = 30_000;

const b = (text: string): Buffer => Buffer.from(text);
const pad = (n: number): string => String(n).padStart(5, '0');
const watchedKey = (i: number): string => `s/${pad(i % watchedKeysCount)}`;
const leaseKey = (i: number): string => `l/${pad(i)}`;

function unary<T>(start: (metadata: Metadata, options: { deadline: number }, done: (error: ServiceError | null, response: T) => void) => unknown): Promise<T> {
  return new Promise((resolve, reject) => {
    start(new Metadata(), { deadline: Date.now() + rpcDeadlineMs }, (error, response) => (error === null ? resolve(response) : reject(error)));
  });
}

/** Runs task(0..count-1) with at most `concurrency` in flight; rejects on the first failure. */
async function pool(count: number, concurrency: number, task: (i: number) => Promise<void>): Promise<void> {
  let next = 0;
  const lanes = Array.from({ length: Math.min(concurrency, count) }, async () => {
    while (next < count) await task(next++);
  });
  await Promise.all(lanes);
}

async function waitFor(condition: () => boolean | Promise<boolean>, timeoutMs: number, pollMs = 50): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  while (!(await condition())) {
    if (Date.now() > deadline) return false;
    await new Promise((resolve) => setTimeout(resolve, pollMs));
  }
  return true;
}

/** What one stream's watchers received: per watch ID, the events as "put key=value" / "delete key". */
class CountingStream {
  acked = 0;
  cancelled = 0;
  readonly events = new Map<bigint, string[]>();
  failure: string | undefined;
  private closing = false;
  private readonly call: ClientDuplexStream<WatchRequest, WatchResponse>;

  constructor(private readonly client: WatchClient) {
    this.call = client.watch();
    this.call.on('data', (response: WatchResponse) => {
      if (response.created) this.acked++;
      if (response.canceled) this.cancelled++;
      if (response.events.length === 0) return;
      let list = this.events.get(response.watchId);
      if (list === undefined) this.events.set(response.watchId, (list = []));
      for (const event of response.events) {
        const key = event.kv?.key.toString() ?? '?';
        list.push(event.type === Event_EventType.PUT ? `put ${key}=${event.kv?.value.toString()}` : `delete ${key}`);
      }
    });
    this.call.on('error', (error: ServiceError) => {
      if (!this.closing) this.failure = `${error.code} ${error.details}`;
    });
  }

  watch(watchId: bigint, key: string, rangeEnd: string): void {
    this.call.write(WatchRequest.fromPartial({ createRequest: { key: b(key), rangeEnd: b(rangeEnd), watchId } }));
  }

  eventsOf(watchId: bigint): string[] {
    return this.events.get(watchId) ?? [];
  }

  close(): void {
    this.closing = true;
    this.call.cancel();
    this.client.close();
  }
}

/**
 * Keeps every lease in `ids` alive over one LeaseKeepAlive stream: each tick
 * renews the next tenth of them (round robin), so each is renewed about once
 * per cycle of 10 ticks, spread out rather than in one burst of 10,000. A
 * tick is skipped while two earlier chunks are still unanswered.
 */
class KeepAlivePump {
  readonly ids: bigint[] = [];
  /** Leases answered with TTL 0: they had expired. */
  readonly expired = new Set<bigint>();
  sent = 0;
  answered = 0;
  failure: string | undefined;
  private cursor = 0;
  private closing = false;
  private timer: NodeJS.Timeout | undefined;
  private readonly call: ClientDuplexStream<LeaseKeepAliveRequest, LeaseKeepAliveResponse>;

  constructor(client: LeaseClient) {
    this.call = client.leaseKeepAlive();
    this.call.on('data', (response: LeaseKeepAliveResponse) => {
      this.answered++;
      if (response.TTL === 0n) this.expired.add(response.ID);
    });
    this.call.on('error', (error: ServiceError) => {
      if (!this.closing) this.failure = `${error.code} ${error.details}`;
    });
  }

  start(): void {
    this.timer = setInterval(() => this.tick(), keepAliveCycleMs / 10);
  }

  /** Stops the ticks and renews every lease once more; resolves with whether every renewal was answered. */
  async finalPass(timeoutMs: number): Promise<boolean> {
    clearInterval(this.timer);
    await waitFor(() => this.answered === this.sent, timeoutMs, 10);
    this.send(this.ids);
    return waitFor(() => this.answered === this.sent, timeoutMs, 10);
  }

  close(): void {
    clearInterval(this.timer);
    this.closing = true;
    this.call.cancel();
  }

  private tick(): void {
    const chunk = Math.ceil(this.ids.length / 10);
    if (chunk === 0 || this.sent - this.answered > 2 * chunk) return;
    const ids: bigint[] = [];
    for (let i = 0; i < chunk; i++) ids.push(must(this.ids[(this.cursor + i) % this.ids.length], `lease ${(this.cursor + i) % this.ids.length}`));
    this.cursor = (this.cursor + chunk) % this.ids.length;
    this.send(ids);
  }

  private send(ids: bigint[]): void {
    for (const ID of ids) this.call.write(LeaseKeepAliveRequest.fromPartial({ ID }));
    this.sent += ids.length;
  }
}

interface Latencies {
  count: number;
  maxMs: number;
  samples: number[];
  failures: string[];
}

/** Puts one key over and over until `stop()`; every write must succeed. */
async function keepWriting(kv: KVClient, stop: () => boolean, latencies: Latencies): Promise<void> {
  for (let n = 0; !stop(); n++) {
    const started = performance.now();
    try {
      await unary<PutResponse>((m, o, cb) => kv.put(PutRequest.fromPartial({ key: b('x/writer'), value: b(String(n)) }), m, o, cb));
    } catch (error) {
      latencies.failures.push((error as Error).message);
      return;
    }
    const elapsed = performance.now() - started;
    latencies.count++;
    latencies.maxMs = Math.max(latencies.maxMs, elapsed);
    latencies.samples.push(elapsed);
  }
}

const percentile = (values: number[], p: number): number => {
  const sorted = [...values].sort((x, y) => x - y);
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? 0;
};

describe('scale: 10,000 watchers and 10,000 leases on one server', function () {
  this.timeout(120_000);
  let server: ServerHandle | undefined;
  let kv: KVClient;
  let lease: LeaseClient;
  let pump: KeepAlivePump | undefined;
  const streams: CountingStream[] = [];
  /** On each stream, watch IDs 1..n-1 watch one key each and ID n watches the lease keys (prefix l/). */
  const watchersPerStream = watchersCount / streamsCount;
  const leasePrefixWatchId = BigInt(watchersPerStream);

  const leaseCount = async (): Promise<number> =>
    (await unary<LeaseLeasesResponse>((m, o, cb) => lease.leaseLeases(LeaseLeasesRequest.fromPartial({}), m, o, cb))).leases.length;

  const countPrefix = async (prefix: string): Promise<number> => {
    const end = b(prefix);
    const last = end.length - 1;
    end[last] = must(end[last], `the last byte of "${prefix}"`) + 1;
    const response = await unary<RangeResponse>((m, o, cb) => kv.range(RangeRequest.fromPartial({ key: b(prefix), rangeEnd: end, countOnly: true }), m, o, cb));
    return Number(response.count);
  };

  before(async () => {
    server = await startCairn();
    kv = new KVClient(server.endpoint, credentials.createInsecure());
    lease = new LeaseClient(server.endpoint, credentials.createInsecure());
  });

  after(async () => {
    pump?.close();
    for (const stream of streams) stream.close();
    kv?.close();
    lease?.close();
    await server?.destroy();
  });

  it('creates 10,000 watchers over a few streams, each acknowledged', async () => {
    const started = Date.now();
    for (let s = 0; s < streamsCount; s++) {
      const stream = new CountingStream(new WatchClient((server as ServerHandle).endpoint, credentials.createInsecure()));
      streams.push(stream);
      // IDs 1..n-1 watch one key each; ID n watches every lease key.
      for (let id = 1; id < watchersPerStream; id++) stream.watch(BigInt(id), watchedKey(s * watchersPerStream + id), '');
      stream.watch(leasePrefixWatchId, 'l/', 'l0');
    }
    const acked = await waitFor(() => streams.every((stream) => stream.acked === watchersPerStream || stream.failure !== undefined), ackWaitMsMax);
    console.log(`    ${streams.reduce((sum, stream) => sum + stream.acked, 0)} watchers acknowledged in ${Date.now() - started} ms`);
    expect(streams.map((stream) => stream.failure)).to.deep.equal(streams.map(() => undefined));
    expect(acked, 'every create acknowledged in time').to.equal(true);
    expect(streams.map((stream) => stream.cancelled)).to.deep.equal(streams.map(() => 0));
  });

  it('grants 10,000 leases concurrently, attaches a key to each, and keeps them all alive', async () => {
    const started = Date.now();
    pump = new KeepAlivePump(lease);
    const keepAlive = pump;
    keepAlive.start();
    await pool(leasesCount, grantConcurrency, async (i) => {
      const ID = BigInt(i + 1);
      const granted = await unary<LeaseGrantResponse>((m, o, cb) => lease.leaseGrant(LeaseGrantRequest.fromPartial({ ID, TTL: leaseTtlSeconds }), m, o, cb));
      if (granted.ID !== ID || granted.TTL !== leaseTtlSeconds) throw new Error(`grant ${ID}: answered ID ${granted.ID}, TTL ${granted.TTL}`);
      keepAlive.ids.push(ID);
    });
    const grantedMs = Date.now() - started;
    await pool(leasesCount / attachPutsPerTxn, 4, async (t) => {
      const success = Array.from({ length: attachPutsPerTxn }, (_, j) => {
        const i = t * attachPutsPerTxn + j;
        return RequestOp.fromPartial({ requestPut: { key: b(leaseKey(i)), value: b('leased'), lease: BigInt(i + 1) } });
      });
      await unary<TxnResponse>((m, o, cb) => kv.txn(TxnRequest.fromPartial({ success }), m, o, cb));
    });
    console.log(`    ${leasesCount} leases granted in ${grantedMs} ms, keys attached in ${Date.now() - started - grantedMs} ms`);
    expect(keepAlive.failure).to.equal(undefined);
    expect([...keepAlive.expired].slice(0, 5), `${keepAlive.expired.size} leases expired during setup`).to.deep.equal([]);
    expect(await leaseCount()).to.equal(leasesCount);
    expect(await countPrefix('l/')).to.equal(leasesCount);
  });

  it('delivers a burst of writes to every watcher it concerns, exactly once, with 10,000 leases alive', async () => {
    const started = Date.now();
    await pool(watchedKeysCount, burstConcurrency, async (i) => {
      const key = watchedKey(i);
      await unary<PutResponse>((m, o, cb) => kv.put(PutRequest.fromPartial({ key: b(key), value: b(`burst-${i}`) }), m, o, cb));
    });
    const written = Date.now() - started;
    const expectedFor = (s: number, id: number): string => {
      const i = (s * watchersPerStream + id) % watchedKeysCount;
      return `put ${watchedKey(i)}=burst-${i}`;
    };
    const delivered = (): number => {
      let count = 0;
      for (const stream of streams) for (let id = 1; id < watchersPerStream; id++) if (stream.eventsOf(BigInt(id)).length > 0) count++;
      return count;
    };
    const expectedWatchers = streamsCount * (watchersPerStream - 1);
    await waitFor(() => delivered() === expectedWatchers, deliveryWaitMsMax);
    console.log(`    ${watchedKeysCount} writes in ${written} ms reached ${delivered()} of ${expectedWatchers} watchers in ${Date.now() - started} ms`);
    const wrong: string[] = [];
    for (const [s, stream] of streams.entries()) {
      for (let id = 1; id < watchersPerStream; id++) {
        const events = stream.eventsOf(BigInt(id));
        if (events.length !== 1 || events[0] !== expectedFor(s, id)) wrong.push(`stream ${s} watch ${id}: ${JSON.stringify(events)}, expected ["${expectedFor(s, id)}"]`);
      }
      const foreign = stream.eventsOf(leasePrefixWatchId).filter((event) => !event.split(' ')[1]?.startsWith('l/'));
      if (foreign.length > 0) wrong.push(`stream ${s}: the lease-key watcher got events of other keys: ${foreign.slice(0, 3).join(', ')}`);
    }
    expect(wrong.slice(0, 10), `${wrong.length} watchers got the wrong events`).to.deep.equal([]);
  });

  it('the 10,000 leases expire together and are all revoked, keys gone, while a writer keeps succeeding', async () => {
    const keepAlive = pump as KeepAlivePump;
    const finalPassStarted = Date.now();
    const renewed = await keepAlive.finalPass(10_000);
    keepAlive.close();
    expect(renewed, 'the last keep-alive pass was answered').to.equal(true);
    expect(keepAlive.expired.size, 'leases that expired before the last keep-alive pass').to.equal(0);
    const lastRenewal = Date.now();
    console.log(`    keep-alive stopped after a last pass of ${Date.now() - finalPassStarted} ms; ${keepAlive.answered} keep-alives answered in all`);

    const latencies: Latencies = { count: 0, maxMs: 0, samples: [], failures: [] };
    let allGone = false;
    const writing = keepWriting(kv, () => allGone || latencies.failures.length > 0 || Date.now() - lastRenewal > revokeWaitMsMax, latencies);
    let remaining = leasesCount;
    let firstGoneMs: number | undefined;
    allGone = await waitFor(async () => {
      remaining = await countPrefix('l/');
      if (remaining < leasesCount && firstGoneMs === undefined) firstGoneMs = Date.now() - lastRenewal;
      return remaining === 0;
    }, revokeWaitMsMax, 200);
    const goneMs = Date.now() - lastRenewal;
    allGone = true;
    await writing;
    const leasesLeft = await leaseCount();
    console.log(
      `    lease keys: first revoked ${firstGoneMs} ms, all gone ${goneMs} ms after the last renewal (${remaining} left, ${leasesLeft} leases left); ` +
        `writer: ${latencies.count} puts, latency max ${latencies.maxMs.toFixed(1)} ms, p99 ${percentile(latencies.samples, 99).toFixed(1)} ms, ` +
        `median ${percentile(latencies.samples, 50).toFixed(1)} ms`,
    );
    expect(remaining, `lease keys still present ${revokeWaitMsMax} ms after the last renewal`).to.equal(0);
    expect(leasesLeft).to.equal(0);
    expect(latencies.failures, 'writes during the revocation storm').to.deep.equal([]);
    expect(latencies.count, 'writes completed during the storm').to.be.greaterThan(0);
    expect(latencies.maxMs).to.be.below(writeLatencyMsMax);

    // Every watcher of the lease keys saw each key's put and then its delete, once.
    const expected = Array.from({ length: leasesCount }, (_, i) => leaseKey(i));
    await waitFor(() => streams.every((stream) => stream.eventsOf(leasePrefixWatchId).length >= 2 * leasesCount), deliveryWaitMsMax);
    for (const [s, stream] of streams.entries()) {
      const byKey = new Map<string, string[]>();
      for (const event of stream.eventsOf(leasePrefixWatchId)) {
        const [type, rest] = event.split(' ');
        const key = must(rest, `the key of the event "${event}"`).replace('=leased', '');
        byKey.set(key, [...(byKey.get(key) ?? []), must(type, `the type of the event "${event}"`)]);
      }
      const wrong = expected.filter((key) => JSON.stringify(byKey.get(key)) !== '["put","delete"]');
      expect(wrong.slice(0, 5), `stream ${s}: ${wrong.length} lease keys without exactly a put then a delete`).to.deep.equal([]);
      expect([...byKey.keys()].sort()).to.deep.equal(expected);
    }
    // Nothing else was touched: the burst keys are all still there.
    expect(await countPrefix('s/')).to.equal(watchedKeysCount);
  });
});
