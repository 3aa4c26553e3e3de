// Raft messages between the core's number-based shape and raftpb on the
// wire. A number that does not fit the core's safe range is refused by the
// converters in server/raft/convert.ts, never rounded.
import {
  type Entry as PbEntry,
  Message as PbMessage,
  MessageType as PbMessageType,
  type Snapshot as PbSnapshot,
  type SnapshotMetadata as PbSnapshotMetadata,
} from '../../proto/gen/raftpb/raft.js';
import { entryFromPb, entryToPb, type Entry, type Message, type MessageType, type Snapshot, type SnapshotMetadata } from '../raft/index.js';

const emptyBuffer = Buffer.alloc(0);

/**
 * Recent entries' raftpb form, made once: the leader writes an entry to its
 * WAL and sends it to every follower in the same Ready; a follower writes
 * what it decoded. Only recent ones are kept: the in-memory log holds up to
 * --snapshot-count entries, and a twin of each would double what the garbage
 * collector has to trace.
 */
const pbEntries = new Map<Entry, PbEntry>();
const pbEntriesMax = 8_192;

function remember(entry: Entry, pb: PbEntry): void {
  if (pbEntries.size >= pbEntriesMax) pbEntries.clear();
  pbEntries.set(entry, pb);
}

export function entryToPbShared(entry: Entry): PbEntry {
  let pb = pbEntries.get(entry);
  if (pb === undefined) {
    const converted = entryToPb(entry);
    pb = { ...converted, data: Buffer.from(converted.data.buffer, converted.data.byteOffset, converted.data.length) };
    remember(entry, pb);
  }
  return pb;
}

export function messageToPb(m: Message): PbMessage {
  return {
    type: PbMessageType[m.type as keyof typeof PbMessageType],
    to: BigInt(m.to),
    from: BigInt(m.from),
    term: BigInt(m.term),
    logTerm: BigInt(m.logTerm),
    index: BigInt(m.index),
    entries: m.entries.map(entryToPbShared),
    commit: BigInt(m.commit),
    snapshot: m.snapshot === undefined ? undefined : snapshotToPb(m.snapshot),
    reject: m.reject,
    rejectHint: BigInt(m.rejectHint),
    context: m.context === '' ? emptyBuffer : Buffer.from(m.context, 'utf8'),
  };
}

export function messageFromPb(pb: PbMessage): Message {
  const type = PbMessageType[pb.type] as MessageType | undefined;
  if (type === undefined) throw new Error(`unknown raft message type ${pb.type}`);
  return {
    type,
    to: safe(pb.to, 'to'),
    from: safe(pb.from, 'from'),
    term: safe(pb.term, 'term'),
    logTerm: safe(pb.logTerm, 'log term'),
    index: safe(pb.index, 'index'),
    entries: pb.entries.map((pbEntry) => {
      const entry = entryFromPb(pbEntry);
      remember(entry, pbEntry);
      return entry;
    }),
    commit: safe(pb.commit, 'commit'),
    reject: pb.reject,
    rejectHint: safe(pb.rejectHint, 'reject hint'),
    snapshot: pb.snapshot === undefined ? undefined : snapshotFromPb(pb.snapshot),
    context: pb.context.length === 0 ? '' : pb.context.toString('utf8'),
  };
}

export function snapshotMetadataToPb(metadata: SnapshotMetadata): PbSnapshotMetadata {
  return {
    index: BigInt(metadata.index),
    term: BigInt(metadata.term),
    confState: { voters: metadata.confState.voters.map(BigInt), learners: metadata.confState.learners.map(BigInt) },
  };
}

export function snapshotMetadataFromPb(pb: PbSnapshotMetadata | undefined): SnapshotMetadata {
  return {
    index: safe(pb?.index ?? 0n, 'snapshot index'),
    term: safe(pb?.term ?? 0n, 'snapshot term'),
    confState: {
      voters: (pb?.confState?.voters ?? []).map((id) => safe(id, 'voter')),
      learners: (pb?.confState?.learners ?? []).map((id) => safe(id, 'learner')),
    },
  };
}

function snapshotToPb(snapshot: Snapshot): PbSnapshot {
  return { data: Buffer.from(snapshot.data.buffer, snapshot.data.byteOffset, snapshot.data.length), metadata: snapshotMetadataToPb(snapshot.metadata) };
}

function snapshotFromPb(pb: PbSnapshot): Snapshot {
  return { data: pb.data, metadata: snapshotMetadataFromPb(pb.metadata) };
}

function safe(value: bigint, what: string): number {
  if (value < 0n || value > BigInt(Number.MAX_SAFE_INTEGER)) throw new Error(`raft message: ${what} ${value} is out of range`);
  return Number(value);
}

export { PbMessage };
