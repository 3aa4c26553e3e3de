// Session and Mutex against cairn and etcd: exclusion under contention with
// strictly increasing fencing tokens, guard() fencing a stale holder, the
// post-wait ownership re-check, abort/timeout, and interop with `etcdctl lock`.
import { expect } from 'chai';
import { appendFileSync, existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { op } from '../../client/index.js';
import { LockAbortedError, LockTimeoutError, Mutex, SessionExpiredError, SessionState } from '../../recipes/index.js';
import { must } from '../harness/must.js';
import { EtcdctlProcesses, waitFor } from '../interop/etcdctl-process.js';
import { eventually, Fixture, rejection, selectedTargets, sleep } from './support.js';

for (const target of selectedTargets()) {
  describe(`recipes: session and mutex against ${target.kind}`, function () {
    const fixture = new Fixture(target);
    const processes = new EtcdctlProcesses();

    before(async function () {
      if (!target.available()) return this.skip();
      await fixture.start();
    });
    after(async () => {
      await processes.killAll();
      await fixture.stop();
    });

    it('session: close() revokes the lease and its keys; orphan() leaves them to the TTL', async () => {
      const client = await fixture.client();
      const closing = await fixture.session({ ttlSeconds: 5 }, client);
      await client.put('s/closing', 'x', { lease: closing.lease });
      let completed = false;
      closing.lost$.subscribe({ complete: () => (completed = true) });
      await closing.close();
      expect(completed).to.equal(true);
      expect(closing.state).to.equal(SessionState.Closed);
      expect(await client.get('s/closing')).to.equal(undefined);

      const orphaned = await fixture.session({ ttlSeconds: 2 }, client);
      await client.put('s/orphaned', 'x', { lease: orphaned.lease });
      orphaned.orphan();
      expect(await client.get('s/orphaned')).to.not.equal(undefined);
      await eventually(async () => (await client.get('s/orphaned')) === undefined, 8_000, 'orphaned lease expiry');
    });

    it('session: lost$ reports a revoked lease', async () => {
      const client = await fixture.client();
      const session = await fixture.session({ ttlSeconds: 3 }, client);
      const lost = new Promise<Error>((resolve) => session.lost$.subscribe(resolve));
      await client.leases.revoke(session.lease);
      const error = await lost;
      expect(error.name).to.be.oneOf(['LeaseLostError', 'SessionExpiredError']);
      expect(session.state).to.equal(SessionState.Lost);
    });

    it('N contending holders never overlap and fencing tokens strictly increase', async () => {
      const holders = 6;
      const rounds = 3;
      const log: { who: number; what: 'enter' | 'exit'; token: bigint }[] = [];
      let inside = 0;
      let overlaps = 0;
      const sessions = await Promise.all(Array.from({ length: holders }, () => fixture.session()));
      await Promise.all(sessions.map(async (session, who) => {
        const mutex = new Mutex(session, 'contended');
        for (let round = 0; round < rounds; round++) {
          const held = await mutex.lock({ timeoutMs: 30_000 });
          if (++inside > 1) overlaps++;
          log.push({ who, what: 'enter', token: held.fencingToken });
          await sleep(5);
          log.push({ who, what: 'exit', token: held.fencingToken });
          inside--;
          await held.unlock();
        }
      }));
      expect(overlaps).to.equal(0);
      expect(log).to.have.length(holders * rounds * 2);
      let previousToken: bigint | undefined;
      for (let index = 0; index < log.length; index += 2) {
        const enter = must(log[index], `log entry ${index + 1}`);
        expect(enter.what).to.equal('enter');
        expect(log[index + 1]).to.include({ what: 'exit', who: enter.who, token: enter.token });
        if (previousToken !== undefined) expect(enter.token > previousToken, `token ${enter.token} after ${previousToken}`).to.equal(true);
        previousToken = enter.token;
      }
    });

    it('guard() makes a stale holder’s txn fail while the new holder’s succeeds', async () => {
      const admin = await fixture.client();
      const stale = await fixture.session({ ttlSeconds: 5 });
      const fresh = await fixture.session();
      const staleLock = await new Mutex(stale, 'fenced').lock();
      const waiting = new Mutex(fresh, 'fenced').lock({ timeoutMs: 20_000 });
      // The stale holder is "paused": its lease is lost behind its back.
      stale.orphan();
      await admin.leases.revoke(stale.lease);
      const freshLock = await waiting;
      expect(freshLock.fencingToken > staleLock.fencingToken).to.equal(true);
      const staleWrite = await admin.txn().if(staleLock.guard()).then([op.put('fenced-resource', 'stale')]).commit();
      expect(staleWrite.succeeded).to.equal(false);
      const freshWrite = await admin.txn().if(freshLock.guard()).then([op.put('fenced-resource', 'fresh')]).commit();
      expect(freshWrite.succeeded).to.equal(true);
      expect((await admin.get('fenced-resource'))?.value.toString()).to.equal('fresh');
      await freshLock.unlock();
    });

    it('a crashed holder (keep-alive stops) is replaced after its lease TTL', async () => {
      const crashed = await fixture.session({ ttlSeconds: 2 });
      const next = await fixture.session();
      await new Mutex(crashed, 'crash').lock();
      const started = Date.now();
      const waiting = new Mutex(next, 'crash').lock({ timeoutMs: 15_000 });
      crashed.orphan();
      const held = await waiting;
      expect(Date.now() - started).to.be.greaterThan(1_000);
      await held.unlock();
    });

    it('tryLock() fails without queueing; lock() times out, aborts and leaves the queue', async () => {
      const owner = await fixture.session();
      const other = await fixture.session();
      const held = await new Mutex(owner, 'try').lock();
      const contender = new Mutex(other, 'try');
      expect(await contender.tryLock()).to.equal(undefined);
      expect(await rejection(contender.lock({ timeoutMs: 300 }))).to.be.instanceOf(LockTimeoutError);
      const controller = new AbortController();
      const aborted = contender.lock({ signal: controller.signal });
      await sleep(100);
      controller.abort();
      expect(await rejection(aborted)).to.be.instanceOf(LockAbortedError);
      const keys = await owner.client.getRange({ prefix: 'try/' });
      expect(keys.kvs.map((kv) => kv.key)).to.deep.equal([held.key]);
      await held.unlock();
      const second = await contender.tryLock();
      expect(second).to.not.equal(undefined);
      await second?.unlock();
    });

    it('a waiter whose session is lost while queued does not get the lock (post-wait re-check)', async () => {
      const admin = await fixture.client();
      const owner = await fixture.session();
      const doomed = await fixture.session({ ttlSeconds: 5 });
      const held = await new Mutex(owner, 'recheck').lock();
      const waiting = new Mutex(doomed, 'recheck').lock();
      await sleep(200);
      await admin.leases.revoke(doomed.lease);
      await held.unlock();
      expect(await rejection(waiting)).to.be.instanceOf(SessionExpiredError);
    });

    describe('interop with etcdctl lock', function () {
      let directory = '';
      before(function () {
        if (!target.available()) return this.skip();
        directory = mkdtempSync(join(tmpdir(), 'cairn-recipes-lock-'));
      });
      afterEach(async () => processes.killAll());
      after(() => rmSync(directory, { recursive: true, force: true }));

      it('etcdctl lock waits while a cairn Mutex holds the lock', async () => {
        const log = join(directory, 'a.log');
        appendFileSync(log, '');
        const session = await fixture.session();
        const held = await new Mutex(session, 'shared-lock').lock();
        const etcdctl = processes.start(fixture.server.endpoint, ['lock', 'shared-lock', '--', 'sh', '-c', 'echo "etcdctl $ETCD_LOCK_KEY" >> "$LOG"'], { env: { LOG: log } });
        await sleep(800);
        expect(readFileSync(log, 'utf8')).to.equal('');
        await held.unlock();
        await waitFor(() => existsSync(log) && readFileSync(log, 'utf8').includes('etcdctl shared-lock/'), 'etcdctl to get the lock');
        expect((await etcdctl.closed).code).to.equal(0);
      });

      it('a cairn Mutex waits while etcdctl lock holds the lock', async () => {
        const etcdctl = processes.start(fixture.server.endpoint, ['lock', 'shared-lock2']);
        await etcdctl.waitForStdout((out) => out.includes('shared-lock2/'), 'the held lock key');
        const session = await fixture.session();
        const mutex = new Mutex(session, 'shared-lock2');
        expect(await mutex.tryLock()).to.equal(undefined);
        const waiting = mutex.lock({ timeoutMs: 15_000 });
        await sleep(300);
        await etcdctl.signal('SIGINT');
        const held = await waiting;
        expect(held.key).to.equal(`shared-lock2/${session.leaseHex}`);
        await held.unlock();
      });
    });
  });
}
