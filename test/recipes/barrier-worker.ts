// A separate process at a double barrier (spawned by barrier-processes.test.ts):
//   node barrier-worker.js <endpoint> <barrier name> <participants> <log file> <work ms>
// Appends "arrive", "entered", "leaving" and "left" lines with its pid and a timestamp.
import { appendFileSync } from 'node:fs';
import { connect } from '../../client/index.js';
import { DoubleBarrier, Session } from '../../recipes/index.js';
import { workerArg } from '../harness/worker-args.js';

const endpoint = workerArg(0, 'endpoint');
const name = workerArg(1, 'barrier name');
const participants = workerArg(2, 'participants');
const log = workerArg(3, 'log file');
const workMs = workerArg(4, 'work ms');
const client = await connect({ endpoints: [endpoint] });
const session = await Session.create(client, { ttlSeconds: 10 });
const barrier = new DoubleBarrier(session, name, Number(participants));
const note = (what: string): void => appendFileSync(log, `${what} ${process.pid} ${Date.now()}\n`);
note('arrive');
await barrier.enter({ timeoutMs: 30_000 });
note('entered');
await new Promise((resolve) => setTimeout(resolve, Number(workMs)));
note('leaving');
await barrier.leave({ timeoutMs: 30_000 });
note('left');
await session.close();
client.close();
