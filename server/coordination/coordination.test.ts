import { expect } from 'chai';
import { InternalRequest } from '../../proto/gen/cairnpb/internal.js';
import type { ResponseHeader } from '../../proto/gen/etcdserverpb/rpc.js';
import { AlarmSet } from '../alarm/alarms.js';
import { Applier } from '../apply/applier.js';
import { realClock } from '../clock.js';
import { LeaseTable } from '../lease/table.js';
import type { Proposal } from '../node/raft-node.js';
import { openTempStore, type TempStore } from '../testing/temp-store.js';
import { openAuthStore } from '../testing/auth.js';
import { WatchHub } from '../watch/hub.js';
import { CancellationSource, Coordination, type KvPath } from './coordination.js';
import { campaign, currentLeader, observe, proclaim, resign, type Leadership } from './election.js';
import { ElectionNoLeaderError, ElectionNotLeaderError, SessionExpiredError, WaitCancelledError } from './errors.js';
import { lock, unlock } from './lock.js';

const b = (text: string): Buffer => Buffer.from(text);


/** Whether `promise` has settled once pending callbacks and watch deliveries ran. */
async function settled(promise: Promise<unknown>): Promise<boolean> {
  let done = false;
  promise.then(
    () => (done = true),
    () => (done = true),
  );
  for (let turn = 0; turn < 5; turn++) await new Promise((resolve) => setImmediate(resolve));
  return done;
}

/**
 * The algorithms with no gRPC and no log: a KvPath that applies each proposal
 * at once to a real store (as a one-member cluster would once it commits) and
 * tells the watch hub, as the node's loop does.
 */
describe('coordination: Lock and Election over a KvPath', () => {
  let temp: TempStore;
  let hub: WatchHub;
  let coordination: Coordination;
  let nextLeaseId: bigint;
  let propose: (proposal: Proposal) => unknown;

  beforeEach(() => {
    temp = openTempStore();
    const leases = new LeaseTable(temp.backend, 1n);
    const applier = new Applier(temp.store, leases, new AlarmSet(temp.backend), openAuthStore(temp.backend));
    hub = new WatchHub(temp.store, realClock);
    nextLeaseId = 0x100n;
    const header = (found: ResponseHeader | undefined): ResponseHeader => ({ clusterId: 1n, memberId: 1n, revision: found?.revision ?? BigInt(temp.store.currentRevision), raftTerm: 1n });
    propose = (proposal) => {
      const result = temp.backend.transaction(() => applier.apply(InternalRequest.fromPartial({ id: 1n, ...proposal }), 1));
      hub.notify(temp.store.takeChanges());
      if (!result.ok) throw result.error;
      const response = result.response as { header?: ResponseHeader };
      return { ...response, header: header(response.header) };
    };
    const kv: KvPath = {
      admit: async () => {},
      propose: async <T>(proposal: Proposal) => propose(proposal) as T,
      range: (request) => applier.range(request),
      header,
      grantLease: async (ttlSeconds) => {
        const ID = nextLeaseId++;
        propose({ leaseGrant: { ID, TTL: ttlSeconds } });
        return ID;
      },
      txnOpsMax: 128,
      // These tests run without auth: every caller is the member itself.
      as: () => kv,
    };
    coordination = new Coordination(kv, hub, realClock);
  });

  afterEach(async () => {
    hub.close();
    await temp.remove();
  });

  const grant = (ID: bigint): bigint => {
    propose({ leaseGrant: { ID, TTL: 60n } });
    return ID;
  };

  it('Lock answers at once with <name>/<lease hex>; a second lock waits until Unlock deletes the first', async () => {
    const first = await lock(coordination, b('jobs'), grant(0xa1n), new CancellationSource());
    expect(first.key.toString()).to.equal('jobs/a1');
    const second = lock(coordination, b('jobs'), grant(0xa2n), new CancellationSource());
    expect(await settled(second)).to.equal(false);
    await unlock(coordination, first.key);
    expect((await second).key.toString()).to.equal('jobs/a2');
  });

  it('a Lock without a lease takes a fresh session lease', async () => {
    const held = await lock(coordination, b('jobs'), 0n, new CancellationSource());
    expect(held.key.toString()).to.equal('jobs/100');
  });

  it('a waiting Lock whose lease is revoked while queued is told its session expired', async () => {
    const first = await lock(coordination, b('jobs'), grant(0xa1n), new CancellationSource());
    const second = lock(coordination, b('jobs'), grant(0xa2n), new CancellationSource());
    expect(await settled(second)).to.equal(false);
    propose({ leaseRevoke: { ID: 0xa2n } });
    await unlock(coordination, first.key);
    let thrown: unknown;
    await second.catch((error: unknown) => (thrown = error));
    expect(thrown).to.be.instanceOf(SessionExpiredError);
  });

  it('a cancelled Lock wait throws WaitCancelledError and leaves the queue', async () => {
    await lock(coordination, b('jobs'), grant(0xa1n), new CancellationSource());
    const cancellation = new CancellationSource();
    const second = lock(coordination, b('jobs'), grant(0xa2n), cancellation);
    expect(await settled(second)).to.equal(false);
    cancellation.cancel();
    let thrown: unknown;
    await second.catch((error: unknown) => (thrown = error));
    expect(thrown).to.be.instanceOf(WaitCancelledError);
    expect(coordination.get('jobs/a2')).to.equal(undefined);
  });

  it('Campaign, Leader, Proclaim, a waiting Campaign, Resign; a stale leader key may not proclaim', async () => {
    expect(() => currentLeader(coordination, b('e'))).to.throw(ElectionNoLeaderError);
    const elected = await campaign(coordination, b('e'), b('v1'), grant(0xb1n), new CancellationSource());
    expect(elected.leader.key.toString()).to.equal('e/b1');
    expect(currentLeader(coordination, b('e')).kv.value.toString()).to.equal('v1');
    await proclaim(coordination, elected.leader, b('v2'));
    expect(currentLeader(coordination, b('e')).kv.value.toString()).to.equal('v2');
    const waiting = campaign(coordination, b('e'), b('w'), grant(0xb2n), new CancellationSource());
    expect(await settled(waiting)).to.equal(false);
    await resign(coordination, elected.leader);
    expect((await waiting).leader.key.toString()).to.equal('e/b2');
    let thrown: unknown;
    await proclaim(coordination, elected.leader, b('v3')).catch((error: unknown) => (thrown = error));
    expect(thrown).to.be.instanceOf(ElectionNotLeaderError);
  });

  it('Observe streams the leader, each value it proclaims, then the next leader, until cancelled', async () => {
    const seen: string[] = [];
    const cancellation = new CancellationSource();
    const observing = observe(coordination, b('e'), cancellation, (leadership: Leadership) => seen.push(`${leadership.kv.key.toString()}=${leadership.kv.value.toString()}`));
    // Steps a turn apart: a wait that found its event finishes a turn later, and watchUntil
    // hands it any put to the prefix that lands in between (so a candidate's put could be taken
    // for the leader's); what this checks is the order of what Observe sends.
    const first = await campaign(coordination, b('e'), b('v1'), grant(0xc1n), new CancellationSource());
    await settled(observing);
    await proclaim(coordination, first.leader, b('v2'));
    await settled(observing);
    const next = campaign(coordination, b('e'), b('w1'), grant(0xc2n), new CancellationSource());
    await settled(next);
    await resign(coordination, first.leader);
    await next;
    await settled(observing);
    cancellation.cancel();
    let thrown: unknown;
    await observing.catch((error: unknown) => (thrown = error));
    expect(thrown).to.be.instanceOf(WaitCancelledError);
    expect(seen).to.deep.equal(['e/c1=v1', 'e/c1=v2', 'e/c2=w1']);
  });
});
