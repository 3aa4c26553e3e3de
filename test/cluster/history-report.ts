// Reporting for the linearizability test: the statistics of a run, and, when
// the checker finds a violation, the shortest prefix of the offending key's
// history that is already not linearizable — so a report names the few
// operations around the anomaly instead of thousands.
//
// The prefix of a history at time T keeps the operations called by T, as the
// client knew them at T: an operation still running at T becomes ambiguous if
// it is a write or CAS, and is left out if it is a read. A linearizable history
// has only linearizable prefixes (cut any linearization at T), so "the prefix at
// T is not linearizable" holds from some first T on, and a binary search over
// the event times finds it: usually the return of the operation that cannot be placed.
import { writeFileSync } from 'node:fs';
import { must } from '../harness/must.js';
import {
  checkRegisterHistory,
  describeOperation,
  type CheckResult,
  type Operation,
} from '../sim/linearizability.js';
import { operationKinds, type HistoryStats } from './history-recorder.js';
import type { InjectedFault } from './history-nemesis.js';

export interface RunSummary {
  readonly label: string;
  readonly seed: number;
  readonly stats: HistoryStats;
  readonly faults: readonly InjectedFault[];
  readonly result: CheckResult;
  readonly workloadMs: number;
  readonly checkMs: number;
}

/** Lines for the test log: operations per kind and outcome, faults, checker effort. */
export function formatSummary(summary: RunSummary): string[] {
  const { stats, result } = summary;
  const lines = [`${summary.label} (seed ${summary.seed}): workload ${(summary.workloadMs / 1000).toFixed(1)} s, check ${summary.checkMs.toFixed(0)} ms`];
  for (const kind of operationKinds) {
    const counts = stats.kinds[kind];
    lines.push(`  ${kind.padEnd(5)} invoked ${counts.invoked}, ok ${counts.ok}, ambiguous ${counts.ambiguous}, dropped ${counts.dropped}`);
  }
  lines.push(`  cas succeeded ${stats.casSucceeded} of ${stats.kinds.cas.ok} completed`);
  for (const fault of summary.faults) {
    lines.push(`  fault ${fault.kind} on ${fault.member}: ${(fault.startMs / 1000).toFixed(2)} s → ${(fault.endMs / 1000).toFixed(2)} s`);
  }
  const errors = [...stats.errors].sort((a, b) => b[1] - a[1]).map(([cause, count]) => `${count}× ${cause}`);
  lines.push(`  errors: ${errors.length === 0 ? 'none' : errors.join(' | ')}`);
  const where = result.status === 'ok' ? `${result.keys} keys` : `key ${result.key}`;
  lines.push(`  checker: ${result.status} (${where}), ${result.statesExplored} states explored`);
  return lines;
}

/** The history as the client knew it at time `cutoff` (see the header). */
export function prefixAt(ops: readonly Operation[], cutoff: number): Operation[] {
  const prefix: Operation[] = [];
  for (const op of ops) {
    if (op.call > cutoff) continue;
    if (op.ret <= cutoff) prefix.push(op);
    else if (op.input.kind !== 'read') prefix.push({ ...op, output: undefined, ret: Infinity });
  }
  return prefix;
}

export interface ShortestViolation {
  /** The first event time at which the key's history is no longer linearizable. */
  readonly cutoff: number;
  /** The key's operations called by the cutoff, as known then. */
  readonly ops: Operation[];
  /** The same operations as they really ended (some returned after the cutoff). */
  readonly original: readonly Operation[];
}

/**
 * The shortest not-linearizable prefix of `key`'s operations; undefined if even
 * the whole key's history passes (the violation needed the search budget to run out elsewhere).
 */
export function shortestViolation(ops: readonly Operation[], key: string, statesMax: number): ShortestViolation | undefined {
  const keyOps = ops.filter((op) => op.key === key);
  const times = keyOps.flatMap((op) => (op.ret === Infinity ? [op.call] : [op.call, op.ret])).sort((a, b) => a - b);
  const fails = (cutoff: number) => checkRegisterHistory(prefixAt(keyOps, cutoff), { statesMax }).status === 'violation';
  const last = times[times.length - 1];
  if (last === undefined || !fails(last)) return undefined;
  const timeAt = (index: number): number => must(times[index], `call or return time ${index} of ${times.length}`);
  let low = 0; // Invariant: the prefix at times[high] fails; those before times[low] pass.
  let high = times.length - 1;
  while (low < high) {
    const middle = (low + high) >>> 1;
    if (fails(timeAt(middle))) high = middle;
    else low = middle + 1;
  }
  const cutoff = timeAt(high);
  return { cutoff, ops: prefixAt(keyOps, cutoff), original: keyOps.filter((op) => op.call <= cutoff) };
}

/** The last `count` operations of a violation by call time, one per line, with how many came before. */
export function describeViolation(violation: ShortestViolation, count: number): string[] {
  const sorted = [...violation.original].sort((a, b) => a.call - b.call);
  const shown = sorted.slice(-count);
  const lines = [`shortest failing prefix: ${sorted.length} operations, up to ${violation.cutoff} µs; the last ${shown.length}:`];
  for (const op of shown) lines.push(`  ${describeOperation(op)}${lateNote(op, violation.cutoff)}`);
  return lines;
}

/** How the prefix saw an operation that was still running at the cutoff. */
function lateNote(op: Operation, cutoff: number): string {
  if (op.ret <= cutoff || op.ret === Infinity) return '';
  return op.input.kind === 'read' ? ' (returned after the cutoff: left out)' : ' (returned after the cutoff: ambiguous there)';
}

/** Writes the history as JSON (an ambiguous operation's ret is written as null) for replay through the checker. */
export function saveHistory(path: string, ops: readonly Operation[]): void {
  writeFileSync(path, JSON.stringify(ops, (_, value: unknown) => (value === Infinity ? null : value)));
}
