// A watcher process of the watch benchmark: opens `connections` gRPC channels,
// `streamsPerConnection` watch streams on each, and spreads its watchers over
// them, all on the same prefix. It records every event in a delivery ledger
// (ledger.ts), learns each put's ack time from the writer through the parent,
// and once the writer is done waits until every acknowledged put reached every
// watcher (or the drain timeout), then reports. Forked by measure.ts.
import { credentials, type ClientDuplexStream } from '@grpc/grpc-js';
import { WatchClient, WatchRequest, type WatchResponse } from '../../proto/gen/etcdserverpb/rpc.js';
import { onParentData, runWorker, sendToParent } from '../child.js';
import { monotonicUs } from '../clock.js';
import { decodeArgument } from '../ipc.js';
import { evenShares } from '../shares.js';
import { prefixEnd } from '../../client/keys.js';
import { DeliveryLedger } from './ledger.js';
import type { ToWatchers, WatcherReady, WatcherResult, WatcherWorkerConfig } from './protocol.js';
import { readStamp } from './value.js';

const connectTimeoutMs = 10_000;
const errorSamplesMax = 5;
/** Receipts waiting for their put's ack time: acks come every few ms, so this is far beyond normal. */
const pendingReceiptsMax = 5_000_000;

interface WatcherState {
  /** Revision of the last event received; revisions must strictly increase. */
  lastRevision: number;
  received: number;
}

interface Tally {
  responses: number;
  outOfOrder: number;
  canceled: number;
  unknownWatcherEvents: number;
  streamErrors: number;
  readonly errorSamples: Set<string>;
  /** Receipt time of the last event, on clock.ts's clock. */
  lastEventUs: number;
}

type Call = ClientDuplexStream<WatchRequest, WatchResponse>;

/** One watch stream and its watchers, by the watch ID the server gave each. */
class WatchStream {
  readonly watchers = new Map<bigint, WatcherState>();
  private closing = false;
  private readonly created: Promise<void>;
  private settleCreated: (error?: Error) => void = () => undefined;

  constructor(
    private readonly call: Call,
    private readonly watcherCount: number,
    private readonly ledger: DeliveryLedger,
    private readonly tally: Tally,
    private readonly onProgress: () => void,
  ) {
    this.created = new Promise<void>((resolve, reject) => {
      this.settleCreated = (error) => (error === undefined ? resolve() : reject(error));
    });
    this.created.catch(() => undefined);
    call.on('data', (response: WatchResponse) => this.receive(response));
    call.on('error', (error: Error) => {
      if (this.closing) return; // our own cancel at the end
      this.fail(error.message);
      this.settleCreated(error);
    });
  }

  /** Sends every create request at once; resolves when the server acknowledged them all. */
  create(key: Buffer, rangeEnd: Buffer): Promise<void> {
    const request = WatchRequest.fromPartial({ createRequest: { key, rangeEnd } });
    for (let index = 0; index < this.watcherCount; index++) this.call.write(request);
    return this.created;
  }

  close(): void {
    this.closing = true;
    this.call.cancel();
  }

  private receive(response: WatchResponse): void {
    const receiptUs = monotonicUs();
    this.tally.responses += 1;
    if (response.created) {
      if (response.canceled) {
        this.settleCreated(new Error(`the server refused a watcher: ${response.cancelReason}`));
        return;
      }
      this.watchers.set(response.watchId, { lastRevision: 0, received: 0 });
      if (this.watchers.size === this.watcherCount) this.settleCreated();
      return;
    }
    if (response.canceled) {
      this.tally.canceled += 1;
      this.sample(`watcher ${response.watchId} cancelled: ${response.cancelReason || `compacted at ${response.compactRevision}`}`);
    }
    if (response.events.length === 0) return;
    const watcher = this.watchers.get(response.watchId);
    if (watcher === undefined) {
      this.tally.unknownWatcherEvents += response.events.length;
      return;
    }
    this.tally.lastEventUs = receiptUs;
    for (const event of response.events) {
      const revision = Number(event.kv?.modRevision ?? 0n);
      if (revision <= watcher.lastRevision) {
        this.tally.outOfOrder += 1;
        continue; // counted once only, so a duplicate cannot hide a miss
      }
      watcher.lastRevision = revision;
      watcher.received += 1;
      this.ledger.received(event.kv === undefined ? undefined : readStamp(event.kv.value), receiptUs);
    }
    this.onProgress();
  }

  private fail(message: string): void {
    this.tally.streamErrors += 1;
    this.sample(message);
  }

  private sample(message: string): void {
    if (this.tally.errorSamples.size < errorSamplesMax) this.tally.errorSamples.add(message);
  }
}

function openClients(config: WatcherWorkerConfig): WatchClient[] {
  const clients: WatchClient[] = [];
  for (let index = 0; index < config.connections; index++) {
    // One channel per connection: a local subchannel pool stops grpc-js from sharing one TCP connection.
    clients.push(new WatchClient(config.endpoint, credentials.createInsecure(), { 'grpc.use_local_subchannel_pool': 1 }));
  }
  return clients;
}

async function waitConnected(clients: WatchClient[]): Promise<void> {
  const deadline = Date.now() + connectTimeoutMs;
  await Promise.all(clients.map((client) => new Promise<void>((resolve, reject) => {
    client.waitForReady(deadline, (error) => (error ? reject(error) : resolve()));
  })));
}

function timeout(timeoutMs: number, what: string): { promise: Promise<never>; cancel(): void } {
  let timer: NodeJS.Timeout | undefined;
  const promise = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what} took more than ${timeoutMs} ms`)), timeoutMs);
  });
  promise.catch(() => undefined);
  return { promise, cancel: () => clearTimeout(timer) };
}

interface Drain {
  /** Resolves with whether every acknowledged put reached every watcher before the timeout. */
  finished: Promise<boolean>;
  check(): void;
}

/** Waits, after `writer-done`, until the ledger is complete or `drainMs` passed. */
function drainer(ledger: DeliveryLedger, drainMs: number): { drain: Drain; writerDone(acknowledged: number): void } {
  let expected: number | undefined;
  let finish: (drained: boolean) => void = () => undefined;
  let timer: NodeJS.Timeout | undefined;
  const finished = new Promise<boolean>((resolve) => {
    finish = (drained) => {
      clearTimeout(timer);
      resolve(drained);
    };
  });
  const check = () => {
    if (expected !== undefined && ledger.acknowledgedPuts === expected && ledger.complete) finish(true);
  };
  return {
    drain: { finished, check },
    writerDone: (acknowledged) => {
      expected = acknowledged;
      timer = setTimeout(() => finish(false), drainMs);
      check();
    },
  };
}

async function main(config: WatcherWorkerConfig): Promise<void> {
  const ledger = new DeliveryLedger(config.watchers, config.putsMax, pendingReceiptsMax);
  const tally: Tally = {
    responses: 0, outOfOrder: 0, canceled: 0, unknownWatcherEvents: 0, streamErrors: 0, errorSamples: new Set(), lastEventUs: Number.NaN,
  };
  const { drain, writerDone } = drainer(ledger, config.drainMs);
  let writerDoneAtUs = Number.NaN;
  onParentData<ToWatchers>((data) => {
    if (data.kind === 'acks') {
      data.sequences.forEach((sequence, index) => {
        const ackUs = data.ackTimesUs[index];
        if (ackUs === undefined) throw new Error(`watchers: acks message has ${data.sequences.length} sequences but ${data.ackTimesUs.length} ack times`);
        ledger.acknowledged(sequence, ackUs);
      });
      drain.check();
    } else {
      writerDoneAtUs = monotonicUs();
      writerDone(data.acknowledged);
    }
  });

  const clients = openClients(config);
  const streams: WatchStream[] = [];
  try {
    await waitConnected(clients);
    const createStartUs = monotonicUs();
    const counts = evenShares(config.watchers, config.connections * config.streamsPerConnection);
    counts.forEach((count, index) => {
      const client = clients[Math.floor(index / config.streamsPerConnection)];
      if (client === undefined) throw new Error(`watchers: no connection for stream ${index} (${clients.length} connections)`);
      streams.push(new WatchStream(client.watch(), count, ledger, tally, () => drain.check()));
    });
    const key = Buffer.from(config.keyPrefix);
    const rangeEnd = prefixEnd(key);
    const createTimeout = timeout(config.createTimeoutMs, `creating ${config.watchers} watchers`);
    try {
      await Promise.race([Promise.all(streams.map((stream) => stream.create(key, rangeEnd))), createTimeout.promise]);
    } finally {
      createTimeout.cancel();
    }
    const ready: WatcherReady = { watchers: config.watchers, streams: streams.length, createMs: (monotonicUs() - createStartUs) / 1000 };
    await sendToParent({ type: 'ready', ready });
    const drained = await drain.finished;
    const drainEndUs = monotonicUs();
    const drainMs = (drainEndUs - writerDoneAtUs) / 1000;
    let watchersShort = 0;
    for (const stream of streams) {
      for (const watcher of stream.watchers.values()) if (watcher.received < ledger.acknowledgedPuts) watchersShort += 1;
    }
    const result: WatcherResult = {
      workerIndex: config.workerIndex,
      ledger: ledger.summary(),
      responses: tally.responses,
      outOfOrder: tally.outOfOrder,
      canceled: tally.canceled,
      unknownWatcherEvents: tally.unknownWatcherEvents,
      watchersShort,
      errorSamples: [...tally.errorSamples],
      streamErrors: tally.streamErrors,
      drainMs,
      drained,
      quietMsAtEnd: (drainEndUs - tally.lastEventUs) / 1000,
    };
    await sendToParent({ type: 'result', result });
  } finally {
    for (const stream of streams) stream.close();
    for (const client of clients) client.close();
  }
}

const config = decodeArgument<WatcherWorkerConfig>(process.argv[2], 'watcher process');
runWorker(`watcher process ${config.workerIndex}`, connectTimeoutMs + config.createTimeoutMs + config.runMs + config.drainMs, () => main(config));
