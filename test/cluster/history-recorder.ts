// Records a history of register operations (read, write, compare-and-set) as
// concurrent clients perform them against a real cluster, in the form the
// linearizability checker takes (test/sim/linearizability.ts).
//
// Times are microseconds since the recorder was created, taken from the
// monotonic clock (performance.now) and nudged so that no two events share a
// time: the checker needs a total order of events, and all clients run on this
// one event loop, so the order in which their events are recorded is a real-time
// order. A call is recorded just before its request is handed to gRPC, a return
// as soon as its response arrives, so every operation's interval contains the
// moment the server acted on it.
//
// Outcomes, as a worked example (times in µs):
//
//   invoke write(7) at 100, response at 180        → complete: [100, 180], done
//   invoke cas(7→8) at 150, deadline exceeded       → ambiguous: [150, ∞], no output
//   invoke read at 160, unavailable                  → dropped: a failed read has no effect
//   invoke write(9) at 170, INVALID_ARGUMENT         → dropped: the server refused it outright
import assert from 'node:assert/strict';
import { performance } from 'node:perf_hooks';
import type { Operation, RegisterInput, RegisterOutput } from '../sim/linearizability.js';

export type OperationKind = RegisterInput['kind'];

export const operationKinds = ['read', 'write', 'cas'] as const satisfies readonly OperationKind[];

/** What became of the operations of one kind. */
export interface KindCounts {
  invoked: number;
  /** Completed with a result the checker uses. */
  ok: number;
  /** A write or CAS whose outcome is unknown: it may or may not have taken effect. */
  ambiguous: number;
  /** Left out of the history: a failed read, or a write/CAS the server provably did not apply. */
  dropped: number;
}

export interface HistoryStats {
  readonly kinds: Record<OperationKind, KindCounts>;
  /** Of the completed CAS operations, how many found the expected value. */
  casSucceeded: number;
  /** Failure causes ("UNAVAILABLE: etcdserver: no leader") → how often, for the report. */
  readonly errors: Map<string, number>;
}

interface Pending {
  readonly process: number;
  readonly key: string;
  readonly input: RegisterInput;
  readonly call: number;
}

/** Error causes kept distinct in the statistics; the rest are counted as "other". */
const errorCausesMax = 20;

export class HistoryRecorder {
  /** The history so far: completed and ambiguous operations, in the order they ended (or were given up). */
  readonly operations: Operation[] = [];
  readonly stats: HistoryStats = {
    kinds: { read: emptyCounts(), write: emptyCounts(), cas: emptyCounts() },
    casSucceeded: 0,
    errors: new Map(),
  };
  private readonly originMs = performance.now();
  private lastMicros = 0;
  private nextId = 0;
  private readonly pending = new Map<number, Pending>();

  /** A new event time, µs since the recorder was created, later than every earlier one. */
  now(): number {
    const micros = Math.round((performance.now() - this.originMs) * 1000);
    this.lastMicros = Math.max(micros, this.lastMicros + 1);
    return this.lastMicros;
  }

  /** Milliseconds since the recorder was created, on the same clock as the history (for fault logs). */
  elapsedMs(): number {
    return performance.now() - this.originMs;
  }

  /** Records the call of an operation; returns its id for complete/ambiguous/drop. */
  invoke(process: number, key: string, input: RegisterInput): number {
    const id = this.nextId++;
    this.pending.set(id, { process, key, input, call: this.now() });
    this.stats.kinds[input.kind].invoked += 1;
    return id;
  }

  /** The operation returned `output`. */
  complete(id: number, output: RegisterOutput): void {
    const op = this.take(id);
    const ret = this.now();
    if (op.input.kind === 'cas' && 'ok' in output && output.ok) this.stats.casSucceeded += 1;
    this.stats.kinds[op.input.kind].ok += 1;
    this.operations.push({ id, client: op.process, key: op.key, input: op.input, output, call: op.call, ret });
  }

  /** A write or CAS failed in a way that leaves its effect unknown: it stays pending forever. */
  ambiguous(id: number, cause: string): void {
    const op = this.take(id);
    assert.notEqual(op.input.kind, 'read', 'a failed read has no effect: drop it');
    this.countError(cause);
    this.stats.kinds[op.input.kind].ambiguous += 1;
    this.operations.push({ id, client: op.process, key: op.key, input: op.input, output: undefined, call: op.call, ret: Infinity });
  }

  /** The operation is left out of the history: it failed and had no effect. */
  drop(id: number, cause: string): void {
    const op = this.take(id);
    this.countError(cause);
    this.stats.kinds[op.input.kind].dropped += 1;
  }

  /** Operations invoked but not yet completed, ambiguous or dropped. */
  pendingCount(): number {
    return this.pending.size;
  }

  private take(id: number): Pending {
    const op = this.pending.get(id);
    assert(op !== undefined, `operation ${id} is not pending`);
    this.pending.delete(id);
    return op;
  }

  private countError(cause: string): void {
    const errors = this.stats.errors;
    const counted = errors.has(cause) || errors.size < errorCausesMax ? cause : 'other';
    errors.set(counted, (errors.get(counted) ?? 0) + 1);
  }
}

function emptyCounts(): KindCounts {
  return { invoked: 0, ok: 0, ambiguous: 0, dropped: 0 };
}
