// What a member accepts from a peer before it reaches the Raft core: the
// message types that may cross the wire, the sender and recipient, and bounds
// on every number and size. These checks need no state. Those that compare a
// message with the member's own term or log, or read its entries, are at the
// node's edge (node/peer-admission.ts), using termAcceptable below.
//
// The bounds are paired with what a correct member sends: the leader's
// appends are cut at appendBytesTarget (RaftNode gives it to the core), a
// proposal is at most --max-request-bytes (at most requestBytesCeiling, see
// config.ts), and the sender cuts its batches at batchBytesTarget.
import { entrySizeBytes, EntryType, MessageType, type Message } from '../raft/index.js';

/** Bytes of entries the leader puts into one append (the core's maxSizePerMsg); at least one entry always goes. */
export const appendBytesTarget = 1024 * 1024;

/**
 * The most entries one message may carry. A leader's append holds at most
 * appendBytesTarget of entries as the core sizes them (24 bytes for an empty
 * one: 43,690 entries); a forwarded proposal holds one.
 */
export const messageEntriesMax = 65_536;

/** The largest --max-request-bytes: one request travels whole, as the data of one entry in one message. */
export const requestBytesCeiling = 64 * 1024 * 1024;

/** Bytes of entry data in one message: one request, or several entries that together stay within appendBytesTarget. */
export const messageBytesMax = requestBytesCeiling;

/** The sender closes a batch once it holds this many bytes (as batchBytes counts them); a batch always holds one message. */
export const batchBytesTarget = 4 * 1024 * 1024;

/**
 * gRPC's limit on one message on the peer port: a batch is at most
 * batchBytesTarget plus one message (its entries, each framed), a snapshot
 * chunk far less. A peer that announces more is refused before it is read.
 */
export const peerGrpcMessageBytesMax = 2 * messageBytesMax;

/**
 * Terms. A term grows by one per election, and with PreVote an election
 * happens only when a quorum has lost its leader for an election timeout: a
 * cluster electing a new leader every second for 136 years stays below 2^32.
 * A message above termCeiling did not come from elections, unless the cluster
 * was pushed past it already (see termLeadMax).
 */
export const termCeiling = 2 ** 32;

/**
 * Past termCeiling a term is accepted if it leads this member's own by at
 * most this many elections: a cluster that a broken peer pushed up to the
 * ceiling keeps electing leaders, while reaching termMax from there takes
 * 2^42 accepted messages.
 */
export const termLeadMax = 1_024;

/**
 * No term beyond this, ever. The core adds one to its term to campaign and
 * asserts that terms stay safe integers (below 2^53): half the range is left
 * for 2^52 more elections.
 */
export const termMax = 2 ** 52;

/** Log indexes grow by one per entry: 2^52 is 142 years at a million entries a second, and index + entries stays safe. */
export const indexMax = 2 ** 52;

/** A message's context is a ReadIndex request ID or the transfer marker on a vote request: a few dozen bytes. */
export const contextBytesMax = 1_024;

/** Whether `term` may reach the core of a member at `ownTerm` (see termCeiling). */
export function termAcceptable(term: number, ownTerm: number): boolean {
  return term <= termCeiling || (term <= ownTerm + termLeadMax && term <= termMax);
}

/**
 * What a peer may send on the message stream. Local-only types (MsgHup,
 * MsgBeat, MsgCheckQuorum, MsgUnreachable, MsgSnapStatus) never leave a
 * member; a MsgSnap travels only on the snapshot stream, its image beside it
 * (on the message stream its data would be taken for the image's path).
 */
export const streamMessageTypes: ReadonlySet<string> = new Set([
  MessageType.Prop, MessageType.App, MessageType.AppResp, MessageType.Vote, MessageType.VoteResp,
  MessageType.PreVote, MessageType.PreVoteResp, MessageType.Heartbeat, MessageType.HeartbeatResp,
  MessageType.TransferLeader, MessageType.TimeoutNow, MessageType.ReadIndex, MessageType.ReadIndexResp,
]);

/** The first chunk of a snapshot stream carries a MsgSnap and nothing else. */
export const snapshotMessageTypes: ReadonlySet<string> = new Set([MessageType.Snap]);

/**
 * Why a message from peer `from` to this member (`self`) must not reach the
 * core, or undefined if these checks find nothing. `allowed` is the set of
 * types the stream it came on may carry.
 */
export function messageRefusal(m: Message, self: number, from: number, allowed: ReadonlySet<string>): string | undefined {
  if (!allowed.has(m.type)) return `${m.type} may not come from a peer on this stream`;
  if (m.from !== from) return `it claims to come from ${hex(m.from)}, but the stream is ${hex(from)}'s`;
  if (m.to !== self) return `it is addressed to ${hex(m.to)}, not to this member`;
  return numbersRefusal(m) ?? entriesRefusal(m) ?? snapshotRefusal(m);
}

function numbersRefusal(m: Message): string | undefined {
  if (m.term > termMax) return `term ${m.term} is beyond ${termMax}`;
  // Every entry's term is at most the term of the member that sent it; vote requests send their last entry's.
  if (m.logTerm > m.term) return `log term ${m.logTerm} is above the message's term ${m.term}`;
  if (m.index > indexMax || m.commit > indexMax || m.rejectHint > indexMax) return `index ${m.index}, commit ${m.commit} or reject hint ${m.rejectHint} is beyond ${indexMax}`;
  if (m.context.length > contextBytesMax) return `context of ${m.context.length} characters`;
  return undefined;
}

function entriesRefusal(m: Message): string | undefined {
  if (m.type === MessageType.App) return entriesBoundsRefusal(m) ?? appendRefusal(m);
  if (m.type === MessageType.Prop) return entriesBoundsRefusal(m) ?? proposalRefusal(m);
  return m.entries.length === 0 ? undefined : `${m.type} carries entries`;
}

function entriesBoundsRefusal(m: Message): string | undefined {
  if (m.entries.length > messageEntriesMax) return `${m.entries.length} entries, more than ${messageEntriesMax}`;
  let bytes = 0;
  for (const entry of m.entries) bytes += entry.data.length;
  return bytes > messageBytesMax ? `${bytes} bytes of entries, more than ${messageBytesMax}` : undefined;
}

/** An append's entries follow its (index, logTerm) one by one, in terms that never go down nor pass the leader's. */
function appendRefusal(m: Message): string | undefined {
  // Only the empty log's index 0 has term 0 (the core takes any index past its log as term 0).
  if ((m.index === 0) !== (m.logTerm === 0)) return `index ${m.index} with log term ${m.logTerm}`;
  let term = m.logTerm;
  let i = 0;
  for (const entry of m.entries) {
    if (entry.index !== m.index + 1 + i) return `entry ${i} has index ${entry.index}, not ${m.index + 1 + i}`;
    if (entry.term < term || entry.term > m.term || entry.term === 0) return `entry ${entry.index} has term ${entry.term}, outside [${Math.max(term, 1)}, ${m.term}]`;
    term = entry.term;
    i++;
  }
  return undefined;
}

/** A forwarded proposal's entries are not in any log yet: the leader gives them their term and index. */
function proposalRefusal(m: Message): string | undefined {
  for (const entry of m.entries) {
    if (entry.index !== 0 || entry.term !== 0) return `a proposed entry already has index ${entry.index} and term ${entry.term}`;
  }
  return undefined;
}

function snapshotRefusal(m: Message): string | undefined {
  if (m.type !== MessageType.Snap) return m.snapshot === undefined ? undefined : `${m.type} carries a snapshot`;
  const metadata = m.snapshot?.metadata;
  if (metadata === undefined) return 'MsgSnap without a snapshot';
  if (metadata.index === 0 || metadata.index > indexMax) return `snapshot index ${metadata.index}`;
  if (metadata.term === 0 || metadata.term > m.term) return `snapshot term ${metadata.term} with message term ${m.term}`;
  if (metadata.confState.voters.length === 0) return 'a snapshot without voters';
  return undefined;
}

/** The bytes a batch counts for a message: its entries as the core sizes them, plus the message itself. */
export function batchBytes(entries: ReadonlyArray<{ data: Uint8Array }>, contextBytes: number): number {
  let bytes = messageFramingBytes + contextBytes;
  for (const entry of entries) bytes += entry.data.length + entryFramingBytes;
  return bytes;
}

/** What entrySizeBytes adds to an entry's data: more than its protobuf framing. */
const entryFramingBytes = entrySizeBytes({ type: EntryType.Normal, term: 0, index: 0, data: new Uint8Array(0) });
/** A message's fixed fields (type, to, from, term, index...) take less than this in protobuf. */
const messageFramingBytes = 96;

function hex(id: number): string {
  return id.toString(16);
}

// The bounds must hold what a correct leader sends; checked once, when the module loads.
if (Math.floor(appendBytesTarget / entryFramingBytes) >= messageEntriesMax) throw new Error('messageEntriesMax is below what one append of appendBytesTarget holds');
if (appendBytesTarget > messageBytesMax) throw new Error('messageBytesMax is below appendBytesTarget');
if (batchBytesTarget + messageBytesMax + messageEntriesMax * entryFramingBytes > peerGrpcMessageBytesMax) throw new Error('peerGrpcMessageBytesMax cannot hold a full batch');
