// Lease deadlines, kept by the member that leads, on an injected clock.
// Deadlines are not replicated: a lease gets a full TTL when this member
// first sees it (after a grant, a restart, or on becoming leader — etcd
// refreshes leases on promotion), and again on every keep-alive. Expired leases are handed out at a bounded rate so that
// thousands expiring together become a steady stream of revokes.
// Deadlines are on the clock's monotonic time (nowMs), never its wall time:
// a step of the date would expire every lease at once, or keep lapsed ones
// alive for as long as the step.
import type { Clock } from '../clock.js';
import type { LeaseTable } from './table.js';

export class LeaseExpiry {
  private readonly deadlines = new Map<bigint, number>();
  /** Leases handed out for revocation whose revoke has not been applied yet. */
  private readonly revoking = new Set<bigint>();

  constructor(private readonly table: LeaseTable, private readonly clock: Clock) {}

  /** Milliseconds until the lease expires (negative once expired), or undefined if it does not exist. */
  remainingMs(id: bigint): number | undefined {
    const lease = this.table.get(id);
    if (lease === undefined) return undefined;
    return this.deadline(id, Number(lease.ttlSeconds)) - this.clock.nowMs();
  }

  /** A grant was applied: the lease's full TTL starts now (whatever an earlier lease of that ID left behind). */
  started(id: bigint): void {
    const lease = this.table.get(id);
    this.revoking.delete(id);
    if (lease === undefined) this.deadlines.delete(id);
    else this.deadlines.set(id, this.clock.nowMs() + Number(lease.ttlSeconds) * 1000);
  }

  /** A keep-alive: the lease lives a full TTL from now. Returns the TTL, or undefined if it does not exist or already expired. */
  renew(id: bigint): bigint | undefined {
    const lease = this.table.get(id);
    if (lease === undefined) return undefined;
    const now = this.clock.nowMs();
    if (this.deadline(id, Number(lease.ttlSeconds)) <= now || this.revoking.has(id)) return undefined;
    this.deadlines.set(id, now + Number(lease.ttlSeconds) * 1000);
    return lease.ttlSeconds;
  }

  /**
   * Up to `max` expired leases not already being revoked, oldest deadline
   * first. The caller proposes their revokes and calls `settled` for each.
   */
  takeExpired(max: number): bigint[] {
    const now = this.clock.nowMs();
    const expired: Array<[bigint, number]> = [];
    for (const id of this.table.ids()) {
      const lease = this.table.get(id);
      if (lease === undefined || this.revoking.has(id)) continue;
      const deadline = this.deadline(id, Number(lease.ttlSeconds));
      if (deadline <= now) expired.push([id, deadline]);
    }
    for (const id of this.deadlines.keys()) if (!this.table.exists(id)) this.deadlines.delete(id);
    expired.sort((a, b) => a[1] - b[1]);
    const taken = expired.slice(0, max).map(([id]) => id);
    for (const id of taken) this.revoking.add(id);
    return taken;
  }

  /**
   * This member became leader: every lease gets its full TTL from now, as
   * etcd refreshes leases on promotion (the old leader's deadlines are
   * unknown here, and a lease must not expire for a leader change).
   */
  promote(): void {
    this.deadlines.clear();
    this.revoking.clear();
  }

  /** The revoke of `id` was applied or failed; it may be handed out again if it still exists. */
  settled(id: bigint): void {
    this.revoking.delete(id);
    if (!this.table.exists(id)) this.deadlines.delete(id);
  }

  private deadline(id: bigint, ttlSeconds: number): number {
    let deadline = this.deadlines.get(id);
    if (deadline === undefined) {
      deadline = this.clock.nowMs() + ttlSeconds * 1000;
      this.deadlines.set(id, deadline);
    }
    return deadline;
  }
}
