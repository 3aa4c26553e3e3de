/**
 * ProgressTracker: the configuration (voters, learners), the leader's Progress per member and the
 * votes of the current election. Quorum = a majority of voters; learners never count.
 */
import { invariant } from './assert.js';
import { Progress } from './progress.js';
import type { ConfState } from './types.js';

export const VoteResult = { Pending: 'pending', Won: 'won', Lost: 'lost' } as const;
export type VoteResult = (typeof VoteResult)[keyof typeof VoteResult];

export class ProgressTracker {
  voters = new Set<number>();
  learners = new Set<number>();
  readonly progress = new Map<number, Progress>();
  readonly votes = new Map<number, boolean>();

  constructor(
    readonly maxInflightMsgs: number,
    readonly maxInflightBytes: number,
  ) {}

  confState(): ConfState {
    return { voters: [...this.voters].sort((a, b) => a - b), learners: [...this.learners].sort((a, b) => a - b) };
  }

  quorum(): number {
    return Math.floor(this.voters.size / 2) + 1;
  }

  isVoter(id: number): boolean {
    return this.voters.has(id);
  }

  /** Ids of all members (voters then learners), ascending within each group: a stable order. */
  memberIds(): number[] {
    return [...[...this.voters].sort((a, b) => a - b), ...[...this.learners].sort((a, b) => a - b)];
  }

  newProgress(id: number, match: number, next: number): Progress {
    const pr = new Progress(match, next, this.maxInflightMsgs, this.maxInflightBytes, this.learners.has(id));
    this.progress.set(id, pr);
    return pr;
  }

  /**
   * The largest index stored on a quorum of voters (§5.3): sort the voters' match indexes
   * descending and take the quorum-th. Example: matches {7, 5, 9} → sorted 9,7,5 → quorum 2 → 7.
   */
  committed(): number {
    invariant(this.voters.size > 0, 'committed() of an empty configuration');
    const matches: number[] = [];
    for (const id of this.voters) matches.push(this.progress.get(id)?.match ?? 0);
    matches.sort((a, b) => b - a);
    // One match per voter and 1 ≤ quorum ≤ voters: the quorum-th exists.
    const committed = matches[this.quorum() - 1];
    invariant(committed !== undefined, 'committed(): the quorum is larger than the voters');
    return committed;
  }

  /** CheckQuorum: has a quorum of voters (counting `self`) been heard from recently? */
  quorumActive(self: number): boolean {
    let active = 0;
    for (const id of this.voters) {
      if (id === self || this.progress.get(id)?.recentActive === true) active++;
    }
    return active >= this.quorum();
  }

  resetVotes(): void {
    this.votes.clear();
  }

  /** Record a vote; only the first answer of each voter counts. */
  recordVote(id: number, granted: boolean): void {
    if (!this.votes.has(id)) this.votes.set(id, granted);
  }

  tallyVotes(): { granted: number; rejected: number; result: VoteResult } {
    let granted = 0;
    let rejected = 0;
    for (const id of this.voters) {
      const v = this.votes.get(id);
      if (v === true) granted++;
      else if (v === false) rejected++;
    }
    const q = this.quorum();
    let result: VoteResult = VoteResult.Pending;
    if (granted >= q) result = VoteResult.Won;
    else if (rejected > this.voters.size - q) result = VoteResult.Lost;
    return { granted, rejected, result };
  }
}
