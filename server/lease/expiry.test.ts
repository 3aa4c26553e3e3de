import { expect } from 'chai';
import { existsSync } from 'node:fs';
import { openTempStore, type TempStore } from '../testing/temp-store.js';
import { SimClock } from '../../test/sim/clock.js';
import { LeaseExpiry } from './expiry.js';
import { LeaseTable } from './table.js';

const minTtlSeconds = 2n;

describe('LeaseExpiry', () => {
  let temp: TempStore;
  let table: LeaseTable;
  let clock: SimClock;
  let expiry: LeaseExpiry;

  const grant = (id: bigint, ttlSeconds: bigint): void => void temp.backend.transaction(() => table.grant(id, ttlSeconds));
  /** Applies a revoke as the node would once it is committed. */
  const revoke = (id: bigint): void => void temp.write((txn) => table.revoke(id, txn));

  beforeEach(() => {
    temp = openTempStore();
    table = new LeaseTable(temp.backend, minTtlSeconds);
    clock = new SimClock();
    expiry = new LeaseExpiry(table, clock);
  });

  afterEach(async () => {
    const dir = temp.dir;
    await temp.remove();
    expect(existsSync(dir)).to.equal(false);
  });

  describe('deadlines', () => {
    it('start when the lease is first seen, with its full (clamped) TTL, and reading them does not move them', () => {
      grant(1n, 10n);
      grant(2n, 1n); // clamped to 2 s
      clock.advance(5_000); // not seen yet: the time before counts for nothing
      expect(expiry.remainingMs(1n)).to.equal(10_000);
      expect(expiry.remainingMs(2n)).to.equal(2_000);
      clock.advance(1_500);
      expect(expiry.remainingMs(1n)).to.equal(8_500);
      expect(expiry.remainingMs(2n)).to.equal(500);
      clock.advance(1_000);
      expect(expiry.remainingMs(2n)).to.equal(-500);
    });

    it('are undefined for a lease that does not exist', () => {
      expect(expiry.remainingMs(42n)).to.equal(undefined);
      expect(expiry.renew(42n)).to.equal(undefined);
    });
  });

  describe('renew', () => {
    it('gives a full TTL from now and returns the granted TTL', () => {
      grant(1n, 10n);
      expect(expiry.remainingMs(1n)).to.equal(10_000);
      clock.advance(7_000);
      expect(expiry.renew(1n)).to.equal(10n);
      expect(expiry.remainingMs(1n)).to.equal(10_000);
      clock.advance(9_999);
      expect(expiry.takeExpired(10)).to.deep.equal([]);
      clock.advance(1);
      expect(expiry.takeExpired(10)).to.deep.equal([1n]);
    });

    it('returns the clamped TTL for a lease first seen by the renew', () => {
      grant(1n, 0n);
      expect(expiry.renew(1n)).to.equal(minTtlSeconds);
      expect(expiry.remainingMs(1n)).to.equal(2_000);
    });

    it('of an expired lease returns undefined and does not revive it', () => {
      grant(1n, 10n);
      expiry.remainingMs(1n);
      clock.advance(10_000); // exactly at the deadline: expired
      expect(expiry.renew(1n)).to.equal(undefined);
      expect(expiry.remainingMs(1n)).to.equal(0);
      clock.advance(5_000);
      expect(expiry.renew(1n)).to.equal(undefined);
      expect(expiry.remainingMs(1n)).to.equal(-5_000);
      expect(expiry.takeExpired(10)).to.deep.equal([1n]);
    });

    it('of a lease handed out for revocation returns undefined, even once settled while it is still expired', () => {
      grant(1n, 10n);
      expiry.remainingMs(1n);
      clock.advance(10_000);
      expect(expiry.takeExpired(10)).to.deep.equal([1n]);
      expect(expiry.renew(1n)).to.equal(undefined);
      expiry.settled(1n); // the revoke failed: the lease is still there, and still expired
      expect(expiry.renew(1n)).to.equal(undefined);
    });
  });

  describe('takeExpired', () => {
    it('hands out nothing before a deadline and a lease at its deadline', () => {
      grant(1n, 3n);
      expect(expiry.takeExpired(10)).to.deep.equal([]); // first seen here
      clock.advance(2_999);
      expect(expiry.takeExpired(10)).to.deep.equal([]);
      clock.advance(1);
      expect(expiry.takeExpired(10)).to.deep.equal([1n]);
    });

    it('orders expired leases by deadline, oldest first, whatever their IDs or grant order', () => {
      grant(30n, 5n);
      grant(10n, 3n);
      grant(20n, 4n);
      expiry.remainingMs(30n);
      expiry.remainingMs(10n);
      expiry.remainingMs(20n);
      clock.advance(1_000);
      grant(5n, 2n); // seen 1 s later: deadline +3 s, the same as lease 10's
      grant(40n, 3n); // deadline +4 s ... after lease 10, tied with 20
      expiry.remainingMs(5n);
      expiry.remainingMs(40n);
      clock.advance(500);
      expiry.renew(10n); // lease 10 now ends at +4.5 s
      clock.advance(10_000);
      const order = expiry.takeExpired(100);
      expect(order).to.have.length(5);
      // Deadlines: 5 → 3 s, 20 → 4 s, 40 → 4 s, 10 → 4.5 s, 30 → 5 s.
      expect(order[0]).to.equal(5n);
      expect(order.slice(1, 3)).to.have.members([20n, 40n]);
      expect(order.slice(3)).to.deep.equal([10n, 30n]);
    });

    it('hands out at most `max` per call, the oldest first, and the rest on later calls', () => {
      for (let i = 1; i <= 5; i++) {
        grant(BigInt(i), 2n);
        expiry.remainingMs(BigInt(i));
        clock.advance(10);
      }
      clock.advance(5_000);
      expect(expiry.takeExpired(2)).to.deep.equal([1n, 2n]);
      expect(expiry.takeExpired(2)).to.deep.equal([3n, 4n]);
      expect(expiry.takeExpired(2)).to.deep.equal([5n]);
      expect(expiry.takeExpired(2)).to.deep.equal([]);
      expect(expiry.takeExpired(0)).to.deep.equal([]);
    });

    it('does not hand a lease out twice until it is settled; settled and still there, it is handed out again', () => {
      grant(1n, 2n);
      grant(2n, 2n);
      expiry.remainingMs(1n);
      expiry.remainingMs(2n);
      clock.advance(2_000);
      expect(expiry.takeExpired(10)).to.have.members([1n, 2n]);
      clock.advance(60_000);
      expect(expiry.takeExpired(10)).to.deep.equal([]);
      // Lease 1's revoke was applied; lease 2's failed (e.g. the proposal was refused).
      revoke(1n);
      expiry.settled(1n);
      expiry.settled(2n);
      expect(expiry.takeExpired(10)).to.deep.equal([2n]);
      expect(expiry.takeExpired(10)).to.deep.equal([]);
      revoke(2n);
      expiry.settled(2n);
      expect(expiry.takeExpired(10)).to.deep.equal([]);
      expect(expiry.remainingMs(1n)).to.equal(undefined);
    });

    it('never hands out a lease kept alive, and leaves live leases alone', () => {
      grant(1n, 2n);
      grant(2n, 2n);
      expiry.remainingMs(1n);
      expiry.remainingMs(2n);
      for (let i = 0; i < 10; i++) {
        clock.advance(1_500);
        expect(expiry.renew(1n)).to.equal(2n);
        const expired = expiry.takeExpired(10);
        expect(expired).to.not.include(1n);
        for (const id of expired) {
          revoke(id);
          expiry.settled(id);
        }
      }
      expect(table.ids()).to.deep.equal([1n]);
    });

    it('thousands expiring together are handed out in bounded batches, each exactly once', () => {
      const count = 2_500;
      temp.backend.transaction(() => {
        for (let i = 1; i <= count; i++) table.grant(BigInt(i), 2n);
      });
      expect(expiry.takeExpired(500)).to.deep.equal([]); // all first seen now
      clock.advance(2_000);
      const seen = new Set<bigint>();
      let batches = 0;
      for (let batch = expiry.takeExpired(500); batch.length > 0; batch = expiry.takeExpired(500)) {
        expect(batch.length).to.be.at.most(500);
        for (const id of batch) {
          expect(seen.has(id), `lease ${id} handed out twice`).to.equal(false);
          seen.add(id);
        }
        batches++;
        expect(batches).to.be.at.most(count / 500);
      }
      expect(seen.size).to.equal(count);
      expect(batches).to.equal(count / 500);
    });
  });

  describe('restart and re-grant', () => {
    it('a new LeaseExpiry (a restart) gives every restored lease a full TTL from when it first sees it', async () => {
      grant(1n, 10n);
      grant(2n, 4n);
      expiry.remainingMs(1n);
      expiry.remainingMs(2n);
      clock.advance(9_000);
      expect(expiry.takeExpired(10)).to.deep.equal([2n]);
      // Crash before lease 2's revoke is applied: both leases survive the restart.
      await temp.restart();
      table = new LeaseTable(temp.backend, minTtlSeconds);
      table.restore(temp.store);
      expiry = new LeaseExpiry(table, clock);
      expect(expiry.remainingMs(1n)).to.equal(10_000);
      expect(expiry.remainingMs(2n)).to.equal(4_000);
      clock.advance(3_999);
      expect(expiry.takeExpired(10)).to.deep.equal([]);
      clock.advance(1);
      expect(expiry.takeExpired(10)).to.deep.equal([2n]);
      clock.advance(6_000);
      expect(expiry.takeExpired(10)).to.deep.equal([1n]);
    });

    it('a lease ID granted again after its revoke gets a fresh full TTL (revoked by a client before expiring)', () => {
      grant(1n, 10n);
      expiry.remainingMs(1n);
      clock.advance(4_000);
      revoke(1n);
      grant(1n, 10n);
      expect(expiry.renew(1n)).to.equal(10n); // the API renews right after the grant
      expect(expiry.remainingMs(1n)).to.equal(10_000);
    });

    it('a lease ID granted again after it expired and was revoked gets a fresh full TTL', () => {
      grant(1n, 10n);
      expiry.remainingMs(1n);
      clock.advance(10_000);
      expect(expiry.takeExpired(10)).to.deep.equal([1n]);
      revoke(1n);
      expiry.settled(1n);
      // A client grants the same ID before the next expiry check runs.
      grant(1n, 10n);
      expect(expiry.renew(1n), 'renew right after the grant').to.equal(10n);
      expect(expiry.remainingMs(1n)).to.equal(10_000);
      expect(expiry.takeExpired(10)).to.deep.equal([]);
    });

    it('started() gives a re-granted ID a full TTL even when the old lease was revoked by a client (no settle)', () => {
      grant(1n, 5n);
      expiry.started(1n);
      clock.advance(6_000);
      expect(expiry.remainingMs(1n)).to.be.below(0);
      revoke(1n);
      grant(1n, 10n);
      expiry.started(1n);
      expect(expiry.remainingMs(1n)).to.equal(10_000);
      expect(expiry.renew(1n)).to.equal(10n);
    });
  });
});
