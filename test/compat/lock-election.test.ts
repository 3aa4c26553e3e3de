// The v3lockpb.Lock and v3electionpb.Election services over raw gRPC, side by
// side on etcd and cairn. Leases use client-chosen IDs, so the keys
// (`<name>/<lease id in hex>`), revisions and answers are comparable as they
// are. A call that should wait (a second Lock, a second Campaign) is checked
// to be still pending after a while, then to complete once the holder lets go.
import { expect } from 'chai';
import { LeaseGrantRequest, LeaseRevokeRequest, RangeRequest } from '../../proto/gen/etcdserverpb/rpc.js';
import { CampaignRequest, LeaderKey, LeaderRequest, ProclaimRequest, ResignRequest } from '../../proto/gen/v3electionpb/v3election.js';
import { LockRequest, UnlockRequest } from '../../proto/gen/v3lockpb/v3lock.js';
import { normaliseMessage } from './normalise.js';
import { compatPair, normaliseOutcome, type PairSide } from './pair.js';
import {
  campaignRaw,
  leaderRaw,
  leaseGrantRaw,
  leaseRevokeRaw,
  lockRaw,
  proclaimRaw,
  rangeRaw,
  resignRaw,
  responseOf,
  unlockRaw,
} from './rpc.js';
import { ObserveStream } from './streams.js';

/** How long a waiting Lock or Campaign must stay pending to count as waiting. */
const pendingCheckMs = 400;
/** Bound on a Lock or Campaign that is expected to wait and then succeed. */
const waitingCallDeadlineMs = 15_000;
const leaseTtlSeconds = 30n;

async function grantLeases(side: PairSide, ids: readonly bigint[]): Promise<void> {
  for (const id of ids) responseOf(await leaseGrantRaw(side.clients, LeaseGrantRequest.fromPartial({ ID: id, TTL: leaseTtlSeconds })), `grant ${id}`);
}

async function revokeLeases(side: PairSide, ids: readonly bigint[]): Promise<void> {
  for (const id of ids) await leaseRevokeRaw(side.clients, LeaseRevokeRequest.fromPartial({ ID: id }));
}

/** True when `call` has not settled within `ms`. */
async function stillPending(call: Promise<unknown>, ms: number): Promise<boolean> {
  let settled = false;
  void call.then(() => (settled = true), () => (settled = true));
  await new Promise((resolve) => setTimeout(resolve, ms));
  return !settled;
}

async function rangePrefix(side: PairSide, prefix: string): Promise<unknown> {
  const end = Buffer.from(prefix);
  end[end.length - 1] = (end[end.length - 1] ?? 0) + 1;
  return normaliseOutcome(await rangeRaw(side.clients, RangeRequest.fromPartial({ key: Buffer.from(prefix), rangeEnd: end })));
}

const lock = (name: string, lease: bigint) => LockRequest.fromPartial({ name: Buffer.from(name), lease });
const unlock = (key: Buffer | string) => UnlockRequest.fromPartial({ key: Buffer.from(key) });

describe('compat: Lock and Election services', function () {
  const pair = compatPair();

  describe('Lock', function () {
    it('Lock returns the ownership key <name>/<lease hex>; the same lease again gets the same key; Unlock deletes it', async () => {
      const etcd = await pair.same('Lock, re-Lock, Unlock', async (side) => {
        await grantLeases(side, [0x7a01n]);
        try {
          const first = responseOf(await lockRaw(side.clients, lock('lk1', 0x7a01n)), 'lock');
          const held = await rangePrefix(side, 'lk1/');
          const again = normaliseOutcome(await lockRaw(side.clients, lock('lk1', 0x7a01n)));
          const unlocked = normaliseOutcome(await unlockRaw(side.clients, unlock(first.key)));
          const after = await rangePrefix(side, 'lk1/');
          return { first: normaliseMessage(first), held, again, unlocked, after };
        } finally {
          await revokeLeases(side, [0x7a01n]);
        }
      });
      expect(etcd.first).to.deep.include({ key: 'lk1/7a01' });
      expect(etcd.again).to.deep.include({ response: etcd.first });
    });

    it('a second Lock on the name waits until the first is unlocked', async () => {
      const etcd = await pair.same('contended Lock', async (side) => {
        await grantLeases(side, [0x7a02n, 0x7a03n]);
        try {
          const first = responseOf(await lockRaw(side.clients, lock('lk2', 0x7a02n)), 'lock');
          const second = lockRaw(side.clients, lock('lk2', 0x7a03n), waitingCallDeadlineMs);
          const waited = await stillPending(second, pendingCheckMs);
          const bothKeys = await rangePrefix(side, 'lk2/');
          responseOf(await unlockRaw(side.clients, unlock(first.key)), 'unlock');
          const granted = normaliseOutcome(await second);
          const after = await rangePrefix(side, 'lk2/');
          return { first: normaliseMessage(first), waited, bothKeys, granted, after };
        } finally {
          await revokeLeases(side, [0x7a02n, 0x7a03n]);
        }
      });
      expect(etcd.waited).to.equal(true);
      expect((etcd.granted as { response?: { key: string } }).response?.key).to.equal('lk2/7a03');
    });

    it('a waiting Lock gets the lock when the holder\'s lease is revoked', async () => {
      const etcd = await pair.same('Lock after the holder\'s lease is revoked', async (side) => {
        await grantLeases(side, [0x7a04n, 0x7a05n]);
        try {
          responseOf(await lockRaw(side.clients, lock('lk3', 0x7a04n)), 'lock');
          const second = lockRaw(side.clients, lock('lk3', 0x7a05n), waitingCallDeadlineMs);
          const waited = await stillPending(second, pendingCheckMs);
          await revokeLeases(side, [0x7a04n]);
          const granted = normaliseOutcome(await second);
          return { waited, granted, after: await rangePrefix(side, 'lk3/') };
        } finally {
          await revokeLeases(side, [0x7a05n]);
        }
      });
      expect(etcd.waited).to.equal(true);
      expect((etcd.granted as { response?: { key: string } }).response?.key).to.equal('lk3/7a05');
    });

    it('Lock with an unknown lease fails as on etcd, and leaves no key', async () => {
      const unknown = await pair.raw((clients) => lockRaw(clients, lock('lk4', 0x7aff01n)));
      expect(unknown.ok === false && unknown.details).to.equal('etcdserver: requested lease not found');
      await pair.raw((clients) => rangeRaw(clients, RangeRequest.fromPartial({ key: Buffer.from('lk4/'), rangeEnd: Buffer.from('lk40') })));
    });

    it('Unlock of a key that does not exist answers as on etcd', async () => {
      const outcome = await pair.raw((clients) => unlockRaw(clients, unlock('lk4/nothing')));
      expect(outcome.ok).to.equal(true);
    });
  });

  describe('Election', function () {
    const leaderKeyOf = (leader: LeaderKey | undefined): LeaderKey => {
      if (leader === undefined) throw new Error('campaign answered without a leader key');
      return leader;
    };

    it('Leader with no leader fails as on etcd', async () => {
      const outcome = await pair.raw((clients) => leaderRaw(clients, LeaderRequest.fromPartial({ name: Buffer.from('el0') })));
      expect(outcome.ok).to.equal(false);
    });

    it('Campaign, Leader, Proclaim, Observe, a waiting Campaign, Resign', async () => {
      const etcd = await pair.same('election', async (side) => {
        await grantLeases(side, [0x7b01n, 0x7b02n]);
        const observe = new ObserveStream(side.clients, 'el1');
        try {
          const a = leaderKeyOf(responseOf(await campaignRaw(side.clients, CampaignRequest.fromPartial({ name: Buffer.from('el1'), lease: 0x7b01n, value: Buffer.from('a1') })), 'campaign a').leader);
          const observedA = normaliseMessage(await observe.responses.next());
          const leaderA = normaliseOutcome(await leaderRaw(side.clients, LeaderRequest.fromPartial({ name: Buffer.from('el1') })));
          const proclaimed = normaliseOutcome(await proclaimRaw(side.clients, ProclaimRequest.fromPartial({ leader: a, value: Buffer.from('a2') })));
          const observedA2 = normaliseMessage(await observe.responses.next());
          const leaderA2 = normaliseOutcome(await leaderRaw(side.clients, LeaderRequest.fromPartial({ name: Buffer.from('el1') })));
          const b = campaignRaw(side.clients, CampaignRequest.fromPartial({ name: Buffer.from('el1'), lease: 0x7b02n, value: Buffer.from('b1') }), waitingCallDeadlineMs);
          const bWaited = await stillPending(b, pendingCheckMs);
          const candidates = await rangePrefix(side, 'el1/');
          const resigned = normaliseOutcome(await resignRaw(side.clients, ResignRequest.fromPartial({ leader: a })));
          const bLeads = normaliseOutcome(await b);
          const observedB = normaliseMessage(await observe.responses.next());
          const leaderB = normaliseOutcome(await leaderRaw(side.clients, LeaderRequest.fromPartial({ name: Buffer.from('el1') })));
          return {
            a: normaliseMessage(a), observedA, leaderA, proclaimed, observedA2, leaderA2,
            bWaited, candidates, resigned, bLeads, observedB, leaderB,
            observedLater: (await observe.responses.quiet(200)).map(normaliseMessage),
          };
        } finally {
          observe.close();
          await revokeLeases(side, [0x7b01n, 0x7b02n]);
        }
      });
      expect(etcd.a).to.deep.include({ name: 'el1', key: 'el1/7b01', lease: String(0x7b01n) });
      expect(etcd.bWaited).to.equal(true);
      expect((etcd.observedB as { kv: { value: string } }).kv.value).to.equal('b1');
    });

    it('Proclaim by a non-leader, and by a leader that resigned, fail as on etcd', async () => {
      const etcd = await pair.same('Proclaim by a non-leader', async (side) => {
        await grantLeases(side, [0x7b03n, 0x7b04n]);
        try {
          const a = leaderKeyOf(responseOf(await campaignRaw(side.clients, CampaignRequest.fromPartial({ name: Buffer.from('el2'), lease: 0x7b03n, value: Buffer.from('a') })), 'campaign').leader);
          const notLeader = LeaderKey.fromPartial({ name: Buffer.from('el2'), key: Buffer.from('el2/7b04'), rev: a.rev + 1n, lease: 0x7b04n });
          const byStranger = normaliseOutcome(await proclaimRaw(side.clients, ProclaimRequest.fromPartial({ leader: notLeader, value: Buffer.from('x') })));
          const stillA = normaliseOutcome(await leaderRaw(side.clients, LeaderRequest.fromPartial({ name: Buffer.from('el2') })));
          responseOf(await resignRaw(side.clients, ResignRequest.fromPartial({ leader: a })), 'resign');
          const byResigned = normaliseOutcome(await proclaimRaw(side.clients, ProclaimRequest.fromPartial({ leader: a, value: Buffer.from('y') })));
          const noLeader = normaliseOutcome(await leaderRaw(side.clients, LeaderRequest.fromPartial({ name: Buffer.from('el2') })));
          const keys = await rangePrefix(side, 'el2/');
          return { byStranger, stillA, byResigned, noLeader, keys };
        } finally {
          await revokeLeases(side, [0x7b03n, 0x7b04n]);
        }
      });
      expect(etcd.byStranger).to.have.property('error');
      expect(etcd.byResigned).to.have.property('error');
    });

    it('Campaign with an unknown lease fails as on etcd', async () => {
      const unknown = await pair.raw((clients) => campaignRaw(clients, CampaignRequest.fromPartial({ name: Buffer.from('el3'), lease: 0x7bff01n, value: Buffer.from('v') })));
      expect(unknown.ok === false && unknown.details).to.equal('etcdserver: requested lease not found');
    });

    it('Resign and Proclaim without a leader key fail as on etcd', async () => {
      const resign = await pair.raw((clients) => resignRaw(clients, ResignRequest.fromPartial({})));
      expect(resign.ok).to.equal(false);
      const proclaim = await pair.raw((clients) => proclaimRaw(clients, ProclaimRequest.fromPartial({ value: Buffer.from('v') })));
      expect(proclaim.ok).to.equal(false);
    });
  });
});
