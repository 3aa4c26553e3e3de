/**
 * Configuration of one Raft node, validated up front with one sentence per rule.
 */
import { RaftConfigError } from './errors.js';
import type { Random } from './random.js';
import type { Storage } from './storage.js';

/**
 * Deliberate bugs, for proving that the simulator catches safety violations. Never set in
 * production; each flag removes one rule of the paper.
 */
export interface DeliberateBugs {
  /** Commit an entry of an earlier term by counting its replicas (breaks §5.4.2, Figure 8). */
  readonly commitPreviousTermEntries?: boolean;
  /** Grant a vote to every up-to-date candidate of a term, not just the first (breaks §5.2). */
  readonly voteTwicePerTerm?: boolean;
}

export const ReadOnlyOption = {
  /** ReadIndex confirms leadership with a heartbeat round before answering (§6.4). */
  Safe: 'safe',
  /** ReadIndex trusts the leader lease (needs CheckQuorum and bounded clock drift). */
  LeaseBased: 'lease-based',
} as const;
export type ReadOnlyOption = (typeof ReadOnlyOption)[keyof typeof ReadOnlyOption];

export interface RaftConfig {
  /** This node's id; positive. */
  readonly id: number;
  readonly storage: Storage;
  /** Ticks without hearing from a leader before campaigning; randomized in [t, 2t). */
  readonly electionTicks: number;
  /** Ticks between leader heartbeats. */
  readonly heartbeatTicks: number;
  /** Election timeouts and nothing else are drawn from here. */
  readonly random: Random;
  /** Last applied index on restart (the application's state is at least this recent). */
  readonly applied?: number;
  /** Bytes of entries per MsgApp (at least one entry is always sent). */
  readonly maxSizePerMsgBytes?: number;
  /** Bytes of committed entries per Ready. */
  readonly maxCommittedSizePerReadyBytes?: number;
  /** MsgApps in flight per follower in Replicate state. */
  readonly maxInflightMsgs?: number;
  /** Bytes in flight per follower; 0 = bounded by count only. */
  readonly maxInflightBytes?: number;
  /** Bytes of uncommitted entries a leader accepts before dropping proposals; 0 = unbounded. */
  readonly maxUncommittedEntriesSizeBytes?: number;
  /** A leader that has not heard from a quorum in an election timeout steps down. */
  readonly checkQuorum?: boolean;
  /** Run a pre-election (§9.6) so a rejoining node does not disrupt a healthy leader. */
  readonly preVote?: boolean;
  readonly readOnlyOption?: ReadOnlyOption;
  /** Followers reject proposals instead of forwarding them to the leader. */
  readonly disableProposalForwarding?: boolean;
  readonly bugs?: DeliberateBugs;
}

export type ResolvedConfig = Required<Omit<RaftConfig, 'bugs'>> & { readonly bugs: DeliberateBugs };

/** Fill defaults and validate. Throws RaftConfigError naming the broken rule. */
export function resolveConfig(c: RaftConfig): ResolvedConfig {
  const r: ResolvedConfig = {
    applied: 0,
    maxSizePerMsgBytes: 1024 * 1024,
    maxCommittedSizePerReadyBytes: 8 * 1024 * 1024,
    maxInflightMsgs: 256,
    maxInflightBytes: 0,
    maxUncommittedEntriesSizeBytes: 0,
    checkQuorum: true,
    preVote: true,
    readOnlyOption: ReadOnlyOption.Safe,
    disableProposalForwarding: false,
    ...c,
    bugs: c.bugs ?? {},
  };
  const rule = (ok: boolean, sentence: string): void => {
    if (!ok) throw new RaftConfigError(sentence);
  };
  rule(Number.isSafeInteger(r.id) && r.id > 0, 'id must be a positive integer');
  rule(Number.isInteger(r.heartbeatTicks) && r.heartbeatTicks > 0, 'heartbeat ticks must be a positive integer');
  rule(Number.isInteger(r.electionTicks) && r.electionTicks > r.heartbeatTicks, 'election ticks must be greater than heartbeat ticks');
  rule(Number.isInteger(r.maxInflightMsgs) && r.maxInflightMsgs > 0, 'max inflight messages must be a positive integer');
  rule(r.maxSizePerMsgBytes > 0, 'max size per message must be positive');
  rule(r.maxCommittedSizePerReadyBytes > 0, 'max committed size per ready must be positive');
  rule(r.maxInflightBytes >= 0, 'max inflight bytes must not be negative');
  rule(
    r.readOnlyOption !== ReadOnlyOption.LeaseBased || r.checkQuorum,
    'lease-based reads require check quorum',
  );
  return r;
}
