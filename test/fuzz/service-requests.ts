// Arbitraries for the unary calls of the Lease, Maintenance, Cluster, Lock
// and Election services.
//
// What is never generated, because it would change the target legitimately
// and so hide what the fuzzer looks for: MemberRemove of a real member, a
// MemberAdd or MemberUpdate with a URL that is valid and new (it would add
// or move a member), and Alarm ACTIVATE of NOSPACE or CORRUPT (they stop
// writes by design). Real member IDs appear only in requests that must be
// refused: MemberPromote of a voter, MemberUpdate to a URL that is malformed
// or another member's.
import fc from 'fast-check';
import {
  AlarmRequest,
  HashKVRequest,
  LeaseGrantRequest,
  LeaseRevokeRequest,
  LeaseTimeToLiveRequest,
  MemberAddRequest,
  MemberListRequest,
  MemberPromoteRequest,
  MemberRemoveRequest,
  MemberUpdateRequest,
} from '../../proto/gen/etcdserverpb/rpc.js';
import { CampaignRequest, LeaderKey, LeaderRequest, ProclaimRequest, ResignRequest } from '../../proto/gen/v3electionpb/v3election.js';
import { LockRequest, UnlockRequest } from '../../proto/gen/v3lockpb/v3lock.js';
import { waitDeadlineMs, type UnaryCall, type UnaryMethod } from './calls.js';
import { binary, enumNumber, fuzzPrefix, int64, leaseId, leasePool, readKey, ttlSeconds, uint64, value, writeKey } from './values.js';

/** What the arbitraries know about the target: its members' IDs and peer URLs. */
export interface TargetFacts {
  memberIds: bigint[];
  peerUrls: string[][];
}

/** The peer URLs member `index` started with: facts.peerUrls runs parallel to facts.memberIds. */
export function peerUrlsOf(facts: TargetFacts, index: number): string[] {
  const urls = facts.peerUrls[index];
  if (urls === undefined) throw new Error(`target facts: no peer URLs for member ${index} of ${facts.memberIds.length}`);
  return urls;
}

const unary = (method: UnaryMethod) => (request: object): UnaryCall => ({ kind: 'unary', method, request });

function leaseCall(): fc.Arbitrary<UnaryCall> {
  const id = fc.oneof({ arbitrary: fc.constantFrom(...leasePool), weight: 3 }, { arbitrary: leaseId(), weight: 1 });
  return fc.oneof(
    { arbitrary: fc.record({ ID: id, TTL: ttlSeconds() }).map((fields) => unary('Lease.LeaseGrant')(LeaseGrantRequest.fromPartial(fields))), weight: 3 },
    { arbitrary: id.map((ID) => unary('Lease.LeaseRevoke')(LeaseRevokeRequest.fromPartial({ ID }))), weight: 2 },
    { arbitrary: fc.record({ ID: id, keys: fc.boolean() }).map((fields) => unary('Lease.LeaseTimeToLive')(LeaseTimeToLiveRequest.fromPartial(fields))), weight: 2 },
    { arbitrary: fc.constant(unary('Lease.LeaseLeases')({})), weight: 1 },
  );
}

/** Alarm requests that cannot switch writes off: any action but ACTIVATE of NOSPACE (1) or CORRUPT (2). */
function alarmRequest(facts: TargetFacts): fc.Arbitrary<AlarmRequest> {
  const memberID = fc.oneof(fc.constantFrom(...facts.memberIds), uint64());
  return fc
    .record({ action: enumNumber([0, 1, 2]), memberID, alarm: enumNumber([0, 1, 2]) })
    .filter(({ action, alarm }) => !(action === 1 && (alarm === 1 || alarm === 2)))
    .map((fields) => AlarmRequest.fromPartial(fields));
}

function maintenanceCall(facts: TargetFacts): fc.Arbitrary<UnaryCall> {
  const hashKvNear = fc.integer({ min: -2, max: 20 }).map((back): UnaryCall => ({
    kind: 'unary',
    method: 'Maintenance.HashKV',
    request: HashKVRequest.fromPartial({}),
    nearCurrent: { field: 'revision', back },
  }));
  return fc.oneof(
    { arbitrary: fc.constant(unary('Maintenance.Status')({})), weight: 2 },
    { arbitrary: fc.constant(unary('Maintenance.Hash')({})), weight: 1 },
    { arbitrary: int64().map((revision) => unary('Maintenance.HashKV')(HashKVRequest.fromPartial({ revision }))), weight: 2 },
    { arbitrary: hashKvNear, weight: 1 },
    { arbitrary: alarmRequest(facts).map(unary('Maintenance.Alarm')), weight: 2 },
    // Rare, and the sender also caps them per run (see defragmentsPerRunMax).
    { arbitrary: fc.constant(unary('Maintenance.Defragment')({})), weight: 1 },
  );
}

/**
 * A URL etcd's rule could accept (http(s)://host:port, nothing after, a
 * port that exists): the fuzzer never proposes a new one. Wider than the
 * rule (any case, any host), so that nothing valid slips through.
 */
export function couldBeValidPeerUrl(url: string): boolean {
  const match = /^\s*https?:\/\/[^/?#\s]+:(\d+)\s*$/i.exec(url);
  if (match === null || Number(match[1]) > 65_535) return false;
  try {
    new URL(url.trim());
    return true;
  } catch {
    return false;
  }
}

const malformedUrls = [
  '', ' ', 'not a url', 'http://', 'http://127.0.0.1', 'http://127.0.0.1:2380/path', 'http://127.0.0.1:2380/',
  'ftp://127.0.0.1:2380', 'unix:///tmp/peer', 'http://127.0.0.1:99999', 'http://127.0.0.1:-1', 'http://[::1',
  'http://127.0.0.1:2380?x=1', 'http://127.0.0.1:2380#f', '127.0.0.1:2380', 'http://127.0.0.1:abc', 'http:///:2380',
  '\0', 'http://\u00e9\u0000:1x', 'http://' + 'a'.repeat(5000),
];

/**
 * Peer URLs that must be refused: malformed ones, and the members' own URLs
 * (exact, or padded with white space, which etcd trims before comparing).
 */
function refusedPeerUrls(facts: TargetFacts): fc.Arbitrary<string[]> {
  const existing = facts.peerUrls.flat();
  const url = fc.oneof(
    { arbitrary: fc.constantFrom(...malformedUrls), weight: 4 },
    { arbitrary: fc.string({ unit: 'binary', maxLength: 40 }).filter((text) => !couldBeValidPeerUrl(text)), weight: 2 },
    { arbitrary: fc.constantFrom(...existing), weight: 2 },
    { arbitrary: fc.record({ url: fc.constantFrom(...existing), pad: fc.constantFrom(' ', '\t', '\n', '  ') }).map(({ url, pad }) => `${pad}${url}${pad}`), weight: 1 },
  );
  return fc.oneof(
    { arbitrary: fc.array(url, { maxLength: 3 }), weight: 8 },
    { arbitrary: fc.constant(Array.from({ length: 1_000 }, () => 'not a url')), weight: 1 },
  );
}

/** A member ID that no member has. */
function madeUpMemberId(facts: TargetFacts): fc.Arbitrary<bigint> {
  return uint64().filter((id) => !facts.memberIds.includes(id));
}

/**
 * MemberUpdate: a made-up ID with any URLs (member not found), or a real
 * one with URLs that must be refused, or with exactly its own URLs (a no-op).
 */
function memberUpdate(facts: TargetFacts): fc.Arbitrary<MemberUpdateRequest> {
  const anyUrls = fc.array(fc.oneof(fc.constantFrom(...malformedUrls), fc.constant('http://127.0.0.1:1')), { maxLength: 2 });
  const madeUp = fc.record({ ID: madeUpMemberId(facts), peerURLs: anyUrls });
  const indexes = facts.memberIds.map((_, index) => index);
  const refused = fc.record({ index: fc.constantFrom(...indexes), peerURLs: refusedPeerUrls(facts) }).map(({ index, peerURLs }) => {
    const own = peerUrlsOf(facts, index);
    const urls = peerURLs.filter((url) => !ownUrlPadded(url, own));
    // Nothing but the member's own URLs (one of them twice, say) is a legitimate update, which etcd
    // stores as given (it refuses only URLs of other members): send its own URLs as they are instead.
    return { ID: facts.memberIds[index], peerURLs: urls.length > 0 && urls.every((url) => own.includes(url)) ? own : urls };
  });
  const own = fc.constantFrom(...indexes).map((index) => ({ ID: facts.memberIds[index], peerURLs: facts.peerUrls[index] }));
  return fc.oneof({ arbitrary: madeUp, weight: 2 }, { arbitrary: refused, weight: 3 }, { arbitrary: own, weight: 1 }).map((fields) => MemberUpdateRequest.fromPartial(fields));
}

/** A member's own URL with white space around it would be a legitimate (if odd) update of its own URL: not generated. */
function ownUrlPadded(url: string, own: string[]): boolean {
  return url !== url.trim() && own.includes(url.trim());
}

function clusterCall(facts: TargetFacts): fc.Arbitrary<UnaryCall> {
  const anyId = fc.oneof(fc.constantFrom(...facts.memberIds), madeUpMemberId(facts));
  return fc.oneof(
    { arbitrary: fc.boolean().map((linearizable) => unary('Cluster.MemberList')(MemberListRequest.fromPartial({ linearizable }))), weight: 2 },
    { arbitrary: fc.record({ peerURLs: refusedPeerUrls(facts), isLearner: fc.boolean() }).map((fields) => unary('Cluster.MemberAdd')(MemberAddRequest.fromPartial(fields))), weight: 3 },
    { arbitrary: madeUpMemberId(facts).map((ID) => unary('Cluster.MemberRemove')(MemberRemoveRequest.fromPartial({ ID }))), weight: 1 },
    { arbitrary: memberUpdate(facts).map(unary('Cluster.MemberUpdate')), weight: 3 },
    { arbitrary: anyId.map((ID) => unary('Cluster.MemberPromote')(MemberPromoteRequest.fromPartial({ ID }))), weight: 1 },
  );
}

/** A lock or election name: a few under fuzzPrefix, or a hostile edge. */
function coordinationName(kind: 'lock' | 'elect'): fc.Arbitrary<Buffer> {
  return fc.oneof(
    { arbitrary: fc.constantFrom('a', 'b').map((name) => Buffer.from(`${fuzzPrefix}${kind}/${name}`)), weight: 6 },
    { arbitrary: fc.constantFrom(Buffer.alloc(0), Buffer.from([0]), Buffer.from([0xff, 0xff]), Buffer.from('/')), weight: 2 },
    { arbitrary: binary(8).map((name) => Buffer.concat([Buffer.from(`${fuzzPrefix}${kind}/`), name])), weight: 1 },
  );
}

function lockCall(): fc.Arbitrary<UnaryCall> {
  const lock = fc
    .record({ name: coordinationName('lock'), lease: leaseId(), deadlineMs: fc.integer(waitDeadlineMs) })
    .map(({ name, lease, deadlineMs }): UnaryCall => ({ kind: 'unary', method: 'Lock.Lock', request: LockRequest.fromPartial({ name, lease }), deadlineMs }));
  const unlockKey = fc.oneof(
    readKey('small'),
    fc.record({ name: coordinationName('lock'), lease: fc.constantFrom(...leasePool) }).map(({ name, lease }) => Buffer.from(`${name.toString('latin1')}/${lease.toString(16)}`, 'latin1')),
  );
  return fc.oneof(
    { arbitrary: lock, weight: 2 },
    { arbitrary: unlockKey.map((key) => unary('Lock.Unlock')(UnlockRequest.fromPartial({ key }))), weight: 1 },
  );
}

function leaderKey(): fc.Arbitrary<LeaderKey> {
  return fc.record({ name: coordinationName('elect'), lease: leaseId(), rev: int64(), own: fc.boolean(), key: writeKey('small') }).map(({ name, lease, rev, own, key }) =>
    LeaderKey.fromPartial({ name, lease, rev, key: own ? Buffer.from(`${name.toString('latin1')}/${lease.toString(16)}`, 'latin1') : key }),
  );
}

function electionCall(): fc.Arbitrary<UnaryCall> {
  const campaign = fc
    .record({ name: coordinationName('elect'), lease: leaseId(), value: value('any'), deadlineMs: fc.integer(waitDeadlineMs) })
    .map(({ deadlineMs, ...fields }): UnaryCall => ({ kind: 'unary', method: 'Election.Campaign', request: CampaignRequest.fromPartial(fields), deadlineMs }));
  const leader = fc.option(leaderKey(), { freq: 5 }).map((key) => key ?? undefined);
  return fc.oneof(
    { arbitrary: campaign, weight: 2 },
    { arbitrary: fc.record({ leader, value: value('any') }).map((fields) => unary('Election.Proclaim')(ProclaimRequest.fromPartial(fields))), weight: 2 },
    { arbitrary: coordinationName('elect').map((name) => unary('Election.Leader')(LeaderRequest.fromPartial({ name }))), weight: 1 },
    { arbitrary: leader.map((key) => unary('Election.Resign')(ResignRequest.fromPartial({ leader: key }))), weight: 1 },
  );
}

/** Every unary call but the KV service's (kvCall in kv-requests.ts). */
export function serviceCall(facts: TargetFacts): fc.Arbitrary<UnaryCall> {
  return fc.oneof(
    { arbitrary: leaseCall(), weight: 3 },
    { arbitrary: maintenanceCall(facts), weight: 2 },
    { arbitrary: clusterCall(facts), weight: 2 },
    { arbitrary: lockCall(), weight: 2 },
    { arbitrary: electionCall(), weight: 2 },
  );
}
