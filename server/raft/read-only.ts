/**
 * ReadOnly: ReadIndex requests (§6.4) waiting for a quorum to confirm the leader is still leader.
 *
 * Worked example: a leader with committed = 12 gets ReadIndex "r1". It records {index 12, "r1"} and
 * broadcasts a heartbeat carrying context "r1". When a quorum (itself included) has answered that
 * heartbeat, every request queued up to and including "r1" is released with index 12: the caller may
 * serve those reads once its applied index reaches 12.
 */
import type { Message } from './types.js';

export interface ReadIndexStatus {
  readonly request: Message;
  readonly index: number;
  readonly acks: Set<number>;
}

export class ReadOnly {
  private readonly pending = new Map<string, ReadIndexStatus>();
  private queue: string[] = [];

  /** Queue a request (its context must be unique among pending ones; duplicates are ignored). */
  addRequest(index: number, request: Message): void {
    if (this.pending.has(request.context)) return;
    this.pending.set(request.context, { request, index, acks: new Set() });
    this.queue.push(request.context);
  }

  /** Record a heartbeat ack for `context`; returns the acks so far (undefined if unknown). */
  recvAck(id: number, context: string): Set<number> | undefined {
    const rs = this.pending.get(context);
    if (rs === undefined) return undefined;
    rs.acks.add(id);
    return rs.acks;
  }

  /** Release every request queued up to and including `context`. */
  advance(context: string): ReadIndexStatus[] {
    const at = this.queue.indexOf(context);
    if (at < 0) return [];
    const released = this.queue.slice(0, at + 1);
    this.queue = this.queue.slice(at + 1);
    return released.map((ctx) => {
      const rs = this.pending.get(ctx)!;
      this.pending.delete(ctx);
      return rs;
    });
  }

  lastPendingContext(): string {
    return this.queue[this.queue.length - 1] ?? '';
  }

  size(): number {
    return this.queue.length;
  }
}
