// A keep-alive process of the lease benchmark: opens `connections` gRPC
// channels, grants its share of the leases over them, then runs
// `streamsPerConnection` keep-alive streams on each. Every stream renews its
// own slice of the leases round-robin with at most `inFlightPerStream`
// keep-alives outstanding and never one lease twice at once, so each answer is
// matched to its request by lease ID. Forked by measure.ts; see ipc.ts for the
// message sequence.
import { performance } from 'node:perf_hooks';
import { credentials, Metadata } from '@grpc/grpc-js';
import { LeaseClient, LeaseGrantRequest, LeaseKeepAliveRequest, type LeaseGrantResponse, type LeaseKeepAliveResponse } from '../../proto/gen/etcdserverpb/rpc.js';
import { parentGo, runWorker, sendToParent } from '../child.js';
import { decodeArgument } from '../ipc.js';
import { LatencyHistogram } from '../stats.js';
import type { GrantReport, KeepAliveResult, KeepAliveWorkerConfig } from './protocol.js';

const connectTimeoutMs = 10_000;
const errorSamplesMax = 5;

interface Tally {
  keepAlives: number;
  warmupKeepAlives: number;
  expired: number;
  unexpected: number;
  unanswered: number;
  streamErrors: number;
  readonly errorSamples: Set<string>;
  lastMeasuredReplyAt: number;
  readonly histogram: LatencyHistogram;
}

interface Phases {
  warmupEndAt: number;
  measureEndAt: number;
}

function openClients(config: KeepAliveWorkerConfig): LeaseClient[] {
  const clients: LeaseClient[] = [];
  for (let index = 0; index < config.connections; index++) {
    // One channel per connection: a local subchannel pool stops grpc-js from sharing one TCP connection.
    clients.push(new LeaseClient(config.endpoint, credentials.createInsecure(), { 'grpc.use_local_subchannel_pool': 1 }));
  }
  return clients;
}

async function waitConnected(clients: LeaseClient[]): Promise<void> {
  const deadline = Date.now() + connectTimeoutMs;
  await Promise.all(clients.map((client) => new Promise<void>((resolve, reject) => {
    client.waitForReady(deadline, (error) => (error ? reject(error) : resolve()));
  })));
}

function grant(client: LeaseClient, ttlSeconds: number, timeoutMs: number): Promise<LeaseGrantResponse> {
  const request = LeaseGrantRequest.fromPartial({ TTL: BigInt(ttlSeconds) });
  return new Promise((resolve, reject) => {
    client.leaseGrant(request, new Metadata(), { deadline: Date.now() + timeoutMs }, (error, response) => {
      if (error) reject(error);
      else if (response === undefined) reject(new Error('lease grant: empty response'));
      else if (response.error !== '') reject(new Error(`lease grant: ${response.error}`));
      else resolve(response);
    });
  });
}

/** Grants this process's leases with `grantInFlight` grants outstanding; any failed grant fails the run. */
async function grantAll(clients: LeaseClient[], config: KeepAliveWorkerConfig): Promise<{ ids: bigint[]; report: GrantReport }> {
  const ids: bigint[] = [];
  const histogram = new LatencyHistogram();
  const startedAt = performance.now();
  const cpuBefore = process.cpuUsage();
  let started = 0;
  const loop = async (slot: number) => {
    const client = clients[slot % clients.length];
    if (client === undefined) throw new Error(`keep-alive worker: no connection for grant slot ${slot} (${clients.length} connections)`);
    while (started < config.leases) {
      started += 1;
      const sentAt = performance.now();
      const response = await grant(client, config.leaseTtlSeconds, config.requestTimeoutMs);
      histogram.record((performance.now() - sentAt) * 1000);
      ids.push(response.ID);
    }
  };
  await Promise.all(Array.from({ length: Math.min(config.grantInFlight, config.leases) }, (_, slot) => loop(slot)));
  if (new Set(ids.map(String)).size !== ids.length) throw new Error('the server granted the same lease ID twice');
  const cpu = process.cpuUsage(cpuBefore);
  return {
    ids,
    report: { granted: ids.length, grantMs: performance.now() - startedAt, cpuMicroseconds: cpu.user + cpu.system, histogram: histogram.snapshot() },
  };
}

function sample(tally: Tally, message: string): void {
  if (tally.errorSamples.size < errorSamplesMax) tally.errorSamples.add(message);
}

/**
 * Renews `ids` round-robin on one stream until the measured phase ends, then
 * waits up to `requestTimeoutMs` for the answers still outstanding.
 */
function keepAliveStream(client: LeaseClient, ids: bigint[], config: KeepAliveWorkerConfig, phases: Phases, tally: Tally): Promise<void> {
  return new Promise((resolve) => {
    const call = client.leaseKeepAlive();
    /** Lease → when its keep-alive was sent. Invariant: size <= inFlightPerStream <= ids.length. */
    const inFlight = new Map<bigint, number>();
    let cursor = 0;
    let finished = false;
    let deadline: NodeJS.Timeout | undefined;
    const finish = () => {
      if (finished) return;
      finished = true;
      clearTimeout(deadline);
      tally.unanswered += inFlight.size;
      call.cancel();
      resolve();
    };
    deadline = setTimeout(finish, phases.measureEndAt - performance.now() + config.requestTimeoutMs);
    const sendNext = () => {
      // Skips leases still in flight (answers may come out of order); bounded by one pass over the slice.
      for (let tried = 0; tried < ids.length; tried++) {
        const id = ids[cursor];
        if (id === undefined) throw new Error(`keep-alive stream: cursor ${cursor} is outside its ${ids.length} leases`);
        cursor = (cursor + 1) % ids.length;
        if (inFlight.has(id)) continue;
        inFlight.set(id, performance.now());
        call.write(LeaseKeepAliveRequest.fromPartial({ ID: id }));
        return;
      }
    };
    call.on('data', (response: LeaseKeepAliveResponse) => {
      const repliedAt = performance.now();
      const sentAt = inFlight.get(response.ID);
      if (sentAt === undefined) {
        tally.unexpected += 1;
        return;
      }
      inFlight.delete(response.ID);
      if (response.TTL <= 0n) {
        tally.expired += 1;
        sample(tally, `lease ${response.ID.toString(16)} answered with TTL ${response.TTL}`);
      }
      if (sentAt >= phases.warmupEndAt) {
        tally.keepAlives += 1;
        tally.histogram.record((repliedAt - sentAt) * 1000);
        tally.lastMeasuredReplyAt = Math.max(tally.lastMeasuredReplyAt, repliedAt);
      } else {
        tally.warmupKeepAlives += 1;
      }
      if (repliedAt < phases.measureEndAt) sendNext();
      else if (inFlight.size === 0) finish();
    });
    call.on('error', (error: Error) => {
      if (finished) return; // our own cancel
      tally.streamErrors += 1;
      sample(tally, error.message);
      finish();
    });
    call.on('end', () => {
      if (finished) return;
      tally.streamErrors += 1;
      sample(tally, 'the server ended a keep-alive stream');
      finish();
    });
    for (let slot = 0; slot < config.inFlightPerStream; slot++) sendNext();
  });
}

async function keepAliveAll(clients: LeaseClient[], ids: bigint[], config: KeepAliveWorkerConfig): Promise<KeepAliveResult> {
  const tally: Tally = {
    keepAlives: 0, warmupKeepAlives: 0, expired: 0, unexpected: 0, unanswered: 0, streamErrors: 0,
    errorSamples: new Set(), lastMeasuredReplyAt: 0, histogram: new LatencyHistogram(),
  };
  const startedAt = performance.now();
  const phases: Phases = { warmupEndAt: startedAt + config.warmupMs, measureEndAt: startedAt + config.warmupMs + config.durationMs };
  const streams = config.connections * config.streamsPerConnection;
  const streamsDone: Array<Promise<void>> = [];
  for (let stream = 0; stream < streams; stream++) {
    const slice = ids.filter((_, index) => index % streams === stream);
    const client = clients[Math.floor(stream / config.streamsPerConnection)];
    if (client === undefined) throw new Error(`keep-alive worker: no connection for stream ${stream} (${clients.length} connections)`);
    streamsDone.push(keepAliveStream(client, slice, config, phases, tally));
  }
  await Promise.all(streamsDone);
  return {
    workerIndex: config.workerIndex,
    keepAlives: tally.keepAlives,
    warmupKeepAlives: tally.warmupKeepAlives,
    expired: tally.expired,
    unexpected: tally.unexpected,
    unanswered: tally.unanswered,
    streamErrors: tally.streamErrors,
    errorSamples: [...tally.errorSamples],
    measuredMs: tally.keepAlives === 0 ? 0 : tally.lastMeasuredReplyAt - phases.warmupEndAt,
    histogram: tally.histogram.snapshot(),
  };
}

async function main(config: KeepAliveWorkerConfig): Promise<void> {
  const clients = openClients(config);
  try {
    await waitConnected(clients);
    const { ids, report } = await grantAll(clients, config);
    const go = parentGo();
    await sendToParent({ type: 'ready', ready: report });
    await go;
    await sendToParent({ type: 'result', result: await keepAliveAll(clients, ids, config) });
  } finally {
    for (const client of clients) client.close();
  }
}

const config = decodeArgument<KeepAliveWorkerConfig>(process.argv[2], 'keep-alive process');
const plannedMs = connectTimeoutMs + config.grantTimeoutMs + config.warmupMs + config.durationMs + config.requestTimeoutMs;
runWorker(`keep-alive process ${config.workerIndex}`, plannedMs, () => main(config));
