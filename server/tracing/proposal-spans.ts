// The spans of a request that goes through the log, under the span of the
// client call that proposed it (grpc/call-tracing.ts):
//
//   etcdserverpb.KV/Put            (server span, the client's trace)
//   ├── raft.commit                from the proposal until its entry is applied here:
//   │                              replication to a quorum and the WAL fsyncs
//   └── mvcc.apply                 applying the entry to the store
//
// Only requests proposed on this member have a parent here; what others
// proposed is applied without spans (their own member traces them).
import { context, trace, type Context, type Tracer } from '@opentelemetry/api';
import type { Clock } from '../clock.js';

interface Proposed {
  readonly parent: Context;
  readonly proposedWallMs: number;
}

export class ProposalSpans {
  /** By request ID; each is removed when applied or when its proposal ends otherwise (bounded by the pending proposals). */
  private readonly pending = new Map<bigint, Proposed>();

  constructor(private readonly tracer: Tracer, private readonly clock: Clock) {}

  /** Request `id` was proposed in the active context (the client call's span). */
  proposed(id: bigint): void {
    const parent = context.active();
    if (trace.getSpan(parent) === undefined) return;
    this.pending.set(id, { parent, proposedWallMs: this.clock.wallMs() });
  }

  /** Request `id`'s answer was given (or it failed): nothing more to record. */
  settled(id: bigint): void {
    this.pending.delete(id);
  }

  /** Request `id` is about to be applied: ends its commit span, opens its apply span; call the result once applied. */
  applying(id: bigint): (() => void) | undefined {
    const proposed = this.pending.get(id);
    if (proposed === undefined) return undefined;
    this.pending.delete(id);
    const nowWallMs = this.clock.wallMs();
    this.tracer.startSpan('raft.commit', { startTime: proposed.proposedWallMs }, proposed.parent).end(nowWallMs);
    const apply = this.tracer.startSpan('mvcc.apply', { startTime: nowWallMs }, proposed.parent);
    return () => apply.end(this.clock.wallMs());
  }
}
