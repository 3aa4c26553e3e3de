// Client overhead of the SDK: ops/s of SDK gets and puts against the same
// operations through the bare generated gRPC stubs (the floor any client pays)
// and through the npm `etcd3` client, from one Node process, against cairn and
// against etcd.
//
//   npx tsc -p . && node dist/bench/sdk-overhead.js [--seconds 3] [--concurrency 16] [--target cairn|etcd]
import { credentials, Metadata } from '@grpc/grpc-js';
import { Etcd3 } from 'etcd3';
import { KVClient, PutRequest, RangeRequest } from '../proto/gen/etcdserverpb/rpc.js';
import { connect } from '../client/index.js';
import { etcdAvailable, startCairn, startEtcd, type ServerHandle } from '../test/harness/launcher.js';

interface Flags {
  seconds: number;
  concurrency: number;
  targets: Array<'cairn' | 'etcd'>;
}

function parseFlags(argv: string[]): Flags {
  const flags: Flags = { seconds: 3, concurrency: 16, targets: ['cairn', 'etcd'] };
  for (let index = 0; index < argv.length; index += 2) {
    const [name, value] = [argv[index], argv[index + 1]];
    if (name === '--seconds') flags.seconds = Number(value);
    else if (name === '--concurrency') flags.concurrency = Number(value);
    else if (name === '--target' && (value === 'cairn' || value === 'etcd')) flags.targets = [value];
    else throw new Error(`unknown flag ${name} (flags: --seconds N --concurrency N --target cairn|etcd)`);
  }
  if (!(flags.seconds > 0) || !(flags.concurrency >= 1)) throw new Error('--seconds and --concurrency must be positive');
  return flags;
}

/** Runs `operation` from `concurrency` loops for `seconds`; returns ops/s. */
async function measure(seconds: number, concurrency: number, operation: (sequence: number) => Promise<unknown>): Promise<number> {
  const deadline = Date.now() + seconds * 1000;
  let done = 0;
  const started = Date.now();
  await Promise.all(Array.from({ length: concurrency }, async (_, lane) => {
    for (let sequence = lane; Date.now() < deadline; sequence += concurrency) {
      await operation(sequence);
      done++;
    }
  }));
  return done / ((Date.now() - started) / 1000);
}

function rawCall<Req, Res>(call: (request: Req, metadata: Metadata, options: object, callback: (error: Error | null, response: Res) => void) => unknown, request: Req): Promise<Res> {
  return new Promise((resolve, reject) => {
    call(request, new Metadata(), {}, (error, response) => (error === null ? resolve(response) : reject(error)));
  });
}

async function runTarget(kind: 'cairn' | 'etcd', flags: Flags): Promise<string[]> {
  const server: ServerHandle = kind === 'cairn' ? await startCairn() : await startEtcd();
  const raw = new KVClient(server.endpoint, credentials.createInsecure());
  const client = await connect({ endpoints: [server.endpoint] });
  const etcd3 = new Etcd3({ hosts: `http://${server.endpoint}` });
  const value = Buffer.alloc(256, 120);
  try {
    for (let index = 0; index < 100; index++) await client.put(`bench/${index}`, value);
    const rawRange = raw.range.bind(raw) as never;
    const rawPut = raw.put.bind(raw) as never;
    // Unmeasured warm-up of both paths (JIT, server caches, connections).
    await measure(1, flags.concurrency, (sequence) => rawCall(rawRange, RangeRequest.fromPartial({ key: Buffer.from(`bench/${sequence % 100}`) })));
    await measure(1, flags.concurrency, (sequence) => client.get(`bench/${sequence % 100}`));
    await measure(1, flags.concurrency, (sequence) => etcd3.get(`bench/${sequence % 100}`).buffer());
    const rawGet = await measure(flags.seconds, flags.concurrency, (sequence) =>
      rawCall(rawRange, RangeRequest.fromPartial({ key: Buffer.from(`bench/${sequence % 100}`) })));
    const sdkGet = await measure(flags.seconds, flags.concurrency, (sequence) => client.get(`bench/${sequence % 100}`));
    const rawPutRate = await measure(flags.seconds, flags.concurrency, (sequence) =>
      rawCall(rawPut, PutRequest.fromPartial({ key: Buffer.from(`bench/${sequence % 100}`), value })));
    const sdkPut = await measure(flags.seconds, flags.concurrency, (sequence) => client.put(`bench/${sequence % 100}`, value));
    const etcd3Get = await measure(flags.seconds, flags.concurrency, (sequence) => etcd3.get(`bench/${sequence % 100}`).buffer());
    const etcd3Put = await measure(flags.seconds, flags.concurrency, (sequence) => etcd3.put(`bench/${sequence % 100}`).value(value).exec());
    const rate = (n: number): string => n.toFixed(0).padStart(9);
    const row = (name: string, rawRate: number, sdkRate: number, etcd3Rate: number) =>
      `${kind.padEnd(6)} ${name.padEnd(4)} ${rate(rawRate)} ${rate(sdkRate)} ${rate(etcd3Rate)} ${(sdkRate / rawRate).toFixed(2).padStart(9)} ${(sdkRate / etcd3Rate).toFixed(2).padStart(9)}`;
    return [row('get', rawGet, sdkGet, etcd3Get), row('put', rawPutRate, sdkPut, etcd3Put)];
  } finally {
    etcd3.close();
    client.close();
    raw.close();
    await server.destroy();
  }
}

async function main(): Promise<void> {
  const flags = parseFlags(process.argv.slice(2));
  const lines = [`target op    stubs/s     sdk/s   etcd3/s sdk/stubs sdk/etcd3   (${flags.concurrency} in flight, ${flags.seconds} s each)`];
  for (const kind of flags.targets) {
    if (kind === 'etcd' && !etcdAvailable()) continue;
    lines.push(...await runTarget(kind, flags));
  }
  console.log(lines.join('\n'));
}

main().catch((error: unknown) => {
  console.error(error);
  process.exitCode = 1;
});
