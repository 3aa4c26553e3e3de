// A writer process of the crash test: puts distinct keys as fast as it can over
// several connections and records every acknowledged put with its revision.
// Forked by crash.test.ts: config as one JSON argument, then `ready` → `go` →
// (the server is killed) → `stop` → `report`, then it exits.
//
// A put loop ends at its first error: once the server is gone every later put
// fails too, and an ambiguous put (sent, no answer) is simply not acknowledged.
import { credentials, Metadata, type ServiceError } from '@grpc/grpc-js';
import { KVClient, PutRequest, type PutResponse } from '../../proto/gen/etcdserverpb/rpc.js';
import { valueFor, type Ack, type FromWriter, type ToWriter, type WriterConfig, type WriterReport } from './crash-protocol.js';

const connectTimeoutMs = 10_000;
const errorKindsMax = 10;
/** However the test goes, this process ends by itself after this long. */
const lifetimeMsMax = 60_000;

interface WriterState {
  stopping: boolean;
  attempted: number;
  readonly acks: Ack[];
  readonly errors: Set<string>;
}

function send(message: FromWriter): Promise<void> {
  return new Promise((resolve) => {
    if (process.send === undefined) throw new Error('crash writer must be forked with an IPC channel');
    process.send(message, undefined, {}, () => resolve());
  });
}

function put(client: KVClient, key: string, timeoutMs: number): Promise<PutResponse> {
  const request = PutRequest.fromPartial({ key: Buffer.from(key), value: valueFor(key) });
  return new Promise((resolve, reject) => {
    client.put(request, new Metadata(), { deadline: Date.now() + timeoutMs }, (error, response) => (error ? reject(error) : resolve(response)));
  });
}

async function putLoop(client: KVClient, keyBase: string, config: WriterConfig, state: WriterState): Promise<void> {
  for (let sequence = 0; !state.stopping && state.attempted < config.putsMax; sequence++) {
    state.attempted += 1;
    // Zero-padded so that keys sort in the order they were written.
    const key = `${keyBase}/${String(sequence).padStart(7, '0')}`;
    try {
      const response = await put(client, key, config.requestTimeoutMs);
      if (response.header === undefined) throw new Error(`put ${key}: response has no header`);
      state.acks.push([key, response.header.revision]);
    } catch (error) {
      const { code, details, message } = error as ServiceError;
      if (state.errors.size < errorKindsMax) state.errors.add(code === undefined ? message : `${code}: ${details}`);
      return;
    }
  }
}

async function waitConnected(clients: KVClient[]): Promise<void> {
  const deadline = Date.now() + connectTimeoutMs;
  await Promise.all(clients.map((client) => new Promise<void>((resolve, reject) => {
    client.waitForReady(deadline, (error) => (error ? reject(error) : resolve()));
  })));
}

async function main(): Promise<void> {
  const config = JSON.parse(process.argv[2] ?? '{}') as WriterConfig;
  setTimeout(() => process.exit(3), lifetimeMsMax).unref();
  process.on('disconnect', () => process.exit(1)); // The test is gone: nobody reads the report.

  const state: WriterState = { stopping: false, attempted: 0, acks: [], errors: new Set() };
  let resolveGo!: () => void;
  const go = new Promise<void>((resolve) => (resolveGo = resolve));
  process.on('message', (message: ToWriter) => {
    if (message.type === 'go') resolveGo();
    if (message.type === 'stop') state.stopping = true;
  });

  // One channel each: a local subchannel pool stops grpc-js from sharing one TCP connection.
  const clients = Array.from({ length: config.connections }, () =>
    new KVClient(config.endpoint, credentials.createInsecure(), { 'grpc.use_local_subchannel_pool': 1 }));
  try {
    await waitConnected(clients);
    await send({ type: 'ready' });
    await go;
    const loops = clients.flatMap((client, connection) => Array.from({ length: config.clientsPerConnection },
      (_, slot) => putLoop(client, `${config.keyPrefix}/n${connection}/s${slot}`, config, state)));
    await Promise.all(loops);
    const report: WriterReport = { acks: state.acks, attempted: state.attempted, errors: [...state.errors] };
    await send({ type: 'report', report });
  } finally {
    for (const client of clients) client.close();
  }
}

// Exit explicitly: the IPC channel would otherwise keep the process alive.
main().then(
  () => process.exit(0),
  async (error: unknown) => {
    await send({ type: 'failed', message: (error as Error).stack ?? String(error) });
    process.exit(1);
  },
);
