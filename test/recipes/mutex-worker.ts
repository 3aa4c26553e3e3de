// A separate process contending for a Mutex (spawned by mutex-processes.test.ts):
//   node mutex-worker.js <endpoint> <lock name> <log file> <rounds> <hold ms> [hold-forever]
// Each round: lock, append "enter <pid> <token>", hold, append "exit <pid> <token>", unlock.
// With "hold-forever" it locks once, prints "held <token>" and waits to be killed.
import { appendFileSync } from 'node:fs';
import { connect } from '../../client/index.js';
import { Mutex, Session } from '../../recipes/index.js';
import { workerArg } from '../harness/worker-args.js';

const endpoint = workerArg(0, 'endpoint');
const name = workerArg(1, 'lock name');
const log = workerArg(2, 'log file');
const roundsText = workerArg(3, 'rounds');
const holdMsText = workerArg(4, 'hold ms');
const mode = process.argv[7]; // optional: hold-forever
const client = await connect({ endpoints: [endpoint] });
const session = await Session.create(client, { ttlSeconds: 2 });
const mutex = new Mutex(session, name);
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
if (mode === 'hold-forever') {
  const held = await mutex.lock();
  process.stdout.write(`held ${held.fencingToken}\n`);
  await new Promise(() => undefined);
}
process.stdout.write('ready\n');
for (let round = 0; round < Number(roundsText); round++) {
  const held = await mutex.lock({ timeoutMs: 30_000 });
  appendFileSync(log, `enter ${process.pid} ${held.fencingToken} ${Date.now()}\n`);
  await sleep(Number(holdMsText));
  appendFileSync(log, `exit ${process.pid} ${held.fencingToken} ${Date.now()}\n`);
  await held.unlock();
}
await session.close();
client.close();
