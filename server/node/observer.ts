// What the node reports as it works, for the member's metrics
// (server/metrics/): durations measured on the node's Clock. Counts and
// levels (leader changes, failed proposals, indexes) are read from the node
// when metrics are collected; only what happens between two collections and
// matters one by one (each fsync's duration) is pushed through here.
import type { InternalRequest } from '../../proto/gen/cairnpb/internal.js';

export interface NodeObserver {
  /** One fdatasync of the WAL took `durationMs`. */
  walSynced(durationMs: number): void;
  /** One backend transaction applying committed entries took `durationMs`. */
  backendCommitted(durationMs: number): void;
  /** Applying `request` (one entry) took `durationMs`. */
  requestApplied(request: InternalRequest, durationMs: number): void;
}

/** For a node nobody measures (the simulator, unit tests). */
export const unobserved: NodeObserver = {
  walSynced: () => undefined,
  backendCommitted: () => undefined,
  requestApplied: () => undefined,
};
