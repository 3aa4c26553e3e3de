// etcdctl watch and the raw Watch stream, side by side on etcd and cairn.
//
// etcdctl watch runs until killed: each test starts it on both servers,
// makes the same writes on both, waits until the last write's event is
// printed (bounded), kills it and compares everything it printed. A watch
// that starts "now" (no --rev) gets a settle delay first, because etcdctl
// prints nothing when its watch is created.
//
// Raw tests open one Watch stream per server and compare the responses
// (header cluster/member/term dropped; revisions, watch IDs, events, cancel
// reasons kept). Where etcd's order between two watchers of one stream is not
// fixed (it notifies watchers of one revision in map order), responses are
// compared per watch ID.
import { expect } from 'chai';
import {
  CompactionRequest,
  DeleteRangeRequest,
  PutRequest,
  RequestOp,
  TxnRequest,
  WatchCreateRequest_FilterType,
  type WatchResponse,
} from '../../proto/gen/etcdserverpb/rpc.js';
import { Event_EventType } from '../../proto/gen/mvccpb/kv.js';
import { EtcdctlProcesses, sleep } from '../interop/etcdctl-process.js';
import { normaliseMessage, normaliseRun, type NormalisedRun } from './normalise.js';
import { compatPair, type PairSide } from './pair.js';
import { compactRaw, deleteRangeRaw, putRaw, responseOf, txnRaw } from './rpc.js';
import { WatchStream } from './streams.js';

/** etcdctl prints nothing when its watch is created: writes wait this long after it starts. */
const watchSettleMs = 1_000;
/** How long a test waits for the last event to be printed. */
const lastEventWaitMs = 5_000;
/** After the last event, how long to keep listening for output that should not come. */
const trailingQuietMs = 200;

async function put(side: PairSide, key: string, value: string): Promise<bigint> {
  const response = responseOf(await putRaw(side.clients, PutRequest.fromPartial({ key: Buffer.from(key), value: Buffer.from(value) })), `put ${key}`);
  return response.header?.revision ?? 0n;
}

async function del(side: PairSide, key: string, rangeEnd?: string): Promise<void> {
  const request = DeleteRangeRequest.fromPartial({ key: Buffer.from(key), rangeEnd: rangeEnd === undefined ? undefined : Buffer.from(rangeEnd) });
  responseOf(await deleteRangeRaw(side.clients, request), `delete ${key}`);
}

/** One Txn that puts every entry: one revision. */
async function putInOneTxn(side: PairSide, entries: ReadonlyArray<readonly [string, string]>): Promise<void> {
  const success = entries.map(([key, value]) => RequestOp.fromPartial({ requestPut: { key: Buffer.from(key), value: Buffer.from(value) } }));
  responseOf(await txnRaw(side.clients, TxnRequest.fromPartial({ success })), 'txn');
}

async function compact(side: PairSide, revision: bigint): Promise<void> {
  responseOf(await compactRaw(side.clients, CompactionRequest.fromPartial({ revision, physical: true })), `compact ${revision}`);
}

interface EtcdctlWatch {
  args: string[];
  /** Lines written to stdin (for `watch -i`); stdin stays open. */
  stdin?: string[];
  /**
   * Writes made once the watch runs. `printed(text)` waits (bounded) until
   * stdout includes `text`, for a test whose output order would otherwise
   * depend on goroutine scheduling inside etcdctl.
   */
  writes: (side: PairSide, printed: (text: string) => Promise<void>) => Promise<void>;
  /** True once stdout shows the last expected output. */
  done: (stdout: string) => boolean;
  /** The watch starts from history (--rev): no settle delay needed. */
  fromHistory?: boolean;
}

/** Runs one etcdctl watch through `scenario.writes` on one side and returns what it printed, normalised. */
async function watchWithEtcdctl(side: PairSide, processes: EtcdctlProcesses, scenario: EtcdctlWatch): Promise<NormalisedRun> {
  const watcher = processes.start(side.server.endpoint, scenario.args);
  for (const line of scenario.stdin ?? []) watcher.write(`${line}\n`);
  if (scenario.fromHistory !== true) await sleep(watchSettleMs);
  const printed = (text: string) => watcher.waitForStdout((stdout) => stdout.includes(text), JSON.stringify(text), lastEventWaitMs);
  await scenario.writes(side, printed);
  try {
    await watcher.waitForStdout(scenario.done, 'the last event', lastEventWaitMs);
  } catch {
    // Compared below: the difference in output says more than a timeout.
  }
  await sleep(trailingQuietMs);
  const exit = await watcher.signal('SIGKILL');
  const code = exit.signal === null ? exit.code : null;
  return normaliseRun({ code, stdout: watcher.stdout(), stderr: watcher.stderr() }, side.server.endpoint, scenario.args);
}

/** Reads responses until they carry `count` events in all (bounded by the stream's wait). */
async function readEvents(stream: WatchStream, count: number): Promise<WatchResponse[]> {
  const responses: WatchResponse[] = [];
  let seen = 0;
  while (seen < count) {
    const response = await stream.next();
    responses.push(response);
    seen += response.events.length;
  }
  return responses;
}

/** Responses grouped by watch ID, each group in arrival order. */
function byWatchId(responses: readonly WatchResponse[]): Record<string, unknown[]> {
  const groups: Record<string, unknown[]> = {};
  for (const response of responses) (groups[String(response.watchId)] ??= []).push(normaliseMessage(response));
  return groups;
}

/** The events of all responses, in order, as [type, key, value, modRevision, prev value]. */
function eventSummary(responses: readonly WatchResponse[]): unknown[] {
  return responses.flatMap((response) => response.events.map((event) => [
    event.type === Event_EventType.DELETE ? 'DELETE' : 'PUT',
    event.kv?.key.toString(),
    event.kv?.value.toString(),
    String(event.kv?.modRevision),
    event.prevKv?.value.toString(),
  ]));
}

/** Opens a stream on one side, runs `body`, and always closes the stream. */
async function withStream<T>(side: PairSide, body: (stream: WatchStream) => Promise<T>): Promise<T> {
  const stream = new WatchStream(side.clients, `${side.name} watch stream`);
  try {
    return await body(stream);
  } finally {
    stream.close();
  }
}

describe('compat: watch', function () {
  const pair = compatPair();

  describe('etcdctl watch', function () {
    const processes = new EtcdctlProcesses();
    afterEach(() => processes.killAll());

    it('watch KEY prints the PUTs and DELETEs of that key only', async () => {
      const etcd = await pair.same('etcdctl watch wk', (side) => watchWithEtcdctl(side, processes, {
        args: ['watch', 'wk'],
        async writes(side) {
          await put(side, 'wk', '1');
          await put(side, 'wk/other', 'x');
          await put(side, 'wj', 'x');
          await put(side, 'wk', '2');
          await del(side, 'wk');
          await put(side, 'wk', 'last');
        },
        done: (stdout) => stdout.includes('last'),
      }));
      expect(etcd.stdout).to.deep.equal(['PUT', 'wk', '1', 'PUT', 'wk', '2', 'DELETE', 'wk', '', 'PUT', 'wk', 'last']);
    });

    it('watch --prefix, and watch KEY RANGE_END', async () => {
      const etcd = await pair.same('etcdctl watch --prefix wp/', (side) => watchWithEtcdctl(side, processes, {
        args: ['watch', '--prefix', 'wp/'],
        async writes(side) {
          await put(side, 'wp/a', '1');
          await put(side, 'wq', 'outside');
          await putInOneTxn(side, [['wp/b', '2'], ['wp/c', '3'], ['wz', 'outside']]);
          await del(side, 'wp/', 'wp0');
          await put(side, 'wp/z', 'last');
        },
        done: (stdout) => stdout.includes('last'),
      }));
      expect(etcd.stdout.filter((line) => line === 'PUT' || line === 'DELETE')).to.have.length(7);
      const range = await pair.same('etcdctl watch wr/b wr/d', (side) => watchWithEtcdctl(side, processes, {
        args: ['watch', 'wr/b', 'wr/d'],
        async writes(side) {
          for (const key of ['wr/a', 'wr/b', 'wr/c', 'wr/d', 'wr/c']) await put(side, key, key === 'wr/c' ? 'c' : 'x');
          await put(side, 'wr/bz', 'last');
        },
        done: (stdout) => stdout.includes('last'),
      }));
      expect(range.stdout).to.deep.equal(['PUT', 'wr/b', 'x', 'PUT', 'wr/c', 'c', 'PUT', 'wr/c', 'c', 'PUT', 'wr/bz', 'last']);
    });

    it('watch --rev replays history from that revision, then live events', async () => {
      const [etcdStart] = await pair.both(async (side) => {
        const first = await put(side, 'wh/a', '1');
        await put(side, 'wh/b', '1');
        await put(side, 'wh/a', '2');
        await del(side, 'wh/b');
        return first;
      });
      const etcd = await pair.same('etcdctl watch --rev', (side) => watchWithEtcdctl(side, processes, {
        args: ['watch', '--prefix', 'wh/', `--rev=${etcdStart + 1n}`],
        fromHistory: true,
        writes: async (side) => void (await put(side, 'wh/c', 'last')),
        done: (stdout) => stdout.includes('last'),
      }));
      expect(etcd.stdout).to.deep.equal(['PUT', 'wh/b', '1', 'PUT', 'wh/a', '2', 'DELETE', 'wh/b', '', 'PUT', 'wh/c', 'last']);
      await pair.same('etcdctl watch --rev -w json', (side) => watchWithEtcdctl(side, processes, {
        args: ['watch', '--prefix', 'wh/', `--rev=${etcdStart}`, '--prev-kv', '-w', 'json'],
        fromHistory: true,
        // The history first (its last event is the DELETE): a put landing before the watch caught up would join the
        // history's response on one server and not on the other, depending on timing alone.
        writes: async (side, printed) => {
          await printed('"type":1');
          await put(side, 'wh/d', 'last');
        },
        done: (stdout) => stdout.includes('"key":"d2gvZA=="'),
      }));
    });

    it('watch --prev-kv prints the previous key-value before each event', async () => {
      const etcd = await pair.same('etcdctl watch --prev-kv', (side) => watchWithEtcdctl(side, processes, {
        args: ['watch', '--prev-kv', 'wv'],
        async writes(side) {
          await put(side, 'wv', 'one');
          await put(side, 'wv', 'two');
          await del(side, 'wv');
          await put(side, 'wv', 'last');
        },
        done: (stdout) => stdout.includes('last'),
      }));
      expect(etcd.stdout).to.deep.equal(['PUT', 'wv', 'one', 'PUT', 'wv', 'one', 'wv', 'two', 'DELETE', 'wv', 'two', 'wv', '', 'PUT', 'wv', 'last']);
    });

    it('watch -w json prints one WatchResponse per line (headers normalised)', async () => {
      const etcd = await pair.same('etcdctl watch -w json', (side) => watchWithEtcdctl(side, processes, {
        args: ['watch', '--prefix', 'wjs/', '--prev-kv', '-w', 'json'],
        async writes(side) {
          await put(side, 'wjs/a', '1');
          await put(side, 'wjs/a', '2');
          await putInOneTxn(side, [['wjs/b', '1'], ['wjs/c', '1']]);
          await del(side, 'wjs/', 'wjs0');
          await put(side, 'wjs/z', 'last');
        },
        done: (stdout) => stdout.includes('"key":"d2pzL3o="'),
      }));
      expect(etcd.stdout).to.have.length(5);
    });

    it('watch -i reads "watch KEY [flags]" lines from stdin', async () => {
      const etcd = await pair.same('etcdctl watch -i', (side) => watchWithEtcdctl(side, processes, {
        args: ['watch', '-i'],
        stdin: ['watch wi/k1', 'watch wi/k2 --prev-kv', 'watch --prefix wi/p/'],
        // etcdctl prints each watch's events from its own goroutine: the
        // order across watches is fixed by waiting for each event in turn.
        async writes(side, printed) {
          await put(side, 'wi/k1', 'a');
          await printed('a\n');
          await put(side, 'wi/k2', 'b');
          await printed('b\n');
          await put(side, 'wi/k2', 'c');
          await printed('c\n');
          await put(side, 'wi/other', 'x');
          await put(side, 'wi/p/1', 'last');
        },
        done: (stdout) => stdout.includes('last'),
      }));
      expect(etcd.stdout).to.deep.equal(['PUT', 'wi/k1', 'a', 'PUT', 'wi/k2', 'b', 'PUT', 'wi/k2', 'b', 'wi/k2', 'c', 'PUT', 'wi/p/1', 'last']);
    });

    it('a running watch keeps going across a compaction', async () => {
      const etcd = await pair.same('etcdctl watch across a compaction', (side) => watchWithEtcdctl(side, processes, {
        args: ['watch', '--prefix', 'wca/'],
        async writes(side) {
          await put(side, 'wca/a', '1');
          const revision = await put(side, 'wca/a', '2');
          await compact(side, revision);
          await put(side, 'wca/a', 'last');
        },
        done: (stdout) => stdout.includes('last'),
      }));
      expect(etcd.stdout).to.deep.equal(['PUT', 'wca/a', '1', 'PUT', 'wca/a', '2', 'PUT', 'wca/a', 'last']);
    });

    /** Three writes to wcc/a, then a compaction at the last one: returns the compacted revision. */
    const writeAndCompact = async (): Promise<bigint> => {
      const [compacted] = await pair.both(async (side) => {
        await put(side, 'wcc/a', '1');
        await put(side, 'wcc/a', '2');
        const revision = await put(side, 'wcc/a', '3');
        await compact(side, revision);
        return revision;
      });
      return compacted;
    };

    it('watch --rev below the compacted revision is canceled by the server, and etcdctl exits', async () => {
      const compacted = await writeAndCompact();
      const etcd = await pair.same('etcdctl watch --rev below compaction', (side) => watchWithEtcdctl(side, processes, {
        args: ['watch', 'wcc/a', `--rev=${compacted - 1n}`],
        fromHistory: true,
        writes: async () => undefined,
        done: () => false,
      }));
      // etcdctl exits by itself (code 5), having printed the cancel on stderr.
      expect(etcd.code).to.equal(5);
      expect(etcd.stderr).to.deep.equal(['watch was canceled (etcdserver: mvcc: required revision has been compacted)', 'Error: watch is canceled by the server']);
    });

    it('watch --rev below the compacted revision -w json prints the cancel response with CompactRevision', async () => {
      const compacted = await writeAndCompact();
      const etcd = await pair.same('etcdctl watch --rev below compaction -w json', (side) => watchWithEtcdctl(side, processes, {
        args: ['watch', 'wcc/a', `--rev=${compacted - 1n}`, '-w', 'json'],
        fromHistory: true,
        writes: async () => undefined,
        done: () => false,
      }));
      expect(etcd.stdout).to.have.length(1);
      expect(etcd.stdout[0]).to.deep.include({ CompactRevision: Number(compacted), Canceled: true });
    });

    it('watch --rev at the compacted revision replays from it', async () => {
      const compacted = await writeAndCompact();
      const etcd = await pair.same('etcdctl watch --rev at the compacted revision', (side) => watchWithEtcdctl(side, processes, {
        args: ['watch', 'wcc/a', `--rev=${compacted}`],
        fromHistory: true,
        writes: async (side) => void (await put(side, 'wcc/a', 'last')),
        done: (stdout) => stdout.includes('last'),
      }));
      expect(etcd.stdout).to.deep.equal(['PUT', 'wcc/a', '3', 'PUT', 'wcc/a', 'last']);
    });
  });

  describe('raw Watch stream', function () {
    it('answers creates sent back to back in request order, failed ones included', async () => {
      const etcd = await pair.same('create acks', (side) => withStream(side, async (stream) => {
        stream.create({ key: Buffer.from('ra/a') });
        stream.create({ key: Buffer.from('ra/'), rangeEnd: Buffer.from('ra0') });
        stream.create({ key: Buffer.from('ra/z'), rangeEnd: Buffer.from('ra/a') });
        stream.create({ key: Buffer.from('ra/b'), watchId: 100n });
        stream.create({ key: Buffer.from('ra/c'), prevKv: true });
        stream.create({ key: Buffer.from('ra/d'), watchId: 100n });
        stream.create({ key: Buffer.from('ra/e') });
        const acks = await stream.take(7);
        return { acks: acks.map(normaliseMessage), after: (await stream.responses.quiet(trailingQuietMs)).map(normaliseMessage) };
      }));
      const acks = etcd.acks as Array<{ created?: boolean; watchId: string }>;
      expect(acks.every((ack) => ack.created === true)).to.equal(true);
      expect(acks.map((ack) => ack.watchId)).to.deep.equal(['0', '1', '-1', '100', '2', '-1', '3']);
    });

    it('a create with range_end <= key is created+canceled with watch_id -1 and a cancel reason', async () => {
      const etcd = await pair.same('failed create', (side) => withStream(side, async (stream) => {
        stream.create({ key: Buffer.from('rf/b'), rangeEnd: Buffer.from('rf/a') });
        stream.create({ key: Buffer.from('rf/b'), rangeEnd: Buffer.from('rf/b') });
        return (await stream.take(2)).map(normaliseMessage);
      }));
      expect(etcd[0]).to.deep.include({ watchId: '-1', created: true, canceled: true });
    });

    it('a duplicate client watch_id is refused; the first watcher keeps working', async () => {
      const etcd = await pair.same('duplicate watch id', (side) => withStream(side, async (stream) => {
        stream.create({ key: Buffer.from('rd/a'), watchId: 7n });
        stream.create({ key: Buffer.from('rd/b'), watchId: 7n });
        const acks = await stream.take(2);
        await put(side, 'rd/b', 'not watched by 7');
        await put(side, 'rd/a', 'watched');
        const events = await stream.next();
        return [...acks, events].map(normaliseMessage);
      }));
      expect(etcd[1]).to.deep.include({ watchId: '-1', created: true, canceled: true, cancelReason: 'mvcc: duplicate watch ID provided on the WatchStream' });
      expect(etcd[2]).to.deep.include({ watchId: '7' });
    });

    it('cancel answers canceled with the watch_id; cancel of an unknown id gets no response', async () => {
      const etcd = await pair.same('cancel', (side) => withStream(side, async (stream) => {
        stream.create({ key: Buffer.from('rc/a') });
        const created = await stream.next();
        stream.cancel(created.watchId);
        const canceled = await stream.next();
        await put(side, 'rc/a', 'after cancel');
        stream.cancel(12345n);
        stream.requestProgress();
        const progress = await stream.next();
        const after = await stream.responses.quiet(trailingQuietMs);
        return [created, canceled, progress, ...after].map(normaliseMessage);
      }));
      expect(etcd[1]).to.deep.include({ watchId: '0', canceled: true });
      expect(etcd[2]).to.deep.include({ watchId: '-1' });
      expect(etcd).to.have.length(3);
    });

    it('WatchProgressRequest answers watch_id -1 with the current revision', async () => {
      const etcd = await pair.same('progress request', (side) => withStream(side, async (stream) => {
        stream.create({ key: Buffer.from('rp/a') });
        const created = await stream.next();
        const revision = await put(side, 'rp/other', '1');
        stream.requestProgress();
        const progress = await stream.next();
        return { created: normaliseMessage(created), progress: normaliseMessage(progress), revision: String(revision) };
      }));
      expect(etcd.progress).to.deep.include({ watchId: '-1', header: { revision: etcd.revision } });
    });

    it('start_revision in the future delivers events from that revision on only', async () => {
      const etcd = await pair.same('future start_revision', (side) => withStream(side, async (stream) => {
        const current = await put(side, 'rs/a', '0');
        stream.create({ key: Buffer.from('rs/a'), startRevision: current + 3n });
        const created = await stream.next();
        for (let index = 1; index <= 5; index++) await put(side, 'rs/a', String(index));
        const responses = await readEvents(stream, 3);
        const after = await stream.responses.quiet(trailingQuietMs);
        return { created: normaliseMessage(created), events: eventSummary([...responses, ...after]), responses: [...responses, ...after].map(normaliseMessage) };
      }));
      expect((etcd.events as unknown[][]).map((event) => event[2])).to.deep.equal(['3', '4', '5']);
    });

    it('filters NOPUT and NODELETE', async () => {
      const etcd = await pair.same('filters', (side) => withStream(side, async (stream) => {
        stream.create({ key: Buffer.from('rl/'), rangeEnd: Buffer.from('rl0'), filters: [WatchCreateRequest_FilterType.NOPUT] });
        const noPut = await stream.next();
        stream.create({ key: Buffer.from('rl/'), rangeEnd: Buffer.from('rl0'), filters: [WatchCreateRequest_FilterType.NODELETE] });
        const noDelete = await stream.next();
        await put(side, 'rl/a', '1');
        await del(side, 'rl/a');
        await put(side, 'rl/b', '1');
        await del(side, 'rl/b');
        const responses = await readEvents(stream, 4);
        const after = await stream.responses.quiet(trailingQuietMs);
        return { acks: [noPut, noDelete].map(normaliseMessage), byWatcher: byWatchId([...responses, ...after]) };
      }));
      const deletesOnly = etcd.byWatcher['0'] as Array<{ events: Array<{ type: number }> }>;
      expect(deletesOnly.flatMap((response) => response.events.map((event) => event.type))).to.deep.equal([1, 1]);
    });

    it('prev_kv carries the previous key-value on PUT and DELETE', async () => {
      const etcd = await pair.same('prev_kv', (side) => withStream(side, async (stream) => {
        stream.create({ key: Buffer.from('rv/a'), prevKv: true });
        await stream.next();
        await put(side, 'rv/a', 'one');
        await put(side, 'rv/a', 'two');
        await del(side, 'rv/a');
        return (await readEvents(stream, 3)).map(normaliseMessage);
      }));
      expect(etcd).to.have.length(3);
    });

    it('a txn that writes three keys arrives as one response with three events', async () => {
      const etcd = await pair.same('txn atomicity', (side) => withStream(side, async (stream) => {
        stream.create({ key: Buffer.from('rt/'), rangeEnd: Buffer.from('rt0') });
        await stream.next();
        await putInOneTxn(side, [['rt/a', '1'], ['rt/b', '2'], ['rt/c', '3']]);
        const response = await stream.next();
        return { response: normaliseMessage(response), after: (await stream.responses.quiet(trailingQuietMs)).map(normaliseMessage) };
      }));
      expect((etcd.response as { events: unknown[] }).events).to.have.length(3);
    });

    it('a watcher from history gets every past event, then live ones', async () => {
      const [etcd, cairn] = await pair.both((side) => withStream(side, async (stream) => {
        const first = await put(side, 'rw/a', '1');
        await put(side, 'rw/b', '1');
        await putInOneTxn(side, [['rw/a', '2'], ['rw/c', '1']]);
        await del(side, 'rw/b');
        stream.create({ key: Buffer.from('rw/'), rangeEnd: Buffer.from('rw0'), startRevision: first, prevKv: true });
        const history = await readEvents(stream, 5);
        await put(side, 'rw/d', 'live');
        const live = await readEvents(stream, 1);
        return { events: eventSummary([...history, ...live]), responses: [...history, ...live].map(normaliseMessage) };
      }));
      expect(etcd.events).to.have.length(6);
      expect(cairn.events, 'events from history: cairn (actual) vs etcd (expected)').to.deep.equal(etcd.events);
      expect(cairn.responses, 'responses from history (how events are grouped into responses): cairn (actual) vs etcd (expected)').to.deep.equal(etcd.responses);
    });

    it('a create below the compacted revision is canceled with compact_revision', async () => {
      const etcd = await pair.same('compacted start', (side) => withStream(side, async (stream) => {
        const first = await put(side, 'rk/a', '1');
        await put(side, 'rk/a', '2');
        const compacted = await put(side, 'rk/a', '3');
        await compact(side, compacted);
        stream.create({ key: Buffer.from('rk/a'), startRevision: first });
        const responses = await stream.take(2);
        return { compacted: String(compacted), responses: responses.map(normaliseMessage) };
      }));
      expect(etcd.responses[1]).to.deep.include({ canceled: true, compactRevision: etcd.compacted });
    });
  });
});
