/** Operating errors of the Raft core: one class per condition, each with a stable `name`. */

/** The proposal was not appended: no leader known, leadership transfer in progress, etc. */
export class ProposalDroppedError extends Error {
  override readonly name = 'ProposalDroppedError';
  constructor(readonly reason: string) {
    super(`raft proposal dropped: ${reason}`);
  }
}

/** Storage: the requested index is below the first index (compacted into a snapshot). */
export class StorageCompactedError extends Error {
  override readonly name = 'StorageCompactedError';
  constructor(readonly index: number) {
    super(`requested index ${index} is unavailable due to compaction`);
  }
}

/** Storage: the requested index is above the last index. */
export class StorageUnavailableError extends Error {
  override readonly name = 'StorageUnavailableError';
  constructor(readonly index: number) {
    super(`requested entry at index ${index} is unavailable`);
  }
}

/** Storage: an older snapshot than the one it already has was offered. */
export class SnapshotOutOfDateError extends Error {
  override readonly name = 'SnapshotOutOfDateError';
  constructor(readonly index: number) {
    super(`requested index ${index} is older than the existing snapshot`);
  }
}

/** Storage: the snapshot is being produced; the leader retries later. */
export class SnapshotTemporarilyUnavailableError extends Error {
  override readonly name = 'SnapshotTemporarilyUnavailableError';
  constructor() {
    super('snapshot is temporarily unavailable');
  }
}

/** A step() of a message that must only come from inside the node (MsgHup, MsgBeat, ...). */
export class LocalMessageError extends Error {
  override readonly name = 'LocalMessageError';
  constructor(readonly type: string) {
    super(`raft: cannot step local message ${type} from the network`);
  }
}

/** A step() of a response from a node this one does not know. */
export class UnknownPeerError extends Error {
  override readonly name = 'UnknownPeerError';
  constructor(readonly id: number) {
    super(`raft: message from unknown peer ${id}`);
  }
}

/** Configuration rejected up front; the message names the rule. */
export class RaftConfigError extends Error {
  override readonly name = 'RaftConfigError';
}
