#!/usr/bin/env node
// A longer linearizability run than CI's: the checker of
// test/cluster/linearizability.test.ts over a 3-member cluster while the
// nemesis repeats its faults (kill, pause and isolate the leader, kill a
// follower) for about the given duration. Prints the operations checked and
// any anomaly, and fails on a violation. Run after a build:
//   npm run linearizability -- --duration-seconds 600 [--seed N] [--target cairn|etcd|both]
import { spawnSync } from 'node:child_process';
import { parseArgs } from 'node:util';

const { values } = parseArgs({
  options: {
    'duration-seconds': { type: 'string', default: '300' },
    seed: { type: 'string' },
    target: { type: 'string', default: 'cairn' },
    help: { type: 'boolean', default: false },
  },
});
if (values.help) {
  console.log('usage: npm run linearizability -- [--duration-seconds N (300)] [--seed N] [--target cairn|etcd|both (cairn)]');
  process.exit(0);
}
const duration = Number(values['duration-seconds']);
if (!Number.isInteger(duration) || duration < 1) throw new Error(`--duration-seconds must be a positive integer: ${values['duration-seconds']}`);
if (!['cairn', 'etcd', 'both'].includes(values.target)) throw new Error(`--target must be cairn, etcd or both: ${values.target}`);
const grep = values.target === 'both' ? 'cluster under faults concurrent' : `${values.target} cluster under faults concurrent`;
const env = { ...process.env, LINEARIZABILITY_DURATION_SECONDS: String(duration) };
if (values.seed !== undefined) env.LINEARIZABILITY_SEED = values.seed;
const mocha = new URL('../node_modules/.bin/mocha', import.meta.url).pathname;
const run = spawnSync(mocha, ['--no-config', '--reporter', 'spec', '--timeout', '0', '--exit', '-g', grep, 'dist/test/cluster/linearizability.test.js'], {
  cwd: new URL('..', import.meta.url).pathname,
  env,
  stdio: 'inherit',
});
process.exit(run.status ?? 1);
