/**
 * Plain data types of the Raft core.
 *
 * Inside the core, terms, indexes and node ids are JavaScript numbers. They are exact up to
 * 2^53 - 1 (Number.MAX_SAFE_INTEGER); `assertSafe` in assert.ts guards every place where a term or
 * index grows. At the boundary (WAL, wire) they become the `bigint`s of proto/gen/raftpb — see
 * convert.ts. A term or index of 2^53 would take 285 000 years at one million entries per second.
 */

/** The id that means "no node" (no leader known, no vote cast). Real ids are positive. */
export const None = 0;

/** Same numbering as raftpb.EntryType. */
export const EntryType = { Normal: 0, ConfChange: 1 } as const;
export type EntryType = (typeof EntryType)[keyof typeof EntryType];

/** A log entry. Compatible with raftpb.Entry through convert.ts. */
export interface Entry {
  readonly type: EntryType;
  readonly term: number;
  readonly index: number;
  readonly data: Uint8Array;
}

/** What must be on stable storage before any message of the same Ready is sent. */
export interface HardState {
  readonly term: number;
  /** The id this node voted for in `term`, or None. */
  readonly vote: number;
  readonly commit: number;
}

/** The membership a snapshot (or the storage's initial state) carries. */
export interface ConfState {
  readonly voters: readonly number[];
  readonly learners: readonly number[];
}

export interface SnapshotMetadata {
  readonly index: number;
  readonly term: number;
  readonly confState: ConfState;
}

export interface Snapshot {
  readonly metadata: SnapshotMetadata;
  /** The application's state machine image at metadata.index; opaque to the core. */
  readonly data: Uint8Array;
}

export const emptyHardState: HardState = { term: 0, vote: None, commit: 0 };

export function isEmptyHardState(hs: HardState): boolean {
  return hs.term === 0 && hs.vote === None && hs.commit === 0;
}

export function hardStateEqual(a: HardState, b: HardState): boolean {
  return a.term === b.term && a.vote === b.vote && a.commit === b.commit;
}

/** Message kinds. Local ones (Hup, Beat, CheckQuorum) never cross the network. */
export const MessageType = {
  Hup: 'MsgHup',
  Beat: 'MsgBeat',
  CheckQuorum: 'MsgCheckQuorum',
  Prop: 'MsgProp',
  App: 'MsgApp',
  AppResp: 'MsgAppResp',
  Vote: 'MsgVote',
  VoteResp: 'MsgVoteResp',
  PreVote: 'MsgPreVote',
  PreVoteResp: 'MsgPreVoteResp',
  Snap: 'MsgSnap',
  SnapStatus: 'MsgSnapStatus',
  Heartbeat: 'MsgHeartbeat',
  HeartbeatResp: 'MsgHeartbeatResp',
  Unreachable: 'MsgUnreachable',
  TransferLeader: 'MsgTransferLeader',
  TimeoutNow: 'MsgTimeoutNow',
  ReadIndex: 'MsgReadIndex',
  ReadIndexResp: 'MsgReadIndexResp',
} as const;
export type MessageType = (typeof MessageType)[keyof typeof MessageType];

/**
 * One Raft message. Every field is always present so that all messages share one shape;
 * `message()` fills the defaults. `context` carries a ReadIndex request id or the
 * leadership-transfer marker on a vote request.
 */
export interface Message {
  type: MessageType;
  to: number;
  from: number;
  term: number;
  /** Term of the entry at `index` (MsgApp, vote requests), or the hint term of a rejection. */
  logTerm: number;
  index: number;
  entries: Entry[];
  commit: number;
  reject: boolean;
  rejectHint: number;
  snapshot: Snapshot | undefined;
  context: string;
}

export function message(fields: Partial<Message> & { type: MessageType }): Message {
  return {
    type: fields.type,
    to: fields.to ?? None,
    from: fields.from ?? None,
    term: fields.term ?? 0,
    logTerm: fields.logTerm ?? 0,
    index: fields.index ?? 0,
    entries: fields.entries ?? [],
    commit: fields.commit ?? 0,
    reject: fields.reject ?? false,
    rejectHint: fields.rejectHint ?? 0,
    snapshot: fields.snapshot,
    context: fields.context ?? '',
  };
}

export const StateType = {
  Follower: 'follower',
  PreCandidate: 'pre-candidate',
  Candidate: 'candidate',
  Leader: 'leader',
} as const;
export type StateType = (typeof StateType)[keyof typeof StateType];

/** Volatile state worth telling the application about; never persisted. */
export interface SoftState {
  readonly lead: number;
  readonly state: StateType;
}

/** A ReadIndex answer: reads with this context may be served once applied ≥ index. */
export interface ReadState {
  readonly index: number;
  readonly context: string;
}

/** Context of a vote request sent because of a leadership transfer (ignores leases). */
export const campaignTransferContext = 'CampaignTransfer';

/** Approximate in-memory/wire size of an entry, used for byte limits. */
export function entrySizeBytes(e: Entry): number {
  return e.data.length + 24;
}
