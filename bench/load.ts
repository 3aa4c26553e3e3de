// A load worker process: opens `connections` gRPC channels to one server and
// runs `clientsPerConnection` put loops on each, every loop keeping exactly one
// put in flight. Forked by measure.ts; see ipc.ts for the message sequence.
import { randomBytes } from 'node:crypto';
import { performance } from 'node:perf_hooks';
import { credentials, Metadata } from '@grpc/grpc-js';
import { KVClient, PutRequest } from '../proto/gen/etcdserverpb/rpc.js';
import { LatencyHistogram } from './stats.js';
import { parentGo, runWorker, sendToParent } from './child.js';
import { decodeArgument } from './ipc.js';
import type { LoadConfig, LoadResult, StopReason } from './protocol.js';

const connectTimeoutMs = 10_000;
/** A loop that fails this many times in a row stops: the server is gone or refusing. */
const consecutiveErrorsMax = 10;
const errorSamplesMax = 5;

interface LoadState {
  readonly histogram: LatencyHistogram;
  puts: number;
  warmupPuts: number;
  /** Measured puts started (successful or not); bounded by putsMax. */
  started: number;
  errors: number;
  readonly errorSamples: Set<string>;
  lastReplyAt: number;
  stoppedBy: StopReason;
}

/** One channel per connection: a local subchannel pool stops grpc-js from sharing one TCP connection. */
function openClients(config: LoadConfig): KVClient[] {
  const clients: KVClient[] = [];
  for (let index = 0; index < config.connections; index++) {
    clients.push(new KVClient(config.endpoint, credentials.createInsecure(), {
      'grpc.use_local_subchannel_pool': 1,
    }));
  }
  return clients;
}

async function waitConnected(clients: KVClient[]): Promise<void> {
  const deadline = Date.now() + connectTimeoutMs;
  await Promise.all(clients.map((client) => new Promise<void>((resolve, reject) => {
    client.waitForReady(deadline, (error) => (error ? reject(error) : resolve()));
  })));
}

function put(client: KVClient, request: PutRequest, timeoutMs: number): Promise<void> {
  return new Promise((resolve, reject) => {
    client.put(request, new Metadata(), { deadline: Date.now() + timeoutMs }, (error) => (error ? reject(error) : resolve()));
  });
}

async function putLoop(client: KVClient, keyBase: string, value: Buffer, config: LoadConfig, state: LoadState, warmupEndAt: number): Promise<void> {
  const measureEndAt = warmupEndAt + config.durationMs;
  let consecutiveErrors = 0;
  for (let sequence = 0; ; sequence++) {
    const startedAt = performance.now();
    if (startedAt >= measureEndAt) return;
    const measured = startedAt >= warmupEndAt;
    if (measured) {
      if (state.started >= config.putsMax) {
        state.stoppedBy = 'count';
        return;
      }
      state.started += 1;
    }
    const request = PutRequest.fromPartial({ key: Buffer.from(`${keyBase}/${sequence}`), value });
    try {
      await put(client, request, config.requestTimeoutMs);
      const repliedAt = performance.now();
      consecutiveErrors = 0;
      if (!measured) {
        state.warmupPuts += 1;
        continue;
      }
      state.puts += 1;
      state.histogram.record((repliedAt - startedAt) * 1000);
      state.lastReplyAt = Math.max(state.lastReplyAt, repliedAt);
    } catch (error) {
      state.errors += 1;
      if (state.errorSamples.size < errorSamplesMax) state.errorSamples.add((error as Error).message);
      consecutiveErrors += 1;
      if (consecutiveErrors >= consecutiveErrorsMax) {
        state.stoppedBy = 'errors';
        return;
      }
    }
  }
}

async function runLoad(config: LoadConfig, clients: KVClient[]): Promise<LoadResult> {
  const value = randomBytes(config.valueBytes); // Random, so that nothing on the way can compress it.
  const state: LoadState = {
    histogram: new LatencyHistogram(), puts: 0, warmupPuts: 0, started: 0, errors: 0,
    errorSamples: new Set(), lastReplyAt: 0, stoppedBy: 'duration',
  };
  const warmupEndAt = performance.now() + config.warmupMs;
  const loops: Array<Promise<void>> = [];
  clients.forEach((client, connection) => {
    for (let slot = 0; slot < config.clientsPerConnection; slot++) {
      const keyBase = `${config.keyPrefix}/w${config.workerIndex}/c${connection}/s${slot}`;
      loops.push(putLoop(client, keyBase, value, config, state, warmupEndAt));
    }
  });
  await Promise.all(loops);
  return {
    workerIndex: config.workerIndex,
    puts: state.puts,
    warmupPuts: state.warmupPuts,
    errors: state.errors,
    errorSamples: [...state.errorSamples],
    measuredMs: state.puts === 0 ? 0 : state.lastReplyAt - warmupEndAt,
    stoppedBy: state.stoppedBy,
    histogram: state.histogram.snapshot(),
  };
}

async function main(config: LoadConfig): Promise<void> {
  const clients = openClients(config);
  try {
    await waitConnected(clients);
    const go = parentGo();
    await sendToParent({ type: 'ready', ready: undefined });
    await go;
    await sendToParent({ type: 'result', result: await runLoad(config, clients) });
  } finally {
    for (const client of clients) client.close();
  }
}

const config = decodeArgument<LoadConfig>(process.argv[2], 'load worker');
const plannedMs = connectTimeoutMs + config.warmupMs + config.durationMs + config.requestTimeoutMs;
runWorker(`load worker ${config.workerIndex}`, plannedMs, () => main(config));
