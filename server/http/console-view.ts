// What the console's cluster stream (/ui/events) sends, event by event: a
// type with no imports, shared by the server (console-events.ts) and the
// console's page (ui/src/cluster-stream.ts), which the browser bundle builds.

/** What one event carries. IDs are hex, as etcdctl prints them. */
export interface ClusterView {
  readonly member: { readonly id: string; readonly name: string };
  /** "0" while there is no leader. */
  readonly leader: string;
  readonly raftTerm: string;
  readonly raftIndex: number;
  readonly appliedIndex: number;
  readonly revision: number;
  readonly compactRevision: number;
  readonly dbSizeBytes: number;
  readonly dbSizeInUseBytes: number;
  readonly isLearner: boolean;
  readonly alarms: ReadonlyArray<{ readonly memberId: string; readonly alarm: string }>;
  /** `matchIndex`: how far the member's log matches the leader's; known when this member leads. */
  readonly members: ReadonlyArray<{ readonly id: string; readonly name: string; readonly peerURLs: string[]; readonly clientURLs: string[]; readonly isLearner: boolean; readonly matchIndex?: number }>;
}
