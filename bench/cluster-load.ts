// A load worker of the cluster benchmark: opens one gRPC channel per entry of
// `endpoints` (the leader's endpoint repeated, or the members' in turn) and
// runs `inFlightPerConnection` loops on each, every loop keeping exactly one
// put or single-key Range in flight on a key chosen at random in the key
// space. Before `ready` it can write its share of the key space once, so that
// every Range has a key to find (a linearizable one must find it). Forked by
// cluster-measure.ts; see ipc.ts for the message sequence.
//
// Not load.ts: that worker sends puts to one endpoint, each to a key never
// written before; this one also sends Ranges, to several members, over a
// fixed key space that the Ranges can rely on.
import { randomBytes } from 'node:crypto';
import { performance } from 'node:perf_hooks';
import { credentials, Metadata } from '@grpc/grpc-js';
import { KVClient, PutRequest, RangeRequest } from '../proto/gen/etcdserverpb/rpc.js';
import { parentGo, runWorker, sendToParent } from './child.js';
import { fillTimeoutMs, type ClusterLoadConfig, type ClusterLoadResult, type FillReport } from './cluster-protocol.js';
import { decodeArgument } from './ipc.js';
import { LatencyHistogram } from './stats.js';

const connectTimeoutMs = 10_000;
const fillInFlightPerConnection = 8;
/** A loop that fails this many times in a row stops: the server is gone or refusing. */
const consecutiveErrorsMax = 10;
const errorSamplesMax = 5;

interface Tally {
  readonly histogram: LatencyHistogram;
  operations: number;
  warmupOperations: number;
  errors: number;
  readonly errorsByEndpoint: Map<string, number>;
  /** The longest a failed request took to fail. */
  errorLatencyMsMax: number;
  readonly errorSamples: Set<string>;
  /** Measured Ranges that found no key. */
  emptyRanges: number;
  lastReplyAt: number;
  loopsGivenUp: number;
}

function keyOf(config: ClusterLoadConfig, index: number): Buffer {
  return Buffer.from(`${config.keyPrefix}${String(index).padStart(8, '0')}`);
}

/** One channel per connection: a local subchannel pool stops grpc-js from sharing one TCP connection per endpoint. */
function openClients(config: ClusterLoadConfig): KVClient[] {
  return config.endpoints.map((endpoint) => new KVClient(endpoint, credentials.createInsecure(), { 'grpc.use_local_subchannel_pool': 1 }));
}

async function waitConnected(clients: KVClient[]): Promise<void> {
  const deadline = Date.now() + connectTimeoutMs;
  await Promise.all(clients.map((client) => new Promise<void>((resolve, reject) => {
    client.waitForReady(deadline, (error) => (error ? reject(error) : resolve()));
  })));
}

function put(client: KVClient, key: Buffer, value: Buffer, timeoutMs: number): Promise<void> {
  const request = PutRequest.fromPartial({ key, value });
  return new Promise((resolve, reject) => {
    client.put(request, new Metadata(), { deadline: Date.now() + timeoutMs }, (error) => (error ? reject(error) : resolve()));
  });
}

/** Resolves with the number of keys found (0 or 1). */
function range(client: KVClient, key: Buffer, serializable: boolean, timeoutMs: number): Promise<number> {
  const request = RangeRequest.fromPartial({ key, serializable });
  return new Promise((resolve, reject) => {
    client.range(request, new Metadata(), { deadline: Date.now() + timeoutMs }, (error, response) => {
      if (error) reject(error);
      else resolve(response?.kvs.length ?? 0);
    });
  });
}

/** Writes keys [fillFrom, fillTo) once each; any failure fails the worker, since the Ranges rely on them. */
async function fill(clients: KVClient[], config: ClusterLoadConfig, value: Buffer): Promise<FillReport> {
  const startedAt = performance.now();
  let next = config.fillFrom;
  const loop = async (client: KVClient) => {
    while (next < config.fillTo) {
      const index = next;
      next += 1;
      await put(client, keyOf(config, index), value, config.requestTimeoutMs);
    }
  };
  const loops = clients.flatMap((client) => Array.from({ length: fillInFlightPerConnection }, () => loop(client)));
  await Promise.all(loops);
  return { filled: config.fillTo - config.fillFrom, fillMs: performance.now() - startedAt };
}

/** One request on a random key; resolves with the keys a Range found, 1 for a put. */
function operationOf(config: ClusterLoadConfig, client: KVClient, value: Buffer): () => Promise<number> {
  const timeoutMs = config.requestTimeoutMs;
  const randomKey = () => keyOf(config, Math.floor(Math.random() * config.keySpace));
  if (config.operation === 'put') return () => put(client, randomKey(), value, timeoutMs).then(() => 1);
  const serializable = config.operation === 'range-serializable';
  return () => range(client, randomKey(), serializable, timeoutMs);
}

async function requestLoop(send: () => Promise<number>, endpoint: string, tally: Tally, warmupEndAt: number, measureEndAt: number): Promise<void> {
  let consecutiveErrors = 0;
  for (;;) {
    const startedAt = performance.now();
    if (startedAt >= measureEndAt) return;
    try {
      const found = await send();
      const repliedAt = performance.now();
      consecutiveErrors = 0;
      if (startedAt < warmupEndAt) {
        tally.warmupOperations += 1;
        continue;
      }
      tally.operations += 1;
      if (found === 0) tally.emptyRanges += 1;
      tally.histogram.record((repliedAt - startedAt) * 1000);
      tally.lastReplyAt = Math.max(tally.lastReplyAt, repliedAt);
    } catch (error) {
      tally.errors += 1;
      tally.errorLatencyMsMax = Math.max(tally.errorLatencyMsMax, performance.now() - startedAt);
      tally.errorsByEndpoint.set(endpoint, (tally.errorsByEndpoint.get(endpoint) ?? 0) + 1);
      if (tally.errorSamples.size < errorSamplesMax) tally.errorSamples.add((error as Error).message);
      consecutiveErrors += 1;
      if (consecutiveErrors >= consecutiveErrorsMax) {
        tally.loopsGivenUp += 1;
        return;
      }
    }
  }
}

async function runLoad(config: ClusterLoadConfig, clients: KVClient[], value: Buffer): Promise<ClusterLoadResult> {
  const tally: Tally = {
    histogram: new LatencyHistogram(), operations: 0, warmupOperations: 0, errors: 0,
    errorsByEndpoint: new Map(), errorLatencyMsMax: 0, errorSamples: new Set(), emptyRanges: 0, lastReplyAt: 0, loopsGivenUp: 0,
  };
  const warmupEndAt = performance.now() + config.warmupMs;
  const measureEndAt = warmupEndAt + config.durationMs;
  const loops = clients.flatMap((client, connection) => {
    // openClients opened one client per endpoint, in order.
    const endpoint = config.endpoints[connection];
    if (endpoint === undefined) throw new Error(`cluster load: no endpoint for connection ${connection}`);
    return Array.from(
      { length: config.inFlightPerConnection },
      () => requestLoop(operationOf(config, client, value), endpoint, tally, warmupEndAt, measureEndAt),
    );
  });
  await Promise.all(loops);
  return {
    workerIndex: config.workerIndex,
    operations: tally.operations,
    warmupOperations: tally.warmupOperations,
    errors: tally.errors,
    errorsByEndpoint: Object.fromEntries(tally.errorsByEndpoint),
    errorLatencyMsMax: tally.errorLatencyMsMax,
    errorSamples: [...tally.errorSamples],
    emptyRanges: tally.emptyRanges,
    measuredMs: tally.operations === 0 ? 0 : tally.lastReplyAt - warmupEndAt,
    loopsGivenUp: tally.loopsGivenUp,
    histogram: tally.histogram.snapshot(),
  };
}

async function main(config: ClusterLoadConfig): Promise<void> {
  const clients = openClients(config);
  // Random, so that nothing on the way can compress it.
  const value = randomBytes(config.valueBytes);
  try {
    await waitConnected(clients);
    const go = parentGo();
    await sendToParent({ type: 'ready', ready: await fill(clients, config, value) });
    await go;
    await sendToParent({ type: 'result', result: await runLoad(config, clients, value) });
  } finally {
    for (const client of clients) client.close();
  }
}

const config = decodeArgument<ClusterLoadConfig>(process.argv[2], 'cluster load worker');
const plannedMs = connectTimeoutMs + fillTimeoutMs(config.fillTo - config.fillFrom) + config.warmupMs + config.durationMs + config.requestTimeoutMs;
runWorker(`cluster load worker ${config.workerIndex}`, plannedMs, () => main(config));
