/**
 * Membership churn for the simulator: the operator's requests, one server at a time (the core's
 * single-server changes, thesis §4.1) — add a learner, promote a learner, add a voter directly,
 * remove a learner or a voter (the leader included).
 *
 * Requests go to the current leader and are chosen from *its* configuration, as an operator
 * reading `member list` would. The core may turn a request into an empty entry (a change is
 * already pending, or no entry of the leader's term has committed yet) or drop it (transfer in
 * progress); both are part of what is exercised. New members get fresh ids, never reused: the
 * cluster starts their process once the addition is applied (cluster.ts membershipApplied).
 */
import { ConfChangeType, type ConfChange } from '../../server/raft/index.js';
import type { SimCluster } from './cluster.js';
import { pick } from './pick.js';

export interface MembershipLimits {
  /** Fewest voters a removal may leave. */
  votersMin: number;
  votersMax: number;
  learnersMax: number;
  /** Ids at or above this are never used (the network's link key packs ids below 1024). */
  idLimit: number;
}

export class MembershipChurn {
  private nextId: number;

  constructor(
    private readonly cluster: SimCluster,
    private readonly limits: MembershipLimits,
  ) {
    this.nextId = Math.max(...cluster.initialVoters) + 1;
  }

  /** Ask the leader (if any) for one random change allowed by the limits. */
  request(): void {
    const leader = this.cluster.leader();
    if (leader?.node === undefined) return;
    const tracker = leader.node.raft.tracker;
    const voters = [...tracker.voters].sort((a, b) => a - b);
    const learners = [...tracker.learners].sort((a, b) => a - b);
    const cc = this.choose(voters, learners);
    if (cc === undefined) return;
    const accepted = this.cluster.input(leader.id, `conf-change ${cc.type} ${cc.nodeId}`, (node) => node.proposeConfChange(cc));
    if (!accepted) return;
    this.cluster.stats.confChangesProposed++;
    if (cc.type === ConfChangeType.RemoveNode && cc.nodeId === leader.id) this.cluster.stats.leaderRemovalsProposed++;
  }

  private choose(voters: number[], learners: number[]): ConfChange | undefined {
    const rng = this.cluster.rng;
    const { votersMin, votersMax, learnersMax, idLimit } = this.limits;
    const options: Array<() => ConfChange | undefined> = [];
    const fresh = (type: ConfChangeType): ConfChange | undefined => (this.nextId < idLimit ? { type, nodeId: this.nextId++ } : undefined);
    const pickId = (ids: number[]): number => pick(rng, ids);
    if (learners.length < learnersMax) options.push(() => fresh(ConfChangeType.AddLearner));
    if (learners.length > 0 && voters.length < votersMax) options.push(() => ({ type: ConfChangeType.AddNode, nodeId: pickId(learners) }));
    if (voters.length < votersMax) options.push(() => fresh(ConfChangeType.AddNode));
    if (learners.length > 0) options.push(() => ({ type: ConfChangeType.RemoveNode, nodeId: pickId(learners) }));
    if (voters.length > votersMin) {
      // Removing a voter, the leader as likely as any other.
      options.push(() => ({ type: ConfChangeType.RemoveNode, nodeId: pickId(voters) }));
    }
    if (options.length === 0) return undefined;
    return pick(rng, options)();
  }
}
