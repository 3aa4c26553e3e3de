/**
 * Progress: the leader's view of one follower (§5.3 nextIndex / matchIndex), plus flow control.
 *
 *   Probe      — we do not know where the follower's log matches ours; send one MsgApp per
 *                heartbeat interval and wait for its answer (probeSent pauses further sends).
 *   Replicate  — matching; stream MsgApps optimistically (next advances on send), bounded by
 *                Inflights.
 *   Snapshot   — the follower needs entries we compacted; a snapshot is on its way, send nothing.
 */
import { invariant } from './assert.js';
import { Inflights } from './inflights.js';

export const ProgressState = { Probe: 'probe', Replicate: 'replicate', Snapshot: 'snapshot' } as const;
export type ProgressState = (typeof ProgressState)[keyof typeof ProgressState];

export class Progress {
  /** Invariant: 0 ≤ match < next. */
  match: number;
  next: number;
  state: ProgressState = ProgressState.Probe;
  /** In Snapshot state: index of the snapshot being sent. */
  pendingSnapshot = 0;
  /** Heard from since the last CheckQuorum round. */
  recentActive = false;
  /** In Probe state: a MsgApp is outstanding, wait for a response or a heartbeat. */
  probeSent = false;
  readonly inflights: Inflights;

  constructor(match: number, next: number, maxInflightMsgs: number, maxInflightBytes: number, public isLearner: boolean) {
    this.match = match;
    this.next = next;
    this.inflights = new Inflights(maxInflightMsgs, maxInflightBytes);
    this.check();
  }

  private check(): void {
    invariant(this.match >= 0 && this.match < this.next, () => `progress invariant 0 <= match(${this.match}) < next(${this.next}) broken`);
  }

  private resetState(state: ProgressState): void {
    this.probeSent = false;
    this.pendingSnapshot = 0;
    this.state = state;
    this.inflights.reset();
  }

  becomeProbe(): void {
    // After a snapshot, the follower has at least the snapshot: resume from after it.
    if (this.state === ProgressState.Snapshot) {
      const pending = this.pendingSnapshot;
      this.resetState(ProgressState.Probe);
      this.next = Math.max(this.match + 1, pending + 1);
    } else {
      this.resetState(ProgressState.Probe);
      this.next = this.match + 1;
    }
    this.check();
  }

  becomeReplicate(): void {
    this.resetState(ProgressState.Replicate);
    this.next = this.match + 1;
    this.check();
  }

  becomeSnapshot(snapshotIndex: number): void {
    this.resetState(ProgressState.Snapshot);
    this.pendingSnapshot = snapshotIndex;
  }

  /** An ack of index n arrived. Returns false if it is stale (n ≤ match). */
  maybeUpdate(n: number): boolean {
    let updated = false;
    if (this.match < n) {
      this.match = n;
      updated = true;
      this.probeSent = false;
    }
    this.next = Math.max(this.next, n + 1);
    this.check();
    return updated;
  }

  /** Replicate state: entries up to n were sent; assume they will arrive. */
  optimisticUpdate(n: number): void {
    this.next = n + 1;
    this.check();
  }

  /**
   * A MsgApp for index `rejected` was refused; the follower hints that its log may match up to
   * matchHint. Returns false if the rejection is stale (an answer to an older probe).
   */
  maybeDecrTo(rejected: number, matchHint: number): boolean {
    if (this.state === ProgressState.Replicate) {
      if (rejected <= this.match) return false;
      this.next = this.match + 1;
      this.check();
      return true;
    }
    if (this.next - 1 !== rejected) return false;
    this.next = Math.max(Math.min(rejected, matchHint + 1), this.match + 1);
    this.probeSent = false;
    this.check();
    return true;
  }

  isPaused(): boolean {
    switch (this.state) {
      case ProgressState.Probe:
        return this.probeSent;
      case ProgressState.Replicate:
        return this.inflights.full();
      case ProgressState.Snapshot:
        return true;
    }
  }

  describe(): string {
    return `${this.state} match=${this.match} next=${this.next}` + (this.state === ProgressState.Snapshot ? ` pendingSnapshot=${this.pendingSnapshot}` : '');
  }
}
