// etcdctl lease commands, `put --lease` and raw Lease RPCs, side by side on
// etcd and cairn; lease IDs chosen by the servers differ and are named in
// order of first sight (lease-ids.ts). Raw calls use client-chosen IDs where
// they can, so that requests and answers are byte-for-byte the same.
//
// Both servers run with the default election timeout (1000 ms), so the
// minimum lease TTL is ceil(1.5 × 1 s) = 2 s on both.
import { expect } from 'chai';
import { status } from '@grpc/grpc-js';
import {
  LeaseGrantRequest,
  LeaseLeasesRequest,
  LeaseRevokeRequest,
  LeaseTimeToLiveRequest,
  PutRequest,
  RangeRequest,
} from '../../proto/gen/etcdserverpb/rpc.js';
import { etcdctl, type EtcdctlResult } from '../harness/etcdctl.js';
import { expectSameLeaseRuns, grantedLeaseId, LeaseNames, normaliseLeaseRun, type LeaseRun } from './lease-ids.js';
import { normaliseMessage } from './normalise.js';
import { compatPair, normaliseOutcome, type PairSide } from './pair.js';
import { leaseGrantRaw, leaseLeasesRaw, leaseRevokeRaw, leaseTimeToLiveRaw, putRaw, rangeRaw, responseOf } from './rpc.js';
import { KeepAliveStream, WatchStream } from './streams.js';

const minLeaseTtlSeconds = 2n;
const maxLeaseTtlSeconds = 9_000_000_000n;
/** A lease ID neither server has granted. */
const unknownLeaseHex = '00000000000a0b0c';

/** etcdctl takes and prints lease IDs as 16 hex digits. */
const hex = (id: bigint): string => id.toString(16).padStart(16, '0');

/** Runs etcdctl on one side and names the lease IDs it prints. */
function leaseCtl(side: PairSide, names: LeaseNames) {
  return async (args: string[]): Promise<{ raw: EtcdctlResult; run: LeaseRun }> => {
    const raw = await etcdctl(side.server.endpoint, args);
    return { raw, run: normaliseLeaseRun(raw, side.server.endpoint, args, names) };
  };
}

const grant = (ttl: bigint, id = 0n) => LeaseGrantRequest.fromPartial({ TTL: ttl, ID: id });
const revoke = (id: bigint) => LeaseRevokeRequest.fromPartial({ ID: id });

describe('compat: leases', function () {
  const pair = compatPair();

  it('lease grant prints the granted TTL (simple and JSON); the ID is the server\'s', async () => {
    const [etcd, cairn] = await pair.both(async (side) => {
      const names = new LeaseNames();
      const run = leaseCtl(side, names);
      const simple = await run(['lease', 'grant', '60']);
      const json = await run(['lease', 'grant', '120', '-w', 'json']);
      const jsonId = BigInt(/"ID":(\d+)/.exec(json.raw.stdout)?.[1] ?? '0');
      const ttl = await run(['lease', 'timetolive', hex(jsonId)]);
      const revoked: LeaseRun[] = [];
      for (const id of [grantedLeaseId(simple.raw.stdout), jsonId]) revoked.push((await run(['lease', 'revoke', hex(id)])).run);
      return [simple.run, json.run, ttl.run, ...revoked];
    });
    expect(etcd[0]?.stdout).to.deep.equal(['lease <lease 1> granted with TTL(60s)']);
    expect(etcd[3]?.stdout).to.deep.equal(['lease <lease 1> revoked']);
    expectSameLeaseRuns('lease grant / timetolive / revoke', etcd, cairn);
  });

  it('a TTL below the minimum is raised to it (etcdctl and raw, TTL 1, 0, -5)', async () => {
    const [etcd, cairn] = await pair.both(async (side) => {
      const names = new LeaseNames();
      const run = leaseCtl(side, names);
      const runs = [];
      for (const ttl of ['1', '0']) {
        const granted = await run(['lease', 'grant', ttl]);
        runs.push(granted.run);
        await run(['lease', 'revoke', hex(grantedLeaseId(granted.raw.stdout))]);
      }
      const raw = [];
      for (const [id, ttl] of [[0x6d01n, 1n], [0x6d02n, 0n], [0x6d03n, -5n]] as const) {
        raw.push(normaliseOutcome(await leaseGrantRaw(side.clients, grant(ttl, id))));
        responseOf(await leaseRevokeRaw(side.clients, revoke(id)), 'revoke');
      }
      return { runs, raw };
    });
    expect(etcd.runs[0]?.stdout).to.deep.equal([`lease <lease 1> granted with TTL(${minLeaseTtlSeconds}s)`]);
    const rawTtls = etcd.raw.map((outcome) => (outcome as { response?: { TTL?: string } }).response?.TTL);
    expect(rawTtls).to.deep.equal([minLeaseTtlSeconds, minLeaseTtlSeconds, minLeaseTtlSeconds].map(String));
    expectSameLeaseRuns('lease grant below the minimum', etcd.runs, cairn.runs);
    expect(cairn.raw, 'raw LeaseGrant below the minimum: cairn (actual) vs etcd (expected)').to.deep.equal(etcd.raw);
  });

  it('a TTL above 9,000,000,000 s is OutOfRange "too large lease TTL"; exactly the maximum is granted', async () => {
    const tooLarge = await pair.etcdctl(['lease', 'grant', String(maxLeaseTtlSeconds + 1n)]);
    expect(tooLarge.stderr).to.include('etcdserver: too large lease TTL');
    const outcome = await pair.raw((clients) => leaseGrantRaw(clients, grant(maxLeaseTtlSeconds + 1n, 0x6d10n)));
    expect(outcome.ok).to.equal(false);
    if (!outcome.ok) {
      expect(outcome.code).to.equal(status.OUT_OF_RANGE);
      expect(outcome.details).to.equal('etcdserver: too large lease TTL');
    }
    const largest = await pair.raw((clients) => leaseGrantRaw(clients, grant(maxLeaseTtlSeconds, 0x6d11n)));
    expect(largest.ok && largest.response.TTL).to.equal(maxLeaseTtlSeconds);
    await pair.raw((clients) => leaseRevokeRaw(clients, revoke(0x6d11n)));
  });

  it('granting a client-chosen ID twice is FailedPrecondition "lease already exists", and keeps the first lease', async () => {
    const first = await pair.raw((clients) => leaseGrantRaw(clients, grant(30n, 0x6d20n)));
    expect(first.ok && first.response.ID).to.equal(0x6d20n);
    const again = await pair.raw((clients) => leaseGrantRaw(clients, grant(90n, 0x6d20n)));
    expect(again.ok).to.equal(false);
    if (!again.ok) {
      expect(again.code).to.equal(status.FAILED_PRECONDITION);
      expect(again.details).to.equal('etcdserver: lease already exists');
    }
    const ttl = await pair.raw((clients) => leaseTimeToLiveRaw(clients, LeaseTimeToLiveRequest.fromPartial({ ID: 0x6d20n })));
    expect(ttl.ok && ttl.response.grantedTTL).to.equal(30n);
    await pair.raw((clients) => leaseRevokeRaw(clients, revoke(0x6d20n)));
  });

  it('put --lease attaches keys; lease timetolive with and without --keys (simple and JSON)', async () => {
    const [etcd, cairn] = await pair.both(async (side) => {
      const names = new LeaseNames();
      const run = leaseCtl(side, names);
      const granted = await run(['lease', 'grant', '300']);
      const id = hex(grantedLeaseId(granted.raw.stdout));
      const runs = [granted.run];
      for (const key of ['lt/b', 'lt/a', 'lt/c']) runs.push((await run(['put', `--lease=${id}`, key, `v-${key}`])).run);
      runs.push((await run(['get', 'lt/', '--prefix', '-w', 'json'])).run);
      runs.push((await run(['lease', 'timetolive', id])).run);
      runs.push((await run(['lease', 'timetolive', id, '--keys'])).run);
      runs.push((await run(['lease', 'timetolive', id, '-w', 'json'])).run);
      runs.push((await run(['lease', 'timetolive', id, '--keys', '-w', 'json'])).run);
      runs.push((await run(['lease', 'revoke', id])).run);
      return runs;
    });
    expect(etcd[5]?.stdout).to.deep.equal(['lease <lease 1> granted with TTL(300s), remaining(<ttl>)']);
    expect(etcd[6]?.stdout).to.deep.equal(['lease <lease 1> granted with TTL(300s), remaining(<ttl>), attached keys([lt/a lt/b lt/c])']);
    expectSameLeaseRuns('put --lease, lease timetolive', etcd, cairn);
  });

  it('lease revoke deletes every attached key in one revision (one watch response)', async () => {
    const [etcd, cairn] = await pair.both(async (side) => {
      const names = new LeaseNames();
      const run = leaseCtl(side, names);
      const granted = await run(['lease', 'grant', '300']);
      const id = hex(grantedLeaseId(granted.raw.stdout));
      for (const key of ['lr/a', 'lr/b', 'lr/c']) await run(['put', `--lease=${id}`, key, '1']);
      const watch = new WatchStream(side.clients);
      try {
        watch.create({ key: Buffer.from('lr/'), rangeEnd: Buffer.from('lr0') });
        const created = await watch.next();
        const revoked = await run(['lease', 'revoke', id]);
        const deletes = await watch.next();
        const after = await run(['get', 'lr/', '--prefix', '-w', 'json']);
        const ttl = await run(['lease', 'timetolive', id]);
        return { created: normaliseMessage(created), runs: [revoked.run, after.run, ttl.run], deletes: normaliseMessage(deletes) };
      } finally {
        watch.close();
      }
    });
    const deletes = etcd.deletes as { header: { revision: string }; events: Array<{ type: number; kv: { key: string; modRevision: string } }> };
    expect(deletes.events.map((event) => [event.type, event.kv.key, event.kv.modRevision])).to.deep.equal(
      ['lr/a', 'lr/b', 'lr/c'].map((key) => [1, key, deletes.header.revision]),
    );
    expect(cairn.deletes, 'the watch response for the revoke: cairn (actual) vs etcd (expected)').to.deep.equal(etcd.deletes);
    expect(cairn.created).to.deep.equal(etcd.created);
    expectSameLeaseRuns('lease revoke', etcd.runs, cairn.runs);
  });

  it('lease list (simple and JSON) lists every lease', async () => {
    const [etcd, cairn] = await pair.both(async (side) => {
      const names = new LeaseNames();
      const run = leaseCtl(side, names);
      const ids = [];
      for (const ttl of ['100', '10', '50']) ids.push(grantedLeaseId((await run(['lease', 'grant', ttl])).raw.stdout));
      const runs = [(await run(['lease', 'list'])).run, (await run(['lease', 'list', '-w', 'json'])).run];
      for (const id of ids) await run(['lease', 'revoke', hex(id)]);
      runs.push((await run(['lease', 'list'])).run);
      return runs;
    });
    expect(etcd[0]?.stdout[0]).to.equal('found 3 leases');
    expect(etcd[2]?.stdout).to.deep.equal(['found 0 leases']);
    expectSameLeaseRuns('lease list', etcd, cairn);
  });

  it('lease keep-alive --once (simple and JSON); raw keep-alive answers the granted TTL', async () => {
    const [etcd, cairn] = await pair.both(async (side) => {
      const names = new LeaseNames();
      const run = leaseCtl(side, names);
      const granted = await run(['lease', 'grant', '30']);
      const id = grantedLeaseId(granted.raw.stdout);
      const runs = [(await run(['lease', 'keep-alive', '--once', hex(id)])).run, (await run(['lease', 'keep-alive', '--once', hex(id), '-w', 'json'])).run];
      const stream = new KeepAliveStream(side.clients);
      try {
        const answer = await stream.keepAlive(id);
        const named = { ...answer, ID: names.name(answer.ID) };
        await run(['lease', 'revoke', hex(id)]);
        return { runs, raw: normaliseMessage(named) };
      } finally {
        stream.close();
      }
    });
    expect(etcd.runs[0]?.stdout).to.deep.equal(['lease <lease 1> keepalived with TTL(30)']);
    expectSameLeaseRuns('lease keep-alive --once', etcd.runs, cairn.runs);
    expect(cairn.raw, 'raw LeaseKeepAlive: cairn (actual) vs etcd (expected)').to.deep.equal(etcd.raw);
  });

  it('an unknown lease: put --lease, revoke and keep-alive fail as on etcd; timetolive says "already expired" (TTL -1)', async () => {
    const put = await pair.etcdctl(['put', `--lease=${unknownLeaseHex}`, 'lu/a', '1']);
    expect(put.stderr).to.include('Error: etcdserver: requested lease not found');
    await pair.etcdctl(['get', 'lu/a', '-w', 'json']);
    const revoked = await pair.etcdctl(['lease', 'revoke', unknownLeaseHex]);
    expect(revoked.stderr).to.include('Error: failed to revoke lease (etcdserver: requested lease not found)');
    const ttl = await pair.etcdctl(['lease', 'timetolive', unknownLeaseHex]);
    expect(ttl.stdout).to.equal(`lease ${unknownLeaseHex} already expired\n`);
    await pair.etcdctl(['lease', 'timetolive', unknownLeaseHex, '--keys']);
    // -w json prints the header flat, which pair.etcdctl does not normalise: compare through lease-ids.ts.
    const [etcd, cairn] = await pair.both(async (side) => [(await leaseCtl(side, new LeaseNames())(['lease', 'timetolive', unknownLeaseHex, '-w', 'json'])).run]);
    expect(etcd[0]?.remaining).to.deep.equal([-1]);
    expectSameLeaseRuns('lease timetolive -w json of an unknown lease', etcd, cairn);
    const keepAlive = await pair.etcdctl(['lease', 'keep-alive', '--once', unknownLeaseHex]);
    expect(keepAlive.code).to.not.equal(0);
  });

  it('an unknown lease over raw gRPC: Put NotFound, Revoke NotFound, TimeToLive TTL -1, KeepAlive TTL 0', async () => {
    const id = BigInt(`0x${unknownLeaseHex}`);
    const put = await pair.raw((clients) => putRaw(clients, PutRequest.fromPartial({ key: Buffer.from('lu/raw'), value: Buffer.from('1'), lease: id })));
    expect(put.ok === false && put.code).to.equal(status.NOT_FOUND);
    const revoked = await pair.raw((clients) => leaseRevokeRaw(clients, revoke(id)));
    expect(revoked.ok === false && revoked.details).to.equal('etcdserver: requested lease not found');
    const ttl = await pair.raw((clients) => leaseTimeToLiveRaw(clients, LeaseTimeToLiveRequest.fromPartial({ ID: id, keys: true })));
    expect(ttl.ok && ttl.response.TTL).to.equal(-1n);
    await pair.same('raw LeaseKeepAlive of an unknown lease', async (side) => {
      const stream = new KeepAliveStream(side.clients);
      try {
        const answer = await stream.keepAlive(id);
        expect(answer.TTL, `${side.name}: keep-alive TTL of an unknown lease`).to.equal(0n);
        return normaliseMessage(answer);
      } finally {
        stream.close();
      }
    });
  });

  it('raw LeaseLeases and LeaseTimeToLive with keys, for client-chosen IDs', async () => {
    await pair.raw((clients) => leaseGrantRaw(clients, grant(60n, 0x6d30n)));
    await pair.raw((clients) => putRaw(clients, PutRequest.fromPartial({ key: Buffer.from('lk/x'), value: Buffer.from('1'), lease: 0x6d30n })));
    const leases = await pair.raw((clients) => leaseLeasesRaw(clients, LeaseLeasesRequest.fromPartial({})));
    expect(leases.ok && leases.response.leases.map((lease) => lease.ID)).to.deep.equal([0x6d30n]);
    const [etcd, cairn] = await pair.both(async (side) => {
      const answer = responseOf(await leaseTimeToLiveRaw(side.clients, LeaseTimeToLiveRequest.fromPartial({ ID: 0x6d30n, keys: true })), 'timetolive');
      return { ...answer, TTL: Number(answer.TTL) };
    });
    expect(Math.abs(cairn.TTL - etcd.TTL), `remaining TTL: cairn ${cairn.TTL} s vs etcd ${etcd.TTL} s`).to.be.at.most(1);
    expect(normaliseMessage({ ...cairn, TTL: 0 })).to.deep.equal(normaliseMessage({ ...etcd, TTL: 0 }));
    await pair.raw((clients) => leaseRevokeRaw(clients, revoke(0x6d30n)));
    await pair.raw((clients) => rangeRaw(clients, RangeRequest.fromPartial({ key: Buffer.from('lk/x') })));
  });

  describe('expiry with real time', function () {
    /** TTL 2 s; etcd checks expiry every 500 ms and revokes through raft: keys are gone well within this. */
    const expiryWaitMsMax = 8_000;
    const ttlSeconds = 2n;

    it('keys of a lease that is not kept alive vanish in one revision; a kept-alive lease keeps its key', async () => {
      const [etcd, cairn] = await pair.both(async (side) => {
        const expiring = 0x6e01n;
        const kept = 0x6e02n;
        for (const id of [expiring, kept]) responseOf(await leaseGrantRaw(side.clients, grant(ttlSeconds, id)), 'grant');
        const putWith = async (key: string, lease: bigint) =>
          responseOf(await putRaw(side.clients, PutRequest.fromPartial({ key: Buffer.from(key), value: Buffer.from('1'), lease })), 'put');
        await putWith('le/a', expiring);
        await putWith('le/b', expiring);
        const lastPut = await putWith('le/kept', kept);
        const keepAlive = new KeepAliveStream(side.clients);
        const startedMs = Date.now();
        let keptAlive = 0;
        const keeper = setInterval(() => {
          void keepAlive.keepAlive(kept).then(() => keptAlive++, () => undefined);
        }, 500);
        try {
          let range;
          for (;;) {
            range = responseOf(await rangeRaw(side.clients, RangeRequest.fromPartial({ key: Buffer.from('le/'), rangeEnd: Buffer.from('le0') })), 'range');
            const expiringLeft = range.kvs.filter((kv) => kv.lease === expiring).length;
            if (expiringLeft === 0 || Date.now() - startedMs > expiryWaitMsMax) break;
            await new Promise((resolve) => setTimeout(resolve, 100));
          }
          const vanishedAfterMs = Date.now() - startedMs;
          // Outlive the kept lease's TTL by a margin, then look again.
          await new Promise((resolve) => setTimeout(resolve, Math.max(0, 3_500 - vanishedAfterMs)));
          const later = responseOf(await rangeRaw(side.clients, RangeRequest.fromPartial({ key: Buffer.from('le/'), rangeEnd: Buffer.from('le0') })), 'range');
          const expired = responseOf(await leaseTimeToLiveRaw(side.clients, LeaseTimeToLiveRequest.fromPartial({ ID: expiring })), 'timetolive');
          return {
            vanishedAfterMs,
            keptAlive,
            // One revision for both deletes: the revision moved by exactly one since the last put.
            revisionsSinceLastPut: Number((range.header?.revision ?? 0n) - (lastPut.header?.revision ?? 0n)),
            remaining: normaliseMessage(range.kvs),
            later: normaliseMessage(later.kvs),
            expired: normaliseMessage(expired),
          };
        } finally {
          clearInterval(keeper);
          keepAlive.close();
          await leaseRevokeRaw(side.clients, revoke(kept));
        }
      });
      for (const [name, side] of [['etcd', etcd], ['cairn', cairn]] as const) {
        expect(side.vanishedAfterMs, `${name}: the keys vanished after ${side.vanishedAfterMs} ms`).to.be.within(1_000, expiryWaitMsMax);
        expect(side.keptAlive, `${name}: keep-alives answered`).to.be.at.least(4);
      }
      const observed = ({ vanishedAfterMs: _, keptAlive: __, ...rest }: typeof etcd) => rest;
      expect(etcd.revisionsSinceLastPut).to.equal(1);
      expect(observed(cairn), 'lease expiry: cairn (actual) vs etcd (expected)').to.deep.equal(observed(etcd));
    });
  });
});
