// What the peer fuzzer sends to a member's peer port, as plain data, and the
// fast-check arbitraries that generate it: message batches on the Stream
// method (raftpb Messages of every type number, known or not), snapshot
// streams on the Snapshot method, and random or mutated bytes on both.
//
// Numbers that only mean something next to the receiver's state (terms,
// indexes, commits) are generated relative to it (`Relative`: the receiver's
// term or commit plus a small offset, far past its log, or an absolute edge)
// and resolved just before sending (peer-send.ts), from the Status the
// receiver gave before the case. Members are named by their index in the
// target, so a printed counterexample reads "from m2 to m1" whatever IDs the
// replaying cluster gets. See docs/fuzzing.md, "Fuzzing the peer port".
import fc from 'fast-check';
import { InternalRequest } from '../../proto/gen/cairnpb/internal.js';
import { DeleteRangeRequest, PutRequest } from '../../proto/gen/etcdserverpb/rpc.js';
import { encodeConfChangeContext } from '../../server/membership/membership.js';
import { craftedBodies, mutation, mutationsMax, type Mutation } from './garbage.js';

/** Every key a generated entry writes starts with this. */
export const peerFuzzPrefix = 'peerfuzz/';

/** Entries past the receiver's commit that no log holds in a test: "far past its log" starts here. */
export const farAheadEntries = 1n << 20n;

/** What a relative number is counted from: nothing, the receiver's term, its commit, or farAheadEntries past its commit. */
export type Anchor = 'zero' | 'term' | 'commit' | 'beyond';

/** A uint64 field: `anchor` + `offset`, clamped to [0, 2^64-1] when resolved. */
export interface Relative {
  anchor: Anchor;
  offset: bigint;
}

/**
 * A member of the target by its index (the receiver itself included), the
 * `other`-th member other than the receiver (what a real peer would be), or
 * an ID no member has.
 */
export type Who = { member: number } | { other: number } | { id: bigint };

export interface EntrySpec {
  /** raftpb EntryType number: 0 normal, 1 ConfChange, others unknown. */
  type: number;
  /** 'follow': the indexes and terms a leader's append gives; 'unplaced': 0 and 0, as a proposal's; or explicit. */
  placed: 'follow' | 'unplaced' | { index: Relative; term: Relative };
  data: Buffer;
}

export interface SnapshotSpec {
  data: Buffer;
  /** Undefined: a snapshot without metadata. */
  metadata: { index: Relative; term: Relative; voters: Who[]; learners: Who[] } | undefined;
}

export interface MessageSpec {
  /** raftpb MessageType number, known (0..18) or not. */
  type: number;
  /** Undefined: the sender of the batch (on a snapshot stream: a member other than the receiver). */
  from: Who | undefined;
  /** Undefined: the receiver. */
  to: Who | undefined;
  term: Relative;
  logTerm: Relative;
  index: Relative;
  commit: Relative;
  reject: boolean;
  rejectHint: Relative;
  context: Buffer;
  entries: EntrySpec[];
  snapshot: SnapshotSpec | undefined;
}

/** The batch's cluster ID: the target's, the target's with its low bit flipped, or a given one. */
export type ClusterSpec = 'right' | 'flipped' | { id: bigint };

export interface BatchSpec {
  cluster: ClusterSpec;
  from: Who;
  messages: MessageSpec[];
}

/** Bytes sent as one message of a stream: random, crafted protobuf, or a generated message with bytes mutated. */
export type BytesSpec = { random: Buffer } | { crafted: number } | { mutated: BatchSpec; mutations: Mutation[] };

export type PeerSend =
  | { kind: 'stream'; member: number; batches: BatchSpec[] }
  | { kind: 'stream-bytes'; member: number; frames: BytesSpec[] }
  | { kind: 'snapshot'; member: number; stream: SnapshotStreamSpec }
  | { kind: 'snapshot-bytes'; member: number; chunks: BytesSpec[] };

/**
 * A Snapshot call: a first chunk (with its MsgSnap, or without: refused),
 * the image in chunks, and a last chunk whose size and SHA-256 are right or
 * wrong; or the stream ends before its last chunk.
 */
export interface SnapshotStreamSpec {
  cluster: ClusterSpec;
  /** Undefined: a first chunk without a message. */
  message: MessageSpec | undefined;
  image: Buffer;
  chunksOfImage: number;
  size: 'right' | 'wrong';
  checksum: 'right' | 'wrong' | 'empty';
  ends: 'last' | 'early';
}

const two = (power: bigint): bigint => 1n << power;
/** The edges of the core's and the wire's ranges: 2^32 (term ceiling), 2^52 (term and index maximum), 2^53±1 (safe integers), 2^63, 2^64-1. */
export const uint64Edges = [0n, 1n, two(32n) - 1n, two(32n), two(32n) + 1n, two(52n), two(52n) + 1n, two(53n) - 1n, two(53n), two(53n) + 1n, two(63n), two(64n) - 1n];
/** IDs no member has: 0 (raft's None), a small one, the largest safe integer, and past the core's range. */
const madeUpIds = [0n, 0x1234n, two(53n) - 1n, two(63n), two(64n) - 1n];

function near(anchor: Anchor, min: number, max: number): fc.Arbitrary<Relative> {
  return fc.integer({ min, max }).map((offset) => ({ anchor, offset: BigInt(offset) }));
}

const edge: fc.Arbitrary<Relative> = fc.constantFrom(...uint64Edges).map((offset) => ({ anchor: 'zero' as const, offset }));

/** A term: around the receiver's, far ahead of it (up to past the 1,024 lead allowed beyond 2^32), or an edge. */
export function term(): fc.Arbitrary<Relative> {
  return fc.oneof(
    { arbitrary: near('term', -3, 3), weight: 6 },
    { arbitrary: fc.constantFrom(10n, 1_000n, 1_025n).map((offset): Relative => ({ anchor: 'term', offset })), weight: 1 },
    { arbitrary: edge, weight: 2 },
  );
}

/** An index or commit: around the receiver's commit, far past its log, or an edge. */
export function index(): fc.Arbitrary<Relative> {
  return fc.oneof(
    { arbitrary: near('commit', -3, 3), weight: 6 },
    { arbitrary: near('beyond', 0, 3), weight: 1 },
    { arbitrary: edge, weight: 2 },
  );
}

export function who(memberCount: number): fc.Arbitrary<Who> {
  return fc.oneof(
    { arbitrary: fc.nat(memberCount - 1).map((member): Who => ({ member })), weight: 6 },
    { arbitrary: fc.constantFrom(...madeUpIds).map((id): Who => ({ id })), weight: 2 },
  );
}

/** Message type numbers: raftpb's 19, and some no one defined. */
function messageType(): fc.Arbitrary<number> {
  return fc.oneof({ arbitrary: fc.integer({ min: 0, max: 18 }), weight: 12 }, { arbitrary: fc.constantFrom(19, 20, 99, 0x7fffffff, -1), weight: 1 });
}

function context(): fc.Arbitrary<Buffer> {
  return fc.oneof(
    { arbitrary: fc.constant(Buffer.alloc(0)), weight: 6 },
    { arbitrary: fc.uint8Array({ maxLength: 24 }).map((bytes) => Buffer.from(bytes)), weight: 2 },
    // Over the 1,024 bytes of peer-checks' contextBytesMax, and bytes that are not UTF-8.
    { arbitrary: fc.constantFrom(Buffer.alloc(1_025, 0x61), Buffer.from([0xff, 0xfe, 0x80])), weight: 1 },
  );
}

function encodeRequest(request: Partial<InternalRequest>): Buffer {
  return Buffer.from(InternalRequest.encode(InternalRequest.fromPartial(request)).finish());
}

/** The data of a normal entry: a put or a delete under peerFuzzPrefix, the leader's empty entry, or what applying cannot take. */
function normalData(): fc.Arbitrary<Buffer> {
  const key = fc.constantFrom('a', 'b', 'c', '').map((suffix) => Buffer.from(peerFuzzPrefix + suffix));
  const id = fc.bigInt(1n, two(64n) - 1n);
  const put = fc.record({ id, key, value: fc.uint8Array({ maxLength: 16 }) }).map(({ id: requestId, key: k, value }) => encodeRequest({ id: requestId, put: PutRequest.fromPartial({ key: k, value: Buffer.from(value) }) }));
  const remove = fc.record({ id, key }).map(({ id: requestId, key: k }) => encodeRequest({ id: requestId, deleteRange: DeleteRangeRequest.fromPartial({ key: k }) }));
  const twoThings = key.map((k) => encodeRequest({ id: 9n, put: PutRequest.fromPartial({ key: k }), deleteRange: DeleteRangeRequest.fromPartial({ key: k }) }));
  return fc.oneof(
    { arbitrary: put, weight: 5 },
    { arbitrary: remove, weight: 1 },
    { arbitrary: fc.constant(Buffer.alloc(0)), weight: 1 },
    { arbitrary: twoThings, weight: 1 },
    { arbitrary: fc.constant(encodeRequest({ id: 7n })), weight: 1 },
    { arbitrary: fc.uint8Array({ minLength: 1, maxLength: 32 }).map((bytes) => Buffer.from(bytes)), weight: 2 },
  );
}

/**
 * The data of a ConfChange entry (JSON, see server/raft/conf-change.ts):
 * removals of IDs no member has, and changes whose context, type or member
 * ID is garbage or contradicts itself. Never an addition of a new member with
 * peer URLs nor a removal of a real member (those a real member may propose).
 */
function confChangeData(memberIds: bigint[]): fc.Arbitrary<Buffer> {
  const json = (value: unknown): Buffer => Buffer.from(JSON.stringify(value));
  const real = fc.constantFrom(...memberIds.map(Number));
  const member = (id: bigint, peerURLs: string[]) => ({ ID: id, name: '', peerURLs, clientURLs: [], isLearner: false });
  const contexts = [
    'not json', 'null', '123', '{"requestId":"x"}', '{"requestId":"1","member":"zz"}', '{"requestId":"1","member":"ffffffff"}',
    '['.repeat(10_000), encodeConfChangeContext({ requestId: 1n, member: member(0x4321n, ['http://127.0.0.1:1']) }),
    encodeConfChangeContext({ requestId: 2n, member: member(0x4322n, []) }),
  ];
  return fc.oneof(
    fc.record({ type: fc.constant('remove-node'), nodeId: fc.constantFrom(0x1234, 0x4321) }).map(json),
    fc.record({ type: fc.constantFrom('add-node', 'add-learner', 'update-node', '__proto__', ''), nodeId: real, context: fc.constantFrom(...contexts) }).map(json),
    fc.record({ type: fc.constantFrom('add-node', 'add-learner'), nodeId: fc.constantFrom(0x4322, 0x4323), context: fc.constantFrom(...contexts) }).map(json),
    fc.record({ type: fc.constant('remove-node'), nodeId: fc.constantFrom<unknown>(-1, 0, 1.5, 2 ** 53, '5', null) }).map(json),
    fc.uint8Array({ maxLength: 32 }).map((bytes) => Buffer.from(bytes)),
  );
}

function entry(memberIds: bigint[]): fc.Arbitrary<EntrySpec> {
  const placed = fc.oneof(
    { arbitrary: fc.constantFrom<'follow' | 'unplaced'>('follow', 'unplaced'), weight: 6 },
    { arbitrary: fc.record({ index: index(), term: term() }), weight: 1 },
  );
  const normal = fc.record({ type: fc.constant(0), placed, data: normalData() });
  const conf = fc.record({ type: fc.constant(1), placed, data: confChangeData(memberIds) });
  const unknownType = fc.record({ type: fc.constantFrom(2, 99, -1), placed, data: normalData() });
  return fc.oneof({ arbitrary: normal, weight: 6 }, { arbitrary: conf, weight: 2 }, { arbitrary: unknownType, weight: 1 });
}

function snapshot(memberCount: number): fc.Arbitrary<SnapshotSpec> {
  const metadata = fc.record({ index: index(), term: term(), voters: fc.array(who(memberCount), { maxLength: 4 }), learners: fc.array(who(memberCount), { maxLength: 1 }) });
  const data = fc.oneof(fc.constant(Buffer.alloc(0)), fc.constant(Buffer.from('/tmp/peerfuzz-no-such-image.mdb')), fc.uint8Array({ maxLength: 16 }).map((bytes) => Buffer.from(bytes)));
  return fc.record({ data, metadata: fc.option(metadata, { freq: 6, nil: undefined }) });
}

/** One raftpb Message; `typeOf` picks its type number. */
export function message(memberIds: bigint[], typeOf: fc.Arbitrary<number> = messageType()): fc.Arbitrary<MessageSpec> {
  const n = memberIds.length;
  return fc.record({
    type: typeOf,
    from: fc.option(who(n), { freq: 8, nil: undefined }),
    to: fc.option(who(n), { freq: 8, nil: undefined }),
    term: term(),
    logTerm: fc.oneof({ arbitrary: near('term', -2, 0), weight: 4 }, { arbitrary: term(), weight: 1 }),
    index: index(),
    commit: index(),
    reject: fc.boolean(),
    rejectHint: index(),
    context: context(),
    entries: fc.oneof({ arbitrary: fc.constant<EntrySpec[]>([]), weight: 3 }, { arbitrary: fc.array(entry(memberIds), { minLength: 1, maxLength: 4 }), weight: 2 }),
    snapshot: fc.option(snapshot(n), { freq: 10, nil: undefined }),
  });
}

function cluster(): fc.Arbitrary<ClusterSpec> {
  return fc.oneof(
    { arbitrary: fc.constant<ClusterSpec>('right'), weight: 10 },
    { arbitrary: fc.constant<ClusterSpec>('flipped'), weight: 1 },
    { arbitrary: fc.constantFrom(0n, two(64n) - 1n).map((id): ClusterSpec => ({ id })), weight: 1 },
  );
}

/** A sender: mostly a member other than the receiver, whose batches pass the sender checks. */
function sender(memberCount: number): fc.Arbitrary<Who> {
  return fc.oneof({ arbitrary: fc.nat(memberCount).map((other): Who => ({ other })), weight: 4 }, { arbitrary: who(memberCount), weight: 1 });
}

export function batch(memberIds: bigint[]): fc.Arbitrary<BatchSpec> {
  return fc.record({ cluster: cluster(), from: sender(memberIds.length), messages: fc.array(message(memberIds), { minLength: 1, maxLength: 6 }) });
}

function bytes(memberIds: bigint[]): fc.Arbitrary<BytesSpec> {
  return fc.oneof(
    { arbitrary: fc.record({ mutated: batch(memberIds), mutations: fc.array(mutation(), { minLength: 1, maxLength: mutationsMax }) }), weight: 4 },
    { arbitrary: fc.uint8Array({ maxLength: 96 }).map((random): BytesSpec => ({ random: Buffer.from(random) })), weight: 2 },
    { arbitrary: fc.nat(craftedBodies.length - 1).map((crafted): BytesSpec => ({ crafted })), weight: 2 },
  );
}

function snapshotStream(memberIds: bigint[]): fc.Arbitrary<SnapshotStreamSpec> {
  const msgSnap = fc.oneof({ arbitrary: fc.constant(7), weight: 6 }, { arbitrary: messageType(), weight: 1 });
  return fc.record({
    cluster: cluster(),
    message: fc.option(message(memberIds, msgSnap), { freq: 10, nil: undefined }),
    image: fc.oneof(fc.constant(Buffer.alloc(0)), fc.uint8Array({ maxLength: 4096 }).map((image) => Buffer.from(image))),
    chunksOfImage: fc.integer({ min: 1, max: 3 }),
    size: fc.constantFrom<'right' | 'wrong'>('right', 'right', 'wrong'),
    checksum: fc.constantFrom<'right' | 'wrong' | 'empty'>('right', 'right', 'wrong', 'empty'),
    ends: fc.constantFrom<'last' | 'early'>('last', 'last', 'last', 'early'),
  });
}

/** One call to the peer port of a random member: mostly message batches, sometimes snapshots and bytes. */
export function peerSend(memberIds: bigint[]): fc.Arbitrary<PeerSend> {
  const member = fc.nat(memberIds.length - 1);
  return fc.oneof(
    { arbitrary: fc.record({ kind: fc.constant('stream' as const), member, batches: fc.array(batch(memberIds), { minLength: 1, maxLength: 3 }) }), weight: 8 },
    { arbitrary: fc.record({ kind: fc.constant('stream-bytes' as const), member, frames: fc.array(bytes(memberIds), { minLength: 1, maxLength: 3 }) }), weight: 2 },
    { arbitrary: fc.record({ kind: fc.constant('snapshot' as const), member, stream: snapshotStream(memberIds) }), weight: 2 },
    { arbitrary: fc.record({ kind: fc.constant('snapshot-bytes' as const), member, chunks: fc.array(bytes(memberIds), { minLength: 1, maxLength: 3 }) }), weight: 1 },
  );
}
