// etcd's watch guarantees, checked against a real cairn process under
// concurrent writes: ordered, unique, reliable, atomic and
// bookmarkable, for watchers on keys and ranges, from now and from history,
// with filters and prev_kv, and for a consumer that stops reading so the
// server moves it aside and catches it up from history.
//
// The truth the watchers are judged against does not come from watching: the
// writers record what each acknowledged put, delete and txn changed at the
// revision in its response header; those revisions must form a contiguous
// history 2..N whose final state equals a Range of the whole key space.
//
// The operations are drawn from a seeded generator (printed; replay with
// WATCH_SEED=n); the interleaving of the writers is up to the scheduler.
import { credentials, Metadata, type ClientDuplexStream, type ServiceError } from '@grpc/grpc-js';
import { expect } from 'chai';
import {
  DeleteRangeRequest,
  KVClient,
  PutRequest,
  RangeRequest,
  RequestOp,
  TxnRequest,
  WatchClient,
  WatchCreateRequest_FilterType,
  WatchRequest,
  type DeleteRangeResponse,
  type PutResponse,
  type RangeResponse,
  type TxnResponse,
  type WatchResponse,
} from '../../proto/gen/etcdserverpb/rpc.js';
import { Event_EventType, type Event, type KeyValue } from '../../proto/gen/mvccpb/kv.js';
import { startCairn, type ServerHandle } from '../harness/launcher.js';
import { must } from '../harness/must.js';

const seed = Number(process.env.WATCH_SEED ?? Math.floor(Math.random() * 2 ** 31));
const writersCount = 3;
/** The writers stop at this many revisions or after writeDurationMsMax, whichever comes first. */
const revisionsTarget = 3_000;
const writeDurationMsMax = 10_000;
/** The slow stream stops reading at this revision, and reads again after this many more (or after slowPauseMsMax). */
const slowPauseAtRevision = 300;
const slowPauseRevisions = 1_200;
const slowPauseMsMax = 5_000;
/** Stream B (watchers from history) is opened at this revision. */
const midwayRevision = 800;
const progressRequestIntervalMs = 100;
const deliveryWaitMsMax = 20_000;
const rpcDeadlineMs = 10_000;
/** Past revisions at which the whole key space is read back and compared with the history. */
const pastRangesCount = 25;
/** Violations listed per check, at most. */
const reportedMax = 10;

const keySpace = ['w/0', 'w/1', 'w/2', 'w/3', 'w/4', 'w/5', 'w/6', 'w/7', 'w/8', 'w/9', 'v/0', 'v/1', 'v/2'];
const b = (text: string): Buffer => Buffer.from(text, 'latin1');

/** mulberry32: a small seeded generator, so a run's operations can be replayed. */
function seededRandom(start: number): () => number {
  let state = start >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4_294_967_296;
  };
}

// ---- The history, as the writers' acknowledgements tell it ----

interface Change {
  type: 'put' | 'delete';
  key: string;
  value: string;
}

/** What one acknowledged write changed, at the revision its response names. */
interface Committed {
  revision: number;
  changes: Change[];
}

interface ModelKv {
  value: string;
  createRevision: number;
  modRevision: number;
  version: number;
}

interface ModelEvent {
  revision: number;
  type: 'put' | 'delete';
  key: string;
  /** The kv after a put. */
  kv: ModelKv | undefined;
  /** The kv before the event; undefined for a create. */
  prev: ModelKv | undefined;
}

interface History {
  events: ModelEvent[];
  state: Map<string, ModelKv>;
  lastRevision: number;
  problems: string[];
}

function buildHistory(committed: Committed[]): History {
  const sorted = [...committed].sort((x, y) => x.revision - y.revision);
  const problems: string[] = [];
  sorted.forEach((write, i) => {
    if (write.revision !== i + 2) problems.push(`revision ${i + 2} expected at position ${i}, found ${write.revision}`);
  });
  const state = new Map<string, ModelKv>();
  const events: ModelEvent[] = [];
  for (const { revision, changes } of sorted) {
    for (const change of changes) {
      const prev = state.get(change.key);
      if (change.type === 'delete') {
        if (prev === undefined) problems.push(`revision ${revision} deletes ${change.key}, which does not exist`);
        state.delete(change.key);
        events.push({ revision, type: 'delete', key: change.key, kv: undefined, prev });
        continue;
      }
      const kv: ModelKv = {
        value: change.value,
        createRevision: prev?.createRevision ?? revision,
        modRevision: revision,
        version: (prev?.version ?? 0) + 1,
      };
      state.set(change.key, kv);
      events.push({ revision, type: 'put', key: change.key, kv, prev });
    }
  }
  return { events, state, lastRevision: sorted.at(-1)?.revision ?? 1, problems };
}

/** The key space at `revision`, replayed from the history, as "key=value@mod/create/vN" sorted by key. */
function stateAt(history: History, revision: number): string[] {
  const state = new Map<string, ModelKv>();
  for (const event of history.events) {
    if (event.revision > revision) break;
    if (event.kv === undefined) state.delete(event.key);
    else state.set(event.key, event.kv);
  }
  return [...state.entries()].sort(([x], [y]) => (x < y ? -1 : 1)).map(([key, kv]) => `${key}=${kv.value}@${kv.modRevision}/${kv.createRevision}/v${kv.version}`);
}

const describeRead = (kvs: KeyValue[]): string[] =>
  kvs.map((kv) => `${kv.key.toString('latin1')}=${kv.value.toString('latin1')}@${kv.modRevision}/${kv.createRevision}/v${kv.version}`);

const describeModel = (event: ModelEvent): string => `${event.revision} ${event.type} ${event.key}${event.kv ? `=${event.kv.value}` : ''}`;
const describeEvent = (event: Event): string => {
  const kv = event.kv as KeyValue;
  const type = event.type === Event_EventType.PUT ? 'put' : 'delete';
  return `${kv.modRevision} ${type} ${kv.key.toString('latin1')}${type === 'put' ? `=${kv.value.toString('latin1')}` : ''}`;
};

// ---- gRPC plumbing ----

function unary<T>(start: (metadata: Metadata, options: { deadline: number }, done: (error: ServiceError | null, response: T) => void) => unknown): Promise<T> {
  return new Promise((resolve, reject) => {
    start(new Metadata(), { deadline: Date.now() + rpcDeadlineMs }, (error, response) => (error === null ? resolve(response) : reject(error)));
  });
}

/** Each stream on its own connection, so a stalled one cannot hold up the others through shared HTTP/2 flow control. */
const ownConnection = { 'grpc.use_local_subchannel_pool': 1 };

interface WatcherSpec {
  name: string;
  key: string;
  /** '' = the single key; '\0' = every key >= key; else the end of the range. */
  rangeEnd: string;
  /** 0 = from now. */
  startRevision: number;
  prevKv: boolean;
  noPut?: boolean;
  noDelete?: boolean;
  progressNotify?: boolean;
  /** 0 = the server chooses. */
  watchId: number;
}

function covers(spec: WatcherSpec, key: string): boolean {
  if (spec.rangeEnd === '') return key === spec.key;
  return key >= spec.key && (spec.rangeEnd === '\0' || key < spec.rangeEnd);
}

/** One watch stream and everything it received, in order. */
class RecordedStream {
  readonly received: WatchResponse[] = [];
  readonly creates: WatcherSpec[] = [];
  readonly failures: string[] = [];
  progressRequests = 0;
  private closing = false;
  private readonly call: ClientDuplexStream<WatchRequest, WatchResponse>;

  constructor(readonly name: string, private readonly client: WatchClient) {
    this.call = client.watch();
    this.call.on('data', (response: WatchResponse) => this.received.push(response));
    this.call.on('error', (error: ServiceError) => {
      if (!this.closing) this.failures.push(`${name}: stream failed: ${error.code} ${error.details}`);
    });
  }

  create(spec: WatcherSpec): void {
    this.creates.push(spec);
    const filters = [
      ...(spec.noPut === true ? [WatchCreateRequest_FilterType.NOPUT] : []),
      ...(spec.noDelete === true ? [WatchCreateRequest_FilterType.NODELETE] : []),
    ];
    const rangeEnd = spec.rangeEnd === '' ? Buffer.alloc(0) : spec.rangeEnd === '\0' ? Buffer.from([0]) : b(spec.rangeEnd);
    this.call.write(
      WatchRequest.fromPartial({
        createRequest: {
          key: b(spec.key),
          rangeEnd,
          startRevision: BigInt(spec.startRevision),
          prevKv: spec.prevKv,
          filters,
          progressNotify: spec.progressNotify ?? false,
          watchId: BigInt(spec.watchId),
        },
      }),
    );
  }

  requestProgress(): void {
    this.progressRequests++;
    this.call.write(WatchRequest.fromPartial({ progressRequest: {} }));
  }

  pause(): void {
    this.call.pause();
  }

  resume(): void {
    this.call.resume();
  }

  close(): void {
    this.closing = true;
    this.call.cancel();
    this.client.close();
  }
}

/** A watcher once its create was acknowledged. */
interface Resolved {
  spec: WatcherSpec;
  stream: RecordedStream;
  id: bigint;
  /** The first revision it must receive. */
  start: number;
  /** Index of its ack in stream.received. */
  ackPosition: number;
}

/** Acks come in request order: the n-th `created` answers the n-th create. */
function resolveWatchers(stream: RecordedStream): Resolved[] {
  const resolved: Resolved[] = [];
  stream.received.forEach((response, position) => {
    if (!response.created) return;
    const spec = must(stream.creates[resolved.length], `the create request of watch ${resolved.length + 1} on ${stream.name}`);
    const revision = Number(response.header?.revision ?? 0n);
    resolved.push({ spec, stream, id: response.watchId, start: spec.startRevision === 0 ? revision + 1 : spec.startRevision, ackPosition: position });
  });
  return resolved;
}

interface ReceivedEvent {
  position: number;
  event: Event;
  description: string;
}

function receivedBy(watcher: Resolved): ReceivedEvent[] {
  const found: ReceivedEvent[] = [];
  watcher.stream.received.forEach((response, position) => {
    if (response.watchId !== watcher.id || response.created || response.canceled) return;
    for (const event of response.events) found.push({ position, event, description: describeEvent(event) });
  });
  return found;
}

function expectedBy(watcher: Resolved, history: History): ModelEvent[] {
  const { spec, start } = watcher;
  return history.events.filter(
    (event) =>
      event.revision >= start &&
      covers(spec, event.key) &&
      !(event.type === 'put' && spec.noPut === true) &&
      !(event.type === 'delete' && spec.noDelete === true),
  );
}

// ---- The checks: each returns its violations ----

function checkSequence(watcher: Resolved, history: History): string[] {
  const expected = expectedBy(watcher, history).map(describeModel);
  const received = receivedBy(watcher).map((event) => event.description);
  const first = expected.findIndex((description, i) => received[i] !== description);
  if (first === -1 && received.length === expected.length) return [];
  const at = first === -1 ? expected.length : first;
  const duplicates = received.length - new Set(received).size;
  return [
    `${watcher.spec.name}: received ${received.length} events, expected ${expected.length} (${duplicates} duplicates); ` +
      `first difference at #${at}: expected "${expected[at] ?? '(nothing)'}", received "${received[at] ?? '(nothing)'}"`,
  ];
}

function sameKv(kv: KeyValue | undefined, model: ModelKv, key: string): boolean {
  return (
    kv !== undefined &&
    kv.key.toString('latin1') === key &&
    kv.value.toString('latin1') === model.value &&
    Number(kv.createRevision) === model.createRevision &&
    Number(kv.modRevision) === model.modRevision &&
    Number(kv.version) === model.version
  );
}

function checkFields(watcher: Resolved, history: History): string[] {
  const expected = expectedBy(watcher, history);
  const violations: string[] = [];
  receivedBy(watcher).forEach(({ event, description }, i) => {
    const model = expected[i];
    if (model === undefined || describeModel(model) !== description) return; // checkSequence reports it
    if (model.kv !== undefined && !sameKv(event.kv, model.kv, model.key)) {
      violations.push(`${watcher.spec.name}: ${description}: kv ${JSON.stringify(event.kv)} differs from ${JSON.stringify(model.kv)}`);
    }
    const wantPrev = watcher.spec.prevKv ? model.prev : undefined;
    if (wantPrev === undefined && event.prevKv !== undefined) {
      violations.push(`${watcher.spec.name}: ${description}: unexpected prev_kv (mod ${event.prevKv.modRevision})`);
    } else if (wantPrev !== undefined && !sameKv(event.prevKv, wantPrev, model.key)) {
      const got = event.prevKv === undefined ? 'none' : `${event.prevKv.value.toString('latin1')}@${event.prevKv.modRevision}`;
      violations.push(`${watcher.spec.name}: ${description}: prev_kv ${got}, expected ${wantPrev.value}@${wantPrev.modRevision}`);
    }
  });
  return violations;
}

function checkAtomic(watcher: Resolved): string[] {
  const violations: string[] = [];
  const positionsByRevision = new Map<string, Set<number>>();
  for (const { position, event } of receivedBy(watcher)) {
    const revision = String(event.kv?.modRevision);
    const positions = positionsByRevision.get(revision) ?? new Set<number>();
    positions.add(position);
    positionsByRevision.set(revision, positions);
    if (must(watcher.stream.received[position], `response #${position} of ${watcher.stream.name}`).fragment) violations.push(`${watcher.spec.name}: fragment flag set without asking for fragments`);
  }
  for (const [revision, positions] of positionsByRevision) {
    if (positions.size > 1) violations.push(`${watcher.spec.name}: revision ${revision} split over responses ${[...positions].join(', ')}`);
  }
  return violations;
}

/**
 * A progress response (a WatchProgressRequest's answer, watch_id -1, or a
 * progress_notify for one watcher) with header revision R promises that
 * every event up to R was already sent: each watcher it speaks for must have
 * received, before it, every expected event with revision <= R.
 */
function checkProgress(stream: RecordedStream, watchers: Resolved[], history: History): string[] {
  const violations: string[] = [];
  const received = new Map(watchers.map((watcher) => [watcher, receivedBy(watcher)]));
  const expected = new Map(watchers.map((watcher) => [watcher, expectedBy(watcher, history)]));
  stream.received.forEach((response, position) => {
    if (response.created || response.canceled || response.events.length > 0) return;
    const promised = Number(response.header?.revision ?? 0n);
    const concerned = watchers.filter((watcher) => watcher.ackPosition < position && (response.watchId === -1n || response.watchId === watcher.id));
    for (const watcher of concerned) {
      const due = (expected.get(watcher) ?? []).filter((event) => event.revision <= promised);
      const before = (received.get(watcher) ?? []).filter((event) => event.position < position && Number(event.event.kv?.modRevision) <= promised);
      if (before.length < due.length) {
        const kind = response.watchId === -1n ? 'progress response' : 'progress notification';
        violations.push(
          `${stream.name}: ${kind} #${position} promises revision ${promised}, but ${watcher.spec.name} had received ${before.length} ` +
            `of its ${due.length} events up to it (first missing: "${describeModel(must(due[before.length], `due event ${before.length + 1}`))}")`,
        );
      }
    }
  });
  return violations;
}

const report = (violations: string[]): string =>
  `${violations.length} violation(s):\n  ${violations.slice(0, reportedMax).join('\n  ')}${violations.length > reportedMax ? '\n  ...' : ''}`;

async function waitFor(condition: () => boolean, timeoutMs: number, pollMs = 20): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) return false;
    await new Promise((resolve) => setTimeout(resolve, pollMs));
  }
  return true;
}

// ---- The scenario ----

interface Outcome {
  history: History;
  streams: RecordedStream[];
  watchers: Resolved[];
  slow: RecordedStream;
  finalRange: RangeResponse;
  /** Ranges of the whole key space at sampled past revisions. */
  pastRanges: Array<{ revision: number; kvs: KeyValue[] }>;
  writeFailures: string[];
}

/** One writer loop: puts, single-key deletes and multi-key txns on the small key space. */
async function runWriter(kv: KVClient, id: number, random: () => number, done: () => boolean, committed: Committed[], seen: (revision: number) => void): Promise<void> {
  const pick = (): string => must(keySpace[Math.floor(random() * keySpace.length)], `one of the ${keySpace.length} keys`);
  for (let n = 0; !done(); n++) {
    const roll = random();
    if (roll < 0.45) {
      const key = pick();
      const value = `${id}.${n}`;
      const response = await unary<PutResponse>((m, o, cb) => kv.put(PutRequest.fromPartial({ key: b(key), value: b(value) }), m, o, cb));
      const revision = Number(response.header?.revision);
      committed.push({ revision, changes: [{ type: 'put', key, value }] });
      seen(revision);
    } else if (roll < 0.65) {
      const key = pick();
      const response = await unary<DeleteRangeResponse>((m, o, cb) => kv.deleteRange(DeleteRangeRequest.fromPartial({ key: b(key) }), m, o, cb));
      if (response.deleted > 0n) committed.push({ revision: Number(response.header?.revision), changes: [{ type: 'delete', key, value: '' }] });
    } else {
      const keys = [...keySpace].sort(() => random() - 0.5).slice(0, 2 + Math.floor(random() * 3));
      const planned: Change[] = keys.map((key, j) => (random() < 0.7 ? { type: 'put', key, value: `${id}.${n}.${j}` } : { type: 'delete', key, value: '' }));
      const success = planned.map((change) =>
        change.type === 'put'
          ? RequestOp.fromPartial({ requestPut: { key: b(change.key), value: b(change.value) } })
          : RequestOp.fromPartial({ requestDeleteRange: { key: b(change.key) } }),
      );
      const response = await unary<TxnResponse>((m, o, cb) => kv.txn(TxnRequest.fromPartial({ success }), m, o, cb));
      const changes = planned.filter((change, j) => change.type === 'put' || (must(response.responses[j], `txn response ${j}`).responseDeleteRange?.deleted ?? 0n) > 0n);
      const revision = Number(response.header?.revision);
      if (changes.length > 0) committed.push({ revision, changes });
      seen(revision);
    }
  }
}

async function runScenario(server: ServerHandle, streams: RecordedStream[]): Promise<Outcome> {
  const random = seededRandom(seed);
  const kv = new KVClient(server.endpoint, credentials.createInsecure());
  const open = (name: string): RecordedStream => {
    const stream = new RecordedStream(name, new WatchClient(server.endpoint, credentials.createInsecure(), ownConnection));
    streams.push(stream);
    return stream;
  };
  try {
    const everything = { key: '\0', rangeEnd: '\0' };
    const fast = open('A');
    fast.create({ name: 'A1 w/ from revision 1, prev_kv', key: 'w/', rangeEnd: 'w0', startRevision: 1, prevKv: true, watchId: 1 });
    fast.create({ name: 'A2 key w/3', key: 'w/3', rangeEnd: '', startRevision: 0, prevKv: false, watchId: 2 });
    fast.create({ name: 'A3 [w/2, w/6) NODELETE, prev_kv', key: 'w/2', rangeEnd: 'w/6', startRevision: 0, prevKv: true, noDelete: true, watchId: 3 });
    fast.create({ name: 'A4 everything NOPUT', ...everything, startRevision: 0, prevKv: false, noPut: true, watchId: 4 });
    fast.create({ name: 'A5 everything, prev_kv, progress_notify', ...everything, startRevision: 0, prevKv: true, progressNotify: true, watchId: 5 });
    const slow = open('C (slow)');
    slow.create({ name: 'C1 everything from revision 1, prev_kv', ...everything, startRevision: 1, prevKv: true, watchId: 11 });
    slow.create({ name: 'C2 w/ prev_kv, progress_notify', key: 'w/', rangeEnd: 'w0', startRevision: 0, prevKv: true, progressNotify: true, watchId: 12 });
    for (let i = 3; i <= 8; i++) slow.create({ name: `C${i} everything`, ...everything, startRevision: 0, prevKv: i % 2 === 0, watchId: 10 + i });
    const acked = await waitFor(() => fast.received.length >= 5 && slow.received.length >= 8, 5_000);
    if (!acked) throw new Error('watch creates were not acknowledged within 5 s');

    const committed: Committed[] = [];
    let highest = 1;
    const started = Date.now();
    const done = (): boolean => highest >= revisionsTarget || Date.now() - started > writeDurationMsMax;
    const writers = Array.from({ length: writersCount }, (_, id) =>
      runWriter(kv, id, seededRandom(Math.floor(random() * 2 ** 31)), done, committed, (revision) => (highest = Math.max(highest, revision))),
    );
    const writing = Promise.all(writers);
    let finished = false;
    void writing.finally(() => (finished = true)).catch(() => undefined);

    const pump = setInterval(() => {
      for (const stream of streams) stream.requestProgress();
    }, progressRequestIntervalMs);
    try {
      await waitFor(() => finished || highest >= slowPauseAtRevision, writeDurationMsMax);
      slow.pause();
      const pausedAt = highest;
      const pausedAtMs = Date.now();
      await waitFor(() => finished || highest >= midwayRevision, writeDurationMsMax);
      const midway = open('B (from history)');
      midway.create({ name: 'B1 w/ from 300 revisions back, prev_kv', key: 'w/', rangeEnd: 'w0', startRevision: Math.max(1, highest - 300), prevKv: true, watchId: 0 });
      midway.create({ name: 'B2 everything from revision 1, prev_kv', ...everything, startRevision: 1, prevKv: true, watchId: 0 });
      midway.create({ name: 'B3 key w/5', key: 'w/5', rangeEnd: '', startRevision: 0, prevKv: true, watchId: 7 });
      midway.create({ name: 'B4 v/ from 100 revisions back', key: 'v/', rangeEnd: 'v0', startRevision: Math.max(1, highest - 100), prevKv: false, watchId: 0 });
      midway.requestProgress(); // right behind the creates: B1, B2 and B4 are still catching up
      await waitFor(() => finished || highest >= pausedAt + slowPauseRevisions || Date.now() - pausedAtMs > slowPauseMsMax, writeDurationMsMax);
      slow.resume();
      await writing;
    } finally {
      clearInterval(pump);
    }

    const history = buildHistory(committed);
    const resolvedNow = (): Resolved[] => streams.flatMap(resolveWatchers);
    const complete = (): boolean =>
      resolvedNow().length === streams.reduce((sum, stream) => sum + stream.creates.length, 0) &&
      resolvedNow().every((watcher) => receivedBy(watcher).length >= expectedBy(watcher, history).length);
    await waitFor(complete, deliveryWaitMsMax, 50);
    // A last progress request on each stream, now that everything was delivered.
    const before = streams.map((stream) => stream.received.length);
    for (const stream of streams) stream.requestProgress();
    await waitFor(() => streams.every((stream, i) => stream.received.slice(before[i]).some((r) => r.watchId === -1n)), 5_000);
    const readAll = (revision: number): Promise<RangeResponse> =>
      unary<RangeResponse>((m, o, cb) => kv.range(RangeRequest.fromPartial({ key: b('\0'), rangeEnd: Buffer.from([0]), revision: BigInt(revision) }), m, o, cb));
    const finalRange = await readAll(0);
    const pastRanges: Outcome['pastRanges'] = [];
    for (let i = 0; i < pastRangesCount; i++) {
      const revision = 2 + Math.floor(random() * (history.lastRevision - 1));
      pastRanges.push({ revision, kvs: (await readAll(revision)).kvs });
    }
    return { history, streams, watchers: resolvedNow(), slow, finalRange, pastRanges, writeFailures: streams.flatMap((stream) => stream.failures) };
  } finally {
    kv.close();
  }
}

describe('watch guarantees under concurrent writes (randomized)', function () {
  this.timeout(60_000);
  let server: ServerHandle | undefined;
  const streams: RecordedStream[] = [];
  let outcome: Outcome;

  before(async function () {
    console.log(`    seed ${seed} (replay the operations with WATCH_SEED=${seed})`);
    server = await startCairn({ args: ['--experimental-watch-progress-notify-interval', '200ms'] });
    const started = Date.now();
    outcome = await runScenario(server, streams);
    const { history, watchers } = outcome;
    const delivered = watchers.reduce((sum, watcher) => sum + receivedBy(watcher).length, 0);
    console.log(`    ${history.lastRevision - 1} revisions, ${history.events.length} events, ${watchers.length} watchers, ${delivered} events delivered, ${Date.now() - started} ms`);
  });

  after(async () => {
    for (const stream of streams) stream.close();
    await server?.destroy();
  });

  it('the writers’ acknowledgements form a contiguous history that Range reads back, now and at past revisions', () => {
    const { history, finalRange, pastRanges } = outcome;
    expect(history.problems, report(history.problems)).to.deep.equal([]);
    expect(history.lastRevision).to.be.greaterThan(midwayRevision);
    expect(Number(finalRange.header?.revision)).to.equal(history.lastRevision);
    expect(describeRead(finalRange.kvs)).to.deep.equal(stateAt(history, history.lastRevision));
    expect(pastRanges).to.have.length(pastRangesCount);
    for (const { revision, kvs } of pastRanges) expect(describeRead(kvs), `the key space at revision ${revision}`).to.deep.equal(stateAt(history, revision));
  });

  it('every create is acknowledged in request order, with the requested watch ID, and nothing is cancelled or fails', () => {
    const violations = [...outcome.writeFailures];
    for (const stream of outcome.streams) {
      const resolved = resolveWatchers(stream);
      if (resolved.length !== stream.creates.length) violations.push(`${stream.name}: ${resolved.length} of ${stream.creates.length} creates acknowledged`);
      for (const watcher of resolved) {
        if (watcher.spec.watchId !== 0 && watcher.id !== BigInt(watcher.spec.watchId)) violations.push(`${watcher.spec.name}: acknowledged as watch ${watcher.id}`);
      }
      if (new Set(resolved.map((watcher) => watcher.id)).size !== resolved.length) violations.push(`${stream.name}: two watchers share an ID`);
      for (const response of stream.received) if (response.canceled) violations.push(`${stream.name}: watch ${response.watchId} cancelled: ${response.cancelReason}`);
    }
    expect(violations, report(violations)).to.deep.equal([]);
  });

  it('every watcher receives every event of its range exactly once, in revision order (reliable, unique, ordered)', () => {
    const violations = outcome.watchers.flatMap((watcher) => checkSequence(watcher, outcome.history));
    expect(violations, report(violations)).to.deep.equal([]);
  });

  it('events carry the kv after the change, and prev_kv exactly when asked for and the key existed', () => {
    const violations = outcome.watchers.flatMap((watcher) => checkFields(watcher, outcome.history));
    expect(violations, report(violations)).to.deep.equal([]);
  });

  it('no revision is split across responses (atomic)', () => {
    const violations = outcome.watchers.flatMap(checkAtomic);
    expect(violations, report(violations)).to.deep.equal([]);
  });

  it('the slow consumer was moved aside and caught up from history (a response spans several revisions)', () => {
    const spanning = outcome.slow.received.filter((response) => new Set(response.events.map((event) => event.kv?.modRevision)).size > 1);
    expect(spanning.length, 'responses on the slow stream holding more than one revision').to.be.greaterThan(0);
  });

  it('progress notifications and progress responses never promise a revision whose events were not yet delivered (bookmarkable)', () => {
    const progress = outcome.streams.map((stream) => stream.received.filter((r) => !r.created && !r.canceled && r.events.length === 0).length);
    expect(progress.every((count) => count > 0), `progress responses per stream: ${progress.join(', ')}`).to.equal(true);
    const violations = outcome.streams.flatMap((stream) =>
      checkProgress(
        stream,
        outcome.watchers.filter((watcher) => watcher.stream === stream),
        outcome.history,
      ),
    );
    // Grouped by stream and kind, a few of each listed.
    const kinds = new Map<string, string[]>();
    for (const violation of violations) {
      const kind = violation.slice(0, violation.indexOf(' #'));
      kinds.set(kind, [...(kinds.get(kind) ?? []), violation]);
    }
    const summary = [...kinds].map(([kind, list]) => `${kind}: ${list.length}`).join('; ');
    const examples = [...kinds.values()].flatMap((list) => list.slice(0, 3));
    expect(violations, `${violations.length} violations (${summary}), for example:\n  ${examples.join('\n  ')}`).to.deep.equal([]);
  });
});
