// Durability under kill -9 (DESIGN.md, contract 3): writers put distinct keys as
// fast as they can, the server is SIGKILLed mid-stream, restarted on the same
// data directory, and every acknowledged put must be there with its value and
// the revision it was acknowledged at. Three crash cycles, writes between them.
//
// The same test runs against real etcd, which is the reference: if it fails
// there, the test is wrong, not cairn. A failure prints its seed; rerun the
// same kill timings with CRASH_SEED=<seed>.
import { assert } from 'chai';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { etcdAvailable, startCairn, startEtcd, type ServerHandle, type ServerKind } from '../harness/launcher.js';
import type { WriterReport } from './crash-protocol.js';
import { checkSnapshot, recordAcks, summarize, type Acknowledged } from './durability-check.js';
import { readPrefix } from './readback.js';
import { forkWriter, type Writer } from './writers.js';

const crashCycles = 3;
const writersPerCycle = 2;
const connectionsPerWriter = 4;
const clientsPerConnection = 8;
/** Each cycle writes for writeMsMin plus up to writeMsSpread (from the seed), then kills. */
const writeMsMin = 1000;
const writeMsSpread = 1000;
const putsPerWriterMax = 200_000;
const requestTimeoutMs = 5_000;
const writersReadyTimeoutMs = 15_000;
const writersReportTimeoutMs = 15_000;
/** Fewer acks than this in a cycle means the writers never got going: the test proved nothing. */
const acksPerCycleMin = 50;
const outputTailChars = 3_000;

/** mulberry32: a tiny seeded generator, so a failing run's kill timings can be replayed. */
function seededRandom(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 2 ** 32;
  };
}

function within<T>(promise: Promise<T>, timeoutMs: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what}: nothing within ${timeoutMs} ms`)), timeoutMs);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

for (const kind of ['cairn', 'etcd'] as const satisfies readonly ServerKind[]) {
  describe(`crash: kill -9 of ${kind} loses no acknowledged put`, function () {
    this.timeout(60_000);
    const seed = Number(process.env.CRASH_SEED ?? Math.floor(Math.random() * 2 ** 31));
    let root: string | undefined;
    let server: ServerHandle | undefined;
    const writers = new Set<Writer>();

    before(function () {
      if (kind === 'etcd' && !etcdAvailable()) this.skip();
      root = mkdtempSync(join(tmpdir(), `crash-${kind}-`));
    });

    after(async () => {
      await Promise.all([...writers].map((writer) => writer.kill()));
      await server?.kill9();
      if (root !== undefined) rmSync(root, { recursive: true, force: true });
    });

    async function start(): Promise<ServerHandle> {
      const dataDir = join(root!, 'data'); // Ours, so the launcher never removes it between restarts.
      server = await (kind === 'cairn' ? startCairn({ dataDir }) : startEtcd({ dataDir }));
      return server;
    }

    /** Runs the writers against `running` for writeMs, kills the server, and collects what was acknowledged. */
    async function writeThenKill(running: ServerHandle, keyPrefix: string, writeMs: number): Promise<WriterReport[]> {
      const cycleWriters = Array.from({ length: writersPerCycle }, (_, index) => forkWriter(`writer ${index}`, {
        endpoint: running.endpoint, keyPrefix: `${keyPrefix}/w${index}`, connections: connectionsPerWriter,
        clientsPerConnection, putsMax: putsPerWriterMax, requestTimeoutMs,
      }));
      for (const writer of cycleWriters) writers.add(writer);
      try {
        await within(Promise.all(cycleWriters.map((writer) => writer.ready)), writersReadyTimeoutMs, 'writers connecting');
        for (const writer of cycleWriters) writer.send({ type: 'go' });
        await sleep(writeMs);
        await running.kill9();
        for (const writer of cycleWriters) writer.send({ type: 'stop' });
        return await within(Promise.all(cycleWriters.map((writer) => writer.report)), writersReportTimeoutMs, 'writer reports');
      } finally {
        await Promise.all(cycleWriters.map((writer) => writer.kill()));
        for (const writer of cycleWriters) writers.delete(writer);
      }
    }

    function fail(what: string, violations: string[], running: ServerHandle): never {
      const tail = running.output().slice(-outputTailChars);
      assert.fail(`${what} (seed ${seed}): ${summarize(violations)}\n--- ${kind} output (tail) ---\n${tail}`);
    }

    it(`keeps every acknowledged put, at its revision, over ${crashCycles} crash/restart cycles`, async () => {
      const random = seededRandom(seed);
      const prefix = `crash/${seed.toString(36)}/`;
      const acknowledged: Acknowledged = new Map();
      for (let cycle = 1; cycle <= crashCycles; cycle++) {
        const running = await start();
        const before = await readPrefix(running.endpoint, prefix);
        const violations = checkSnapshot(acknowledged, before);
        if (violations.length > 0) fail(`after restart ${cycle - 1}`, violations, running);

        const writeMs = writeMsMin + Math.floor(random() * writeMsSpread);
        const reports = await writeThenKill(running, `${prefix}c${cycle}`, writeMs);
        const acks = reports.flatMap((report) => report.acks);
        const ackViolations = recordAcks(acknowledged, acks, before.revision);
        if (ackViolations.length > 0) fail(`acks of cycle ${cycle}`, ackViolations, running);
        const errors = [...new Set(reports.flatMap((report) => report.errors))];
        console.log(`      ${kind} cycle ${cycle}: ${acks.length} acked puts, killed after ${writeMs} ms; put errors: ${errors.join(' | ') || 'none'}`);
        assert.isAtLeast(acks.length, acksPerCycleMin, `cycle ${cycle} (seed ${seed}): writers barely wrote; errors: ${errors.join(' | ')}`);
      }
      const running = await start();
      const final = await readPrefix(running.endpoint, prefix);
      const violations = checkSnapshot(acknowledged, final);
      if (violations.length > 0) fail(`after restart ${crashCycles}`, violations, running);
      console.log(`      ${kind}: ${acknowledged.size} acknowledged puts all present; ${final.kvs.length} keys, store revision ${final.revision}`);
      await running.stop();
    });
  });
}
