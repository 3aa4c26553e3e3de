// Two `etcdctl lock` processes on one name, against cairn and against etcd:
// they exclude each other, and the second gets the lock when the first exits
// or, after a kill -9, when the first's session lease expires. etcdctl 3.4
// runs the lock algorithm client-side (concurrency.Mutex over KV, Lease and
// Watch), so this checks those services together, as a real client uses them.
//
// Each locked command appends to a log file; the order of lines in the log is
// the observable order, and it must be the same on both servers.
import { expect } from 'chai';
import { appendFileSync, existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { compatPair, type PairSide } from '../compat/pair.js';
import { EtcdctlProcesses, sleep, waitFor } from './etcdctl-process.js';

/** How long the first holder keeps the lock in the exit scenario. */
const holdMs = 1_500;
/** How long the second process is given to (wrongly) get the lock while the first holds it. */
const contendMs = 500;
/** `etcdctl lock --ttl`: the session lease TTL in the kill -9 scenario (the minimum TTL). */
const sessionTtlSeconds = 2;
/** From the kill -9 to the second holder: at most the TTL, expiry checking and a watch round trip. */
const takeoverMsMax = 10_000;

describe('interop: etcdctl lock', function () {
  const pair = compatPair();
  const processes = new EtcdctlProcesses();
  let directory = '';

  beforeEach(() => {
    directory = mkdtempSync(join(tmpdir(), 'cairn-lock-'));
  });

  afterEach(async () => {
    await processes.killAll();
    rmSync(directory, { recursive: true, force: true });
  });

  /** A log file for one side; each locked command appends a line. */
  function logFor(side: PairSide, scenario: string) {
    const path = join(directory, `${scenario}-${side.name}.log`);
    appendFileSync(path, '');
    const lines = () => (existsSync(path) ? readFileSync(path, 'utf8').split('\n').filter((line) => line !== '') : []);
    return { path, lines };
  }

  /** `etcdctl lock NAME -- sh -c SCRIPT`, with the log path in $LOG. */
  function startLocked(side: PairSide, log: string, name: string, script: string, flags: string[] = []) {
    return processes.start(side.server.endpoint, ['lock', ...flags, name, '--', 'sh', '-c', script], { env: { LOG: log } });
  }

  it('the second command starts only after the first ends, then runs', async () => {
    const [etcd, cairn] = await pair.both(async (side) => {
      const log = logFor(side, 'exit');
      const first = startLocked(side, log.path, 'lockx', `echo "A start $ETCD_LOCK_KEY" >> "$LOG"; sleep ${holdMs / 1000}; echo "A end" >> "$LOG"`);
      await waitFor(() => log.lines().length > 0, `${side.name}: the first command to start`);
      const second = startLocked(side, log.path, 'lockx', 'echo "B start" >> "$LOG"; echo "B end" >> "$LOG"');
      await sleep(contendMs);
      const whileFirstHeld = log.lines();
      const exits = await Promise.all([first.closed, second.closed]);
      const lines = log.lines().map((line) => line.replace(/^A start lockx\/[0-9a-f]{1,16}$/, 'A start lockx/<lease>'));
      return { whileFirstHeld: whileFirstHeld.length, lines, codes: exits.map((exit) => exit.code), stderr: [first.stderr(), second.stderr()] };
    });
    expect(etcd.lines).to.deep.equal(['A start lockx/<lease>', 'A end', 'B start', 'B end']);
    expect(etcd.whileFirstHeld).to.equal(1);
    expect(cairn, 'lock order: cairn (actual) vs etcd (expected)').to.deep.equal(etcd);
  });

  it('after the first holder is killed with -9, the second gets the lock once the session lease expires', async () => {
    const [etcd, cairn] = await pair.both(async (side) => {
      const log = logFor(side, 'kill9');
      const flags = [`--ttl=${sessionTtlSeconds}`];
      const first = startLocked(side, log.path, 'lockk', 'echo "A start" >> "$LOG"; exec sleep 60', flags);
      await waitFor(() => log.lines().length > 0, `${side.name}: the first command to start`);
      const second = startLocked(side, log.path, 'lockk', 'echo "B start" >> "$LOG"', flags);
      await sleep(contendMs);
      const beforeKill = log.lines();
      // Only etcdctl dies: its session stops being kept alive, its lock key stays until the lease expires.
      await first.signal('SIGKILL');
      const killedAt = Date.now();
      await waitFor(() => log.lines().includes('B start'), `${side.name}: the second command to start`, takeoverMsMax);
      const takeoverMs = Date.now() - killedAt;
      const exit = await second.closed;
      return { beforeKill, takeoverMs, lines: log.lines(), secondCode: exit.code };
    });
    for (const [name, side] of [['etcd', etcd], ['cairn', cairn]] as const) {
      // The session was kept alive every TTL/3, so at least ~2/3 of the TTL was left at the kill.
      expect(side.takeoverMs, `${name}: ms from the kill -9 to the second holder`).to.be.within(sessionTtlSeconds * 1000 / 3, takeoverMsMax);
    }
    const observed = ({ takeoverMs: _, ...rest }: typeof etcd) => rest;
    expect(etcd.lines).to.deep.equal(['A start', 'B start']);
    expect(etcd.beforeKill).to.deep.equal(['A start']);
    expect(observed(cairn), 'lock takeover after kill -9: cairn (actual) vs etcd (expected)').to.deep.equal(observed(etcd));
  });
});
