// A separate process at a double barrier (spawned by barrier-processes.test.ts):
//   node barrier-worker.js <endpoint> <barrier name> <participants> <log file> <work ms>
// Appends "arrive", "entered", "leaving" and "left" lines with its pid and a timestamp.
import { appendFileSync } from 'node:fs';
import { connect } from '../../client/index.js';
import { DoubleBarrier, Session } from '../../recipes/index.js';

const [endpoint, name, participants, log, workMs] = process.argv.slice(2);
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
