/**
 * Conversions between the core's number-based Entry/HardState and the bigint-based raftpb types
 * (proto/gen/raftpb). Numbers beyond 2^53 - 1 are refused (RaftInvariantError), never rounded.
 */
import type { Entry as PbEntry, HardState as PbHardState } from '../../proto/gen/raftpb/raft.js';
import { assertSafe, invariant } from './assert.js';
import { EntryType, type Entry, type HardState } from './types.js';

function toNumber(v: bigint, what: string): number {
  invariant(v >= 0n && v <= BigInt(Number.MAX_SAFE_INTEGER), () => `${what} ${v} does not fit the raft core's safe integer range`);
  return Number(v);
}

export function entryFromPb(e: PbEntry): Entry {
  invariant(e.type === EntryType.Normal || e.type === EntryType.ConfChange, () => `unknown entry type ${e.type}`);
  return { type: e.type as EntryType, term: toNumber(e.term, 'term'), index: toNumber(e.index, 'index'), data: e.data };
}

/** The pb shape with `data` as a Uint8Array; the node layer wraps it in a Buffer if it needs one. */
export function entryToPb(e: Entry): Omit<PbEntry, 'data'> & { data: Uint8Array } {
  assertSafe(e.term, 'term');
  assertSafe(e.index, 'index');
  return { type: e.type, term: BigInt(e.term), index: BigInt(e.index), data: e.data };
}

export function hardStateFromPb(hs: PbHardState): HardState {
  return { term: toNumber(hs.term, 'term'), vote: toNumber(hs.vote, 'vote'), commit: toNumber(hs.commit, 'commit') };
}

export function hardStateToPb(hs: HardState): PbHardState {
  return { term: BigInt(hs.term), vote: BigInt(hs.vote), commit: BigInt(hs.commit) };
}
