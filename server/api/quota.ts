// The backend quota at the API edge, as etcd's quotaKVServer and
// quotaLeaseServer: a Put, a Txn that may put, or a LeaseGrant that would not
// fit is refused before it is proposed, and this member raises its NOSPACE
// alarm through the log first (so `etcdctl alarm list` shows it once the
// client has its error). While the alarm is raised, applying refuses such
// writes on every member (server/apply/alarm-gate.ts).
//
// Writes admitted together may still overshoot the quota: after each applied
// batch a member whose backend outgrew its quota raises the alarm too (as
// etcd does when applying finds the backend full), which stops the writes
// committed after it.
import type { Log } from '../log.js';
import { AlarmRequest_AlarmAction, AlarmType } from '../../proto/gen/etcdserverpb/rpc.js';
import type { AlarmSet } from '../alarm/alarms.js';
import { NoSpaceError } from '../alarm/errors.js';
import { costBytes, type BackendQuota, type QuotaRequest } from '../alarm/quota.js';
import type { RaftNode } from '../node/raft-node.js';

/** What the guard needs of the node. */
export type QuotaNode = Pick<RaftNode, 'propose' | 'isLearner' | 'memberId'>;

export class QuotaGuard {
  /** This member's NOSPACE proposal in flight, shared by every request that needs it. */
  private raising: Promise<void> | undefined;

  constructor(
    private readonly node: QuotaNode,
    private readonly alarms: Pick<AlarmSet, 'isRaisedBy'>,
    private readonly quota: BackendQuota,
    private readonly log: Log,
  ) {}

  /**
   * Call before validating and proposing a Put, Txn or LeaseGrant (etcd
   * checks the quota first). Resolves when the request fits; otherwise
   * raises the alarm and rejects with NoSpaceError. A learner is let
   * through: it refuses client writes itself.
   */
  async admit(request: QuotaRequest): Promise<void> {
    if (this.fits(request)) return;
    await this.raise(`a request of ${costBytes(request)} bytes does not fit`);
    throw new NoSpaceError();
  }

  /** Whether `request` passes admit() now: the hot paths then skip admit's promise and the turn of the loop awaiting it costs. */
  fits(request: QuotaRequest): boolean {
    return this.quota.admits(costBytes(request)) || this.node.isLearner;
  }

  /**
   * admit() for the callback paths: calls `proceed` once `request` is
   * admitted — at once, without a promise, when it fits (all requests but
   * near the quota) — or `refuse` with admit()'s error. A throw from
   * `proceed` after a wait goes to `refuse` too.
   */
  whenAdmitted(request: QuotaRequest, proceed: () => void, refuse: (error: unknown) => void): void {
    if (this.fits(request)) proceed();
    else this.admit(request).then(proceed).catch(refuse);
  }

  /** Call after each applied batch: a backend that outgrew its quota raises the alarm. */
  applied(): void {
    if (this.quota.exceeded) void this.raise('the backend outgrew it');
  }

  /** Proposes this member's NOSPACE alarm unless it is raised already; settles once applied or refused. */
  private raise(why: string): Promise<void> {
    const memberId = this.node.memberId;
    if (this.alarms.isRaisedBy(memberId, AlarmType.NOSPACE)) return Promise.resolve();
    if (this.raising !== undefined) return this.raising;
    this.log.warn(`backend quota of ${this.quota.limitBytes} bytes exceeded (${why}): raising alarm NOSPACE`);
    const alarm = { action: AlarmRequest_AlarmAction.ACTIVATE, memberID: memberId, alarm: AlarmType.NOSPACE };
    this.raising = this.node.propose({ alarm }, { internal: true }).then(
      () => undefined,
      (error: Error) => this.log.warn(`alarm NOSPACE not raised: ${error.message}`),
    );
    void this.raising.finally(() => (this.raising = undefined));
    return this.raising;
  }
}
