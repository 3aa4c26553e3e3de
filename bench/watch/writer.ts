// The watch benchmark's writer process: puts under the watched prefix at a
// fixed rate (or as fast as its in-flight bound allows) for a fixed time,
// stamping each value with its sequence and send time (value.ts), and streams
// the ack time of every put to the parent, which relays it to the watcher
// processes. Forked by measure.ts; see ipc.ts for the message sequence.
import { randomBytes } from 'node:crypto';
import { credentials, Metadata } from '@grpc/grpc-js';
import { KVClient, PutRequest } from '../../proto/gen/etcdserverpb/rpc.js';
import { parentGo, runWorker, sendToParent } from '../child.js';
import { monotonicUs } from '../clock.js';
import { decodeArgument } from '../ipc.js';
import { LatencyHistogram } from '../stats.js';
import { putKey } from './keys.js';
import type { AckBatch, WriterConfig, WriterResult, WriterStopReason } from './protocol.js';
import { stampValue } from './value.js';

const connectTimeoutMs = 10_000;
/** A put loop that fails this many times in a row stops the writer: the server is gone or refusing. */
const consecutiveErrorsMax = 10;
const errorSamplesMax = 5;
/** A put sent this much after its scheduled time counts as late. */
const lateThresholdUs = 5_000;

type Up = AckBatch;

interface WriterState {
  nextSequence: number;
  acknowledged: number;
  measuredPuts: number;
  errors: number;
  readonly errorSamples: Set<string>;
  lateStarts: number;
  lastMeasuredAckUs: number;
  stoppedBy: WriterStopReason;
  readonly histogram: LatencyHistogram;
  /** Acks not yet sent to the parent. */
  batch: AckBatch;
}

interface Schedule {
  startUs: number;
  warmupEndUs: number;
  endUs: number;
}

function put(client: KVClient, request: PutRequest, timeoutMs: number): Promise<void> {
  return new Promise((resolve, reject) => {
    client.put(request, new Metadata(), { deadline: Date.now() + timeoutMs }, (error) => (error ? reject(error) : resolve()));
  });
}

function sleepUntil(timeUs: number): Promise<void> | undefined {
  const delayMs = (timeUs - monotonicUs()) / 1000;
  return delayMs > 0 ? new Promise((resolve) => setTimeout(resolve, delayMs)) : undefined;
}

/** The put's scheduled send time: spaced by the rate, or now when there is none. */
function scheduledUs(config: WriterConfig, schedule: Schedule, sequence: number): number {
  return config.putsPerSecond > 0 ? schedule.startUs + (sequence * 1e6) / config.putsPerSecond : monotonicUs();
}

async function putLoop(client: KVClient, config: WriterConfig, state: WriterState, schedule: Schedule, filler: Buffer): Promise<void> {
  let consecutiveErrors = 0;
  for (;;) {
    if (state.stoppedBy === 'errors') return;
    const sequence = state.nextSequence;
    if (sequence >= config.putsMax) {
      state.stoppedBy = 'count';
      return;
    }
    const dueUs = scheduledUs(config, schedule, sequence);
    if (dueUs >= schedule.endUs) return;
    state.nextSequence += 1;
    await sleepUntil(dueUs);
    const sendUs = monotonicUs();
    if (sendUs - dueUs > lateThresholdUs) state.lateStarts += 1;
    const measured = sendUs >= schedule.warmupEndUs;
    const value = stampValue(Buffer.from(filler), { sequence, measured, sendUs });
    const key = putKey(config.keyPrefix, sequence);
    try {
      await put(client, PutRequest.fromPartial({ key, value }), config.requestTimeoutMs);
      const ackUs = monotonicUs();
      consecutiveErrors = 0;
      state.acknowledged += 1;
      state.batch.sequences.push(sequence);
      state.batch.ackTimesUs.push(ackUs);
      if (!measured) continue;
      state.measuredPuts += 1;
      state.histogram.record(ackUs - sendUs);
      state.lastMeasuredAckUs = Math.max(state.lastMeasuredAckUs, ackUs);
    } catch (error) {
      state.errors += 1;
      if (state.errorSamples.size < errorSamplesMax) state.errorSamples.add((error as Error).message);
      consecutiveErrors += 1;
      if (consecutiveErrors >= consecutiveErrorsMax) state.stoppedBy = 'errors';
    }
  }
}

function emptyBatch(): AckBatch {
  return { kind: 'acks', sequences: [], ackTimesUs: [] };
}

async function flush(state: WriterState): Promise<void> {
  if (state.batch.sequences.length === 0) return;
  const batch = state.batch;
  state.batch = emptyBatch();
  await sendToParent<never, never, Up>({ type: 'data', data: batch });
}

async function runWriter(config: WriterConfig, client: KVClient): Promise<WriterResult> {
  const filler = randomBytes(config.valueBytes); // Random, so that nothing on the way can compress it.
  const state: WriterState = {
    nextSequence: 0, acknowledged: 0, measuredPuts: 0, errors: 0, errorSamples: new Set(), lateStarts: 0,
    lastMeasuredAckUs: 0, stoppedBy: 'duration', histogram: new LatencyHistogram(), batch: emptyBatch(),
  };
  const startUs = monotonicUs();
  const schedule: Schedule = { startUs, warmupEndUs: startUs + config.warmupMs * 1000, endUs: startUs + (config.warmupMs + config.durationMs) * 1000 };
  const flusher = setInterval(() => void flush(state), config.ackFlushIntervalMs);
  try {
    const loops: Array<Promise<void>> = [];
    for (let slot = 0; slot < config.inFlight; slot++) loops.push(putLoop(client, config, state, schedule, filler));
    await Promise.all(loops);
  } finally {
    clearInterval(flusher);
  }
  // The last acks go before the result, so the parent relays them before it says `writer-done`.
  await flush(state);
  return {
    acknowledged: state.acknowledged,
    measuredPuts: state.measuredPuts,
    errors: state.errors,
    errorSamples: [...state.errorSamples],
    measuredMs: state.measuredPuts === 0 ? 0 : (state.lastMeasuredAckUs - schedule.warmupEndUs) / 1000,
    lateStarts: state.lateStarts,
    stoppedBy: state.stoppedBy,
    histogram: state.histogram.snapshot(),
  };
}

async function main(config: WriterConfig): Promise<void> {
  // Its own connection: a local subchannel pool stops grpc-js from sharing one with another client.
  const client = new KVClient(config.endpoint, credentials.createInsecure(), { 'grpc.use_local_subchannel_pool': 1 });
  try {
    await new Promise<void>((resolve, reject) => {
      client.waitForReady(Date.now() + connectTimeoutMs, (error) => (error ? reject(error) : resolve()));
    });
    const go = parentGo();
    await sendToParent({ type: 'ready', ready: undefined });
    await go;
    await sendToParent({ type: 'result', result: await runWriter(config, client) });
  } finally {
    client.close();
  }
}

const config = decodeArgument<WriterConfig>(process.argv[2], 'watch writer');
// The parent forks the writer once the watchers exist, and says `go` as soon as it is connected.
const plannedMs = connectTimeoutMs + config.warmupMs + config.durationMs + config.requestTimeoutMs;
runWorker('watch writer', plannedMs, () => main(config));
