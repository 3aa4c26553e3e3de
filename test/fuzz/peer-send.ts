// Turns a generated PeerSend into the bytes written on a member's peer port
// (resolving relative numbers against what the receiver's Status said before
// the case), asks the guard whether it may be sent, and sends it: every
// message of a call as raw bytes through a grpc-js client-streaming call with
// an identity serializer, so that structured batches and garbage take the
// same path.
import { createHash } from 'node:crypto';
import { Client, credentials, Metadata, status, type ServiceError } from '@grpc/grpc-js';
import { MessageBatch, SnapshotChunk } from '../../proto/gen/cairnpb/peer.js';
import { Message, type Entry, type Snapshot } from '../../proto/gen/raftpb/raft.js';
import { craftedBodies, mutate } from './garbage.js';
import { batchExclusion, snapshotExclusion, type Identity, type Known } from './peer-guard.js';
import { farAheadEntries, type BatchSpec, type BytesSpec, type ClusterSpec, type EntrySpec, type MessageSpec, type PeerSend, type Relative, type SnapshotStreamSpec, type Who } from './peer-messages.js';

const uint64Max = (1n << 64n) - 1n;
/** A member ends a client stream at once after its half-close: past this, the silence is a finding. */
export const answerWaitMs = 10_000;
const paths = { stream: '/cairnpb.Peer/Stream', snapshot: '/cairnpb.Peer/Snapshot' } as const;
const identityBytes = (value: Buffer): Buffer => value;

/** What the receiver and the target looked like before the case. */
export interface Scene {
  identity: Identity;
  /** Per member, by index. */
  known: Known[];
  receiver: number;
}

/** The receiver's last known ID, term and commit: `known` has one entry per member. */
function receiverOf(scene: Scene): Known {
  const receiver = scene.known[scene.receiver];
  if (receiver === undefined) throw new Error(`peer fuzz: receiver ${scene.receiver} is not one of the ${scene.known.length} members`);
  return receiver;
}

/** ids[index], for an index the caller reduced modulo ids.length (a target has at least one member). */
function memberIdAt(ids: readonly bigint[], index: number): bigint {
  const id = ids[index];
  if (id === undefined) throw new Error(`peer fuzz: no member ${index} of ${ids.length}`);
  return id;
}

function clamp(value: bigint): bigint {
  return value < 0n ? 0n : value > uint64Max ? uint64Max : value;
}

function resolve(value: Relative, receiver: Known): bigint {
  const base = { zero: 0n, term: receiver.term, commit: receiver.commit, beyond: receiver.commit + farAheadEntries + 1n }[value.anchor];
  return clamp(base + value.offset);
}

function idOf(who: Who, scene: Scene): bigint {
  const ids = scene.identity.memberIds;
  if ('id' in who) return who.id;
  if ('member' in who) return memberIdAt(ids, who.member % ids.length);
  // With one member there is no other: the receiver's own ID, which it refuses.
  return memberIdAt(ids, ids.length === 1 ? 0 : (scene.receiver + 1 + (who.other % (ids.length - 1))) % ids.length);
}

function clusterIdOf(cluster: ClusterSpec, scene: Scene): bigint {
  if (cluster === 'right') return scene.identity.clusterId;
  if (cluster === 'flipped') return scene.identity.clusterId ^ 1n;
  return cluster.id;
}

function entryOf(spec: EntrySpec, position: number, m: { index: bigint; term: bigint }, receiver: Known): Entry {
  let placed = { index: 0n, term: 0n };
  if (spec.placed === 'follow') placed = { index: clamp(m.index + 1n + BigInt(position)), term: m.term };
  else if (spec.placed !== 'unplaced') placed = { index: resolve(spec.placed.index, receiver), term: resolve(spec.placed.term, receiver) };
  return { type: spec.type, ...placed, data: spec.data };
}

function messageOf(spec: MessageSpec, from: bigint, scene: Scene): Message {
  const receiver = receiverOf(scene);
  const r = (value: Relative): bigint => resolve(value, receiver);
  const numbers = { term: r(spec.term), logTerm: r(spec.logTerm), index: r(spec.index), commit: r(spec.commit), rejectHint: r(spec.rejectHint) };
  let snapshot: Snapshot | undefined;
  if (spec.snapshot !== undefined) {
    const metadata = spec.snapshot.metadata;
    snapshot = {
      data: spec.snapshot.data,
      metadata: metadata === undefined ? undefined : {
        index: r(metadata.index), term: r(metadata.term),
        confState: { voters: metadata.voters.map((who) => idOf(who, scene)), learners: metadata.learners.map((who) => idOf(who, scene)) },
      },
    };
  }
  return Message.fromPartial({
    type: spec.type,
    from: spec.from === undefined ? from : idOf(spec.from, scene),
    to: spec.to === undefined ? receiver.id : idOf(spec.to, scene),
    ...numbers,
    reject: spec.reject,
    context: spec.context,
    entries: spec.entries.map((entry, position) => entryOf(entry, position, numbers, receiver)),
    snapshot,
  });
}

function batchOf(spec: BatchSpec, scene: Scene): MessageBatch {
  const from = idOf(spec.from, scene);
  return { clusterId: clusterIdOf(spec.cluster, scene), from, messages: spec.messages.map((m) => messageOf(m, from, scene)) };
}

function bytesOf(spec: BytesSpec, scene: Scene): Buffer {
  if ('random' in spec) return spec.random;
  if ('crafted' in spec) {
    const body = craftedBodies[spec.crafted % craftedBodies.length];
    if (body === undefined) throw new Error(`peer fuzz: no crafted body ${spec.crafted} of ${craftedBodies.length}`);
    return body;
  }
  return mutate(Buffer.from(MessageBatch.encode(batchOf(spec.mutated, scene)).finish()), spec.mutations);
}

/** A member other than the receiver: who sends a snapshot whose message names no sender. */
function otherMember(scene: Scene): bigint {
  return memberIdAt(scene.identity.memberIds, (scene.receiver + 1) % scene.identity.memberIds.length);
}

function snapshotChunksOf(spec: SnapshotStreamSpec, scene: Scene): SnapshotChunk[] {
  const clusterId = clusterIdOf(spec.cluster, scene);
  const message = spec.message === undefined ? undefined : messageOf(spec.message, otherMember(scene), scene);
  const chunk = (fields: Partial<SnapshotChunk>): SnapshotChunk => SnapshotChunk.fromPartial({ clusterId, ...fields });
  const size = Math.ceil(spec.image.length / spec.chunksOfImage);
  const pieces = Array.from({ length: spec.chunksOfImage }, (_, i) => spec.image.subarray(i * size, (i + 1) * size));
  const chunks = [chunk({ message }), ...pieces.map((data) => chunk({ data }))];
  if (spec.ends === 'early') return chunks;
  const digest = createHash('sha256').update(spec.image).digest();
  const sha256 = { right: digest, wrong: createHash('sha256').update(digest).digest(), empty: Buffer.alloc(0) }[spec.checksum];
  const totalBytes = BigInt(spec.image.length) + (spec.size === 'right' ? 0n : 1n);
  return [...chunks, chunk({ last: true, totalBytes, sha256 })];
}

/** A call ready to go: its method, the bytes of each message, what it holds (for the statistics), or why the guard keeps it back. */
export interface Prepared {
  path: string;
  frames: Buffer[];
  /** raftpb type names of the messages it carries, when they are structured. */
  messageTypes: string[];
  excluded: string | undefined;
}

function decodedBatch(frame: Buffer): MessageBatch | undefined {
  try {
    return MessageBatch.decode(frame);
  } catch {
    return undefined;
  }
}

function decodedChunks(frames: Buffer[]): SnapshotChunk[] {
  const chunks: SnapshotChunk[] = [];
  for (const frame of frames) {
    try {
      chunks.push(SnapshotChunk.decode(frame));
    } catch {
      break; // the member ends the call at the first chunk that does not decode
    }
  }
  return chunks;
}

/** Resolves `send` for the scene, encodes it, and asks the guard (on the decoded bytes: garbage may decode into anything). */
export function prepare(send: PeerSend, scene: Scene): Prepared {
  const receiver = receiverOf(scene);
  const typeNames = (batch: MessageBatch) => batch.messages.map((m) => String(m.type));
  switch (send.kind) {
    case 'stream':
    case 'stream-bytes': {
      const frames = send.kind === 'stream'
        ? send.batches.map((spec) => Buffer.from(MessageBatch.encode(batchOf(spec, scene)).finish()))
        : send.frames.map((spec) => bytesOf(spec, scene));
      const batches = frames.map(decodedBatch).filter((batch): batch is MessageBatch => batch !== undefined);
      const excluded = batches.map((batch) => batchExclusion(batch, receiver, scene.identity)).find((why) => why !== undefined);
      return { path: paths.stream, frames, messageTypes: send.kind === 'stream' ? batches.flatMap(typeNames) : [], excluded };
    }
    case 'snapshot':
    case 'snapshot-bytes': {
      const frames = send.kind === 'snapshot'
        ? snapshotChunksOf(send.stream, scene).map((chunk) => Buffer.from(SnapshotChunk.encode(chunk).finish()))
        : send.chunks.map((spec) => bytesOf(spec, scene));
      const excluded = snapshotExclusion(decodedChunks(frames), receiver, scene.identity);
      return { path: paths.snapshot, frames, messageTypes: [], excluded };
    }
  }
}

/** How a call ended: 'OK' or the gRPC code's name, and its details. */
export interface PeerAnswer {
  code: string;
  details: string;
}

/** One client per member's peer port, kept for the run. */
export class PeerChannel {
  private readonly client: Client;

  constructor(readonly peerHost: string) {
    this.client = new Client(peerHost, credentials.createInsecure(), { 'grpc.max_send_message_length': -1, 'grpc.max_receive_message_length': -1 });
  }

  close(): void {
    this.client.close();
  }

  /** Writes every frame as one message of a client-streaming call, half-closes, and waits for the member's answer. */
  send({ path, frames }: Prepared): Promise<PeerAnswer> {
    return new Promise<PeerAnswer>((resolve) => {
      const done = (error: ServiceError | null): void => resolve(error === null ? { code: 'OK', details: '' } : { code: status[error.code] ?? String(error.code), details: error.details });
      const call = this.client.makeClientStreamRequest(path, identityBytes, identityBytes, new Metadata(), { deadline: Date.now() + answerWaitMs }, done);
      call.on('error', () => undefined);
      for (const frame of frames) call.write(frame);
      call.end();
    });
  }
}

/** Why an answer is a finding: the member never ended the call, or a handler failed with an error no check made. */
export function judgePeerAnswer(answer: PeerAnswer): string | undefined {
  if (answer.code === 'DEADLINE_EXCEEDED') return `no answer within ${answerWaitMs} ms of the half-close`;
  if (answer.code === 'UNKNOWN') return `answered UNKNOWN "${answer.details}": an error escaped the handler`;
  return undefined;
}
