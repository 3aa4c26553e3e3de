// Requests a careless or hostile client may send, side by side on etcd and
// cairn: every one gets etcd's answer (its gRPC code and exact message, or
// the same response), and neither server loses a member or a write over it.
// After each case both servers must still take a put and read it back.
import { expect } from 'chai';
import { credentials, status } from '@grpc/grpc-js';
import {
  ClusterClient,
  MemberListRequest,
  MemberUpdateRequest,
  type MemberListResponse,
  CompactionRequest,
  Compare,
  HashKVRequest,
  LeaseGrantRequest,
  LeaseRevokeRequest,
  LeaseTimeToLiveRequest,
  PutRequest,
  RangeRequest,
  RequestOp,
  TxnRequest,
  type WatchResponse,
} from '../../proto/gen/etcdserverpb/rpc.js';
import { CampaignRequest, LeaderRequest, ProclaimRequest, ResignRequest } from '../../proto/gen/v3electionpb/v3election.js';
import { LockRequest, UnlockRequest } from '../../proto/gen/v3lockpb/v3lock.js';
import { normaliseMessage } from './normalise.js';
import { compatPair, normaliseOutcome, type PairSide, type RawCall } from './pair.js';
import {
  campaignRaw,
  compactRaw,
  hashKvRaw,
  leaderRaw,
  leaseGrantRaw,
  leaseRevokeRaw,
  leaseTimeToLiveRaw,
  lockRaw,
  proclaimRaw,
  putRaw,
  rangeRaw,
  resignRaw,
  responseOf,
  txnRaw,
  unary,
  unlockRaw,
} from './rpc.js';
import { WatchStream } from './streams.js';

const huge = 1n << 62n;
const bytes = (text: string): Buffer => Buffer.from(text);

/** A txn nested `depth` levels deep, one op per level, a put at the bottom. */
function nestedTxn(depth: number): TxnRequest {
  let request = TxnRequest.fromPartial({ success: [RequestOp.fromPartial({ requestPut: { key: bytes('bad/nested'), value: bytes('v') } })] });
  for (let level = 1; level < depth; level++) request = TxnRequest.fromPartial({ success: [RequestOp.fromPartial({ requestTxn: request })] });
  return request;
}

/** The unary requests, each compared as etcd answers it. */
const unaryCases: Array<[string, RawCall<unknown>]> = [
  ['Range at revision -1 reads the current revision', (c) => rangeRaw(c, RangeRequest.fromPartial({ key: bytes('bad/k'), revision: -1n }))],
  ['Range at a huge revision is a future revision', (c) => rangeRaw(c, RangeRequest.fromPartial({ key: bytes('bad/k'), revision: huge }))],
  ['Range with a negative limit returns everything', (c) => rangeRaw(c, RangeRequest.fromPartial({ key: bytes('bad/'), rangeEnd: bytes('bad0'), limit: -1n }))],
  ['Range with range_end before key returns nothing', (c) => rangeRaw(c, RangeRequest.fromPartial({ key: bytes('bad/z'), rangeEnd: bytes('bad/a') }))],
  ['Range with negative revision filters', (c) =>
    rangeRaw(c, RangeRequest.fromPartial({ key: bytes('bad/'), rangeEnd: bytes('bad0'), minModRevision: -5n, maxModRevision: -1n, minCreateRevision: -3n, maxCreateRevision: -2n }))],
  ['Range with unknown sort order and target', (c) => rangeRaw(c, RangeRequest.fromPartial({ key: bytes('bad/'), rangeEnd: bytes('bad0'), sortOrder: 7 as never, sortTarget: 9 as never }))],
  ['Range with an empty key', (c) => rangeRaw(c, RangeRequest.fromPartial({ key: Buffer.alloc(0), rangeEnd: bytes('z') }))],
  ['Put with lease -1', (c) => putRaw(c, PutRequest.fromPartial({ key: bytes('bad/k'), value: bytes('v'), lease: -1n }))],
  ['Put with an unknown huge lease', (c) => putRaw(c, PutRequest.fromPartial({ key: bytes('bad/k'), value: bytes('v'), lease: huge }))],
  ['Put of 1.6 MiB (over --max-request-bytes, under gRPC\'s limit)', (c) => putRaw(c, PutRequest.fromPartial({ key: bytes('bad/big'), value: Buffer.alloc(1_677_722, 1) }))],
  ['Txn nested 32 deep', (c) => txnRaw(c, nestedTxn(32))],
  ['Txn nested 200 deep', (c) => txnRaw(c, nestedTxn(200))],
  ['Txn compare with an unknown target and result', (c) =>
    txnRaw(c, TxnRequest.fromPartial({ compare: [Compare.fromPartial({ key: bytes('bad/k'), target: 9 as never, result: 9 as never, version: 1n })] }))],
  ['Txn compare with a negative version', (c) =>
    txnRaw(c, TxnRequest.fromPartial({ compare: [Compare.fromPartial({ key: bytes('bad/k'), version: -1n })], success: [], failure: [] }))],
  ['Compact at revision -1', (c) => compactRaw(c, CompactionRequest.fromPartial({ revision: -1n }))],
  ['Compact at a huge revision', (c) => compactRaw(c, CompactionRequest.fromPartial({ revision: huge }))],
  ['HashKV at revision -1', (c) => hashKvRaw(c, HashKVRequest.fromPartial({ revision: -1n }))],
  ['HashKV at a huge revision', (c) => hashKvRaw(c, HashKVRequest.fromPartial({ revision: huge }))],
  ['LeaseGrant with TTL -1', (c) => leaseGrantRaw(c, LeaseGrantRequest.fromPartial({ ID: 0x5a01n, TTL: -1n }))],
  ['LeaseGrant with a huge TTL', (c) => leaseGrantRaw(c, LeaseGrantRequest.fromPartial({ ID: 0x5a02n, TTL: huge }))],
  ['LeaseGrant with ID -1', (c) => leaseGrantRaw(c, LeaseGrantRequest.fromPartial({ ID: -1n, TTL: 30n }))],
  ['LeaseRevoke of ID -1', (c) => leaseRevokeRaw(c, LeaseRevokeRequest.fromPartial({ ID: -1n }))],
  ['LeaseRevoke of ID 0', (c) => leaseRevokeRaw(c, LeaseRevokeRequest.fromPartial({ ID: 0n }))],
  ['LeaseTimeToLive of ID -1', (c) => leaseTimeToLiveRaw(c, LeaseTimeToLiveRequest.fromPartial({ ID: -1n, keys: true }))],
  ['Unlock with an empty key', (c) => unlockRaw(c, UnlockRequest.fromPartial({ key: Buffer.alloc(0) }))],
  ['Lock with an empty name', (c) => lockRaw(c, LockRequest.fromPartial({ name: Buffer.alloc(0), lease: 0x5a03n }))],
  ['Lock with lease -1', (c) => lockRaw(c, LockRequest.fromPartial({ name: bytes('bad/lock'), lease: -1n }))],
  ['Campaign with lease -1', (c) => campaignRaw(c, CampaignRequest.fromPartial({ name: bytes('bad/elect'), lease: -1n, value: bytes('v') }))],
  ['Leader of an empty name', (c) => leaderRaw(c, LeaderRequest.fromPartial({ name: Buffer.alloc(0) }))],
  ['Proclaim with an empty leader key', (c) =>
    proclaimRaw(c, ProclaimRequest.fromPartial({ leader: { name: bytes('bad/elect'), key: Buffer.alloc(0), rev: 1n, lease: 1n }, value: bytes('v') }))],
  ['Proclaim with no leader', (c) => proclaimRaw(c, ProclaimRequest.fromPartial({ value: bytes('v') }))],
  ['Resign with an empty leader key', (c) => resignRaw(c, ResignRequest.fromPartial({ leader: { name: bytes('bad/elect'), key: Buffer.alloc(0), rev: 1n, lease: 1n } }))],
  ['Resign with no leader', (c) => resignRaw(c, ResignRequest.fromPartial({}))],
];

async function memberList(cluster: ClusterClient): Promise<MemberListResponse> {
  return responseOf(await unary((metadata, options, done) => cluster.memberList(MemberListRequest.fromPartial({}), metadata, options, done)), 'member list');
}

/** Puts and reads back one key: the server is alive and still takes writes. */
async function takesWrites(side: PairSide, value: string): Promise<void> {
  const put = responseOf(await putRaw(side.clients, PutRequest.fromPartial({ key: bytes('bad/alive'), value: bytes(value) })), `${side.name}: put after the case`);
  const read = responseOf(await rangeRaw(side.clients, RangeRequest.fromPartial({ key: bytes('bad/alive') })), `${side.name}: range after the case`);
  expect(read.kvs[0]?.value.toString(), `${side.name} reads its put back`).to.equal(value);
  expect(read.kvs[0]?.modRevision).to.equal(put.header?.revision);
}

/** The watch responses of a scenario as comparable data (headers normalised). */
function watchShapes(responses: WatchResponse[]): unknown[] {
  return responses.map((response) => normaliseMessage(response));
}

describe('compat: hostile and careless client input', function () {
  const pair = compatPair();

  before(async () => {
    await pair.putAll([['bad/a', '1'], ['bad/k', '2'], ['bad/z', '3']]);
  });

  for (const [name, call] of unaryCases) {
    it(name, async () => {
      await pair.raw(call);
      await pair.both((side) => takesWrites(side, name));
    });
  }

  // etcd takes up to 127 levels (each spends one of --max-txn-ops); cairn stops at 32 (docs/failure-policy.md).
  for (const depth of [33, 60, 1_000]) {
    it(`Txn nested ${depth} deep: cairn answers as etcd does past its nesting bound`, async () => {
      await pair.both(async (side) => {
        if (side.name === 'cairn') {
          const outcome = normaliseOutcome(await txnRaw(side.clients, nestedTxn(depth)));
          expect(outcome).to.deep.equal({ error: { code: 'INVALID_ARGUMENT', details: 'etcdserver: too many operations in txn request' } });
        }
        await takesWrites(side, `nested ${depth}`);
      });
    });
  }

  it('a message over gRPC\'s limit is refused from its length prefix (RESOURCE_EXHAUSTED), before it is read whole', async () => {
    const [etcd, cairn] = await pair.both(async (side) => {
      const outcome = await putRaw(side.clients, PutRequest.fromPartial({ key: bytes('bad/huge'), value: Buffer.alloc(8 * 1024 * 1024, 1) }));
      await takesWrites(side, 'huge put');
      return outcome.ok ? 'accepted' : status[outcome.code];
    });
    expect(etcd).to.equal('RESOURCE_EXHAUSTED');
    expect(cairn).to.equal(etcd);
  });

  it('MemberUpdate with URLs etcd cannot parse is refused before it is proposed (etcd 3.4 accepts it, then panics)', async () => {
    const cluster = new ClusterClient(pair.cairn.endpoint, credentials.createInsecure());
    try {
      const listed = await memberList(cluster);
      const self = listed.members[0];
      for (const peerURLs of [['not a url'], ['http://'], [], ['http://127.0.0.1'], ['http://127.0.0.1:2380/path']]) {
        const outcome = normaliseOutcome(await unary((metadata, options, done) => cluster.memberUpdate(MemberUpdateRequest.fromPartial({ ID: self?.ID, peerURLs }), metadata, options, done)));
        expect(outcome, JSON.stringify(peerURLs)).to.deep.equal({ error: { code: 'INVALID_ARGUMENT', details: 'etcdserver: given member URLs are invalid' } });
      }
      expect((await memberList(cluster)).members).to.deep.equal(listed.members);
      await pair.both((side) => takesWrites(side, 'member update'));
    } finally {
      cluster.close();
    }
  });

  it('Watch from revision -1 is created; the stream and the server go on', async () => {
    const etcd = await pair.same('watch from -1', async (side) => {
      const stream = new WatchStream(side.clients, `${side.name} watch from -1`);
      try {
        stream.create({ key: bytes('bad/w'), startRevision: -1n });
        const created = await stream.next();
        const early = await stream.responses.quiet(300);
        responseOf(await putRaw(side.clients, PutRequest.fromPartial({ key: bytes('bad/w'), value: bytes('x') })), 'put bad/w');
        const later = await stream.responses.quiet(500);
        return { created: normaliseMessage(created), early: watchShapes(early), later: watchShapes(later) };
      } finally {
        stream.close();
      }
    });
    expect(etcd.created).to.deep.include({ created: true });
    await pair.both((side) => takesWrites(side, 'watch -1'));
  });

  it('Watch from revision -1 once history was compacted is cancelled with compact_revision', async () => {
    const revision = await pair.put('bad/w', 'before compaction');
    await pair.raw((c) => compactRaw(c, CompactionRequest.fromPartial({ revision })));
    const etcd = await pair.same('watch from -1 after a compaction', async (side) => {
      const stream = new WatchStream(side.clients, `${side.name} watch from -1 after compaction`);
      try {
        stream.create({ key: bytes('bad/w'), startRevision: -1n });
        const responses = [await stream.next(), await stream.next()];
        return watchShapes(responses);
      } finally {
        stream.close();
      }
    });
    expect(etcd[1]).to.deep.include({ canceled: true, compactRevision: String(revision) });
    await pair.both((side) => takesWrites(side, 'watch -1 compacted'));
  });

  it('Watch from a huge revision waits for it; the stream and the server go on', async () => {
    await pair.same('watch from a huge revision', async (side) => {
      const stream = new WatchStream(side.clients, `${side.name} watch from huge`);
      try {
        stream.create({ key: bytes('bad/w'), startRevision: huge });
        const created = await stream.next();
        responseOf(await putRaw(side.clients, PutRequest.fromPartial({ key: bytes('bad/w'), value: bytes('y') })), 'put bad/w');
        const later = await stream.responses.quiet(500);
        return { created: normaliseMessage(created), later: watchShapes(later) };
      } finally {
        stream.close();
      }
    });
    await pair.both((side) => takesWrites(side, 'watch huge'));
  });
});
