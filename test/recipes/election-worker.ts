// A separate process campaigning in an Election (spawned by election-processes.test.ts):
//   node election-worker.js <endpoint> <election name> <value>
// Prints "campaigning", then "elected <create revision>" when it leads, and
// keeps leading until it is killed (or its session is lost: "lost").
import { connect } from '../../client/index.js';
import { Election, Session } from '../../recipes/index.js';
import { workerArg } from '../harness/worker-args.js';

const endpoint = workerArg(0, 'endpoint');
const name = workerArg(1, 'election name');
const value = workerArg(2, 'value');
const client = await connect({ endpoints: [endpoint] });
const session = await Session.create(client, { ttlSeconds: 2 });
new Election(session, name).campaign(value).subscribe({
  next: (leadership) => {
    if (leadership.state === 'elected') process.stdout.write(`elected ${leadership.createRevision}\n`);
    else process.stdout.write(`${leadership.state}\n`);
  },
  error: (error: unknown) => {
    process.stderr.write(`campaign failed: ${String(error)}\n`);
    process.exit(1);
  },
});
