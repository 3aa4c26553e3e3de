/**
 * A linearizability checker for histories of register operations (read, write, compare-and-set),
 * after Wing & Gong (1993) with Lowe's just-in-time linearization and memoization ("Testing for
 * linearizability", 2017) — the algorithm Porcupine and Knossos use.
 *
 * A history is a set of operations, each with an invocation time `call` and a response time `ret`
 * (a total order of events: no two are equal). It is linearizable if the operations can be put in
 * one sequence that (a) respects real time — if a returned before b was called, a comes first — and
 * (b) is legal for a register that starts at 0.
 *
 * Per-key partitioning: registers are independent, so a history is linearizable iff the history of
 * each key is (linearizability is compositional, Herlihy & Wing §3.3). Each key is checked alone,
 * which keeps the search exponential only in the concurrency of one key.
 *
 * Ambiguous operations: a write or compare-and-set whose outcome the client never learned (timeout,
 * crashed node) may or may not have taken effect. It gets `ret = Infinity` and no output: it may be
 * linearized at any point after its call, with whichever effect the register allows, or at the
 * very end (which is the same as never). An ambiguous read has no effect and is simply omitted by
 * the caller.
 *
 * The search, worked on a tiny history (times in brackets):
 *
 *     a: write(1)   [1, 4]
 *     b: read → 1   [2, 6]
 *     c: read → 0   [3, 5]
 *
 * Events in time order: call a, call b, call c, ret a, ret c, ret b. The search walks this list.
 * At a call it tries to linearize that operation now (apply it to the register; legal?); if the
 * pair (set of linearized operations, register value) was seen before, that branch is already known
 * to fail and is skipped (the memoization). At a return whose operation is not yet linearized it
 * backtracks: that operation had to take effect before it returned. Linearized operations are
 * lifted out of the list (call and return), and the walk restarts from the head after each step.
 *
 *   1. a: write(1) → value 1. List: call b, call c, ret c, ret b.
 *   2. b: read → 1, legal → lifted. List: call c, ret c. c: read → 0 from 1, illegal; ret c: undo b.
 *   3. c at value 1: illegal; ret c: undo a (value 0). List: call a, call b, call c, ret a, ret c, ret b.
 *   4. The walk goes on after a: b: read → 1 from 0, illegal. c: read → 0, legal. Back at the
 *      head: a (value 1), then b: read → 1, legal. Linearization: c, a, b. Had any of these
 *      steps reached a (set, value) pair seen before, the search would have skipped it.
 */

/** Register values are numbers; 0 is the initial value (the key does not exist yet). */
export type RegisterInput =
  | { readonly kind: 'read' }
  | { readonly kind: 'write'; readonly value: number }
  | { readonly kind: 'cas'; readonly expected: number; readonly value: number };

/** What the client saw; undefined when the operation is ambiguous. */
export type RegisterOutput = { readonly value: number } | { readonly ok: boolean } | { readonly done: true };

export interface Operation {
  readonly id: number;
  readonly client: number;
  readonly key: string;
  readonly input: RegisterInput;
  /** Undefined: ambiguous (then ret must be Infinity). */
  readonly output: RegisterOutput | undefined;
  readonly call: number;
  /** Infinity for an ambiguous operation. Invariant: call < ret. */
  readonly ret: number;
}

export type CheckResult =
  | { readonly status: 'ok'; readonly keys: number; readonly statesExplored: number }
  | { readonly status: 'violation'; readonly key: string; readonly explanation: string; readonly statesExplored: number }
  /** The search budget ran out on this key: neither proven nor refuted. */
  | { readonly status: 'inconclusive'; readonly key: string; readonly statesExplored: number };

export interface CheckOptions {
  /** Memoized states explored per key before giving up (a limit on time and memory). */
  readonly statesMax?: number;
}

/** Check a whole history, key by key (keys in sorted order, so reports are deterministic). */
export function checkRegisterHistory(ops: readonly Operation[], options: CheckOptions = {}): CheckResult {
  const byKey = new Map<string, Operation[]>();
  for (const op of ops) {
    if (!(op.call < op.ret)) throw new Error(`operation ${op.id}: call ${op.call} must precede return ${op.ret}`);
    if (op.output === undefined && op.ret !== Infinity) throw new Error(`operation ${op.id}: an ambiguous operation never returns`);
    let list = byKey.get(op.key);
    if (list === undefined) byKey.set(op.key, (list = []));
    list.push(op);
  }
  let statesExplored = 0;
  let inconclusive: CheckResult | undefined;
  for (const key of [...byKey.keys()].sort()) {
    const r = checkKey(key, byKey.get(key)!, options.statesMax ?? 200_000);
    statesExplored += r.statesExplored;
    if (r.status === 'violation') return { ...r, statesExplored };
    if (r.status === 'inconclusive' && inconclusive === undefined) inconclusive = r;
  }
  if (inconclusive !== undefined) return { ...inconclusive, statesExplored };
  return { status: 'ok', keys: byKey.size, statesExplored };
}

/** The register's sequential specification: the value after `op`, or undefined if illegal. */
export function stepRegister(value: number, op: Operation): number | undefined {
  const { input, output } = op;
  switch (input.kind) {
    case 'read':
      return output !== undefined && 'value' in output && output.value === value ? value : undefined;
    case 'write':
      return input.value;
    case 'cas': {
      const matches = value === input.expected;
      if (output === undefined) return matches ? input.value : value; // ambiguous: whichever happened
      const ok = 'ok' in output && output.ok;
      if (ok) return matches ? input.value : undefined;
      return matches ? undefined : value;
    }
  }
}

/** One operation, readably: `#7 c2 cas(3→9)=ok [14,20]`. */
export function describeOperation(op: Operation): string {
  const { input, output } = op;
  let what: string;
  if (input.kind === 'read') what = `read→${output !== undefined && 'value' in output ? output.value : '?'}`;
  else if (input.kind === 'write') what = `write(${input.value})`;
  else what = `cas(${input.expected}→${input.value})=${output === undefined ? '?' : 'ok' in output && output.ok ? 'ok' : 'fail'}`;
  const ret = op.ret === Infinity ? '∞ ambiguous' : String(op.ret);
  return `#${op.id} c${op.client} ${what} [${op.call},${ret}]`;
}

const NIL = -1;

/** Lowe's just-in-time linearization with memoization, over one key's operations. */
function checkKey(key: string, ops: readonly Operation[], statesMax: number): CheckResult {
  // Entries 1..2n: a call and a return per operation, in time order; entry 0 is the list head.
  const n = ops.length;
  const events: Array<{ time: number; op: number; isCall: boolean }> = [];
  ops.forEach((op, i) => {
    events.push({ time: op.call, op: i, isCall: true });
    events.push({ time: op.ret, op: i, isCall: false });
  });
  // Ties only between Infinity returns: order them by operation to stay deterministic.
  events.sort((a, b) => a.time - b.time || a.op - b.op || (a.isCall ? -1 : 1));
  const size = events.length + 1;
  const next = new Int32Array(size);
  const prev = new Int32Array(size);
  const opOf = new Int32Array(size);
  const isCall = new Uint8Array(size);
  const match = new Int32Array(size);
  const callEntry = new Int32Array(n);
  for (let e = 0; e < size; e++) {
    next[e] = e + 1 < size ? e + 1 : NIL;
    prev[e] = e - 1;
  }
  events.forEach((ev, i) => {
    const e = i + 1;
    opOf[e] = ev.op;
    isCall[e] = ev.isCall ? 1 : 0;
    if (ev.isCall) callEntry[ev.op] = e;
    else match[cell(callEntry, ev.op)] = e;
  });
  const lift = (e: number): void => {
    next[cell(prev, e)] = cell(next, e);
    prev[cell(next, e)] = cell(prev, e); // a call is always followed by at least its return
    const r = cell(match, e);
    next[cell(prev, r)] = cell(next, r);
    if (cell(next, r) !== NIL) prev[cell(next, r)] = cell(prev, r);
  };
  const unlift = (e: number): void => {
    const r = cell(match, e);
    next[cell(prev, r)] = r;
    if (cell(next, r) !== NIL) prev[cell(next, r)] = r;
    next[cell(prev, e)] = e;
    prev[cell(next, e)] = e;
  };

  const linearized = new Uint32Array(Math.ceil(n / 32));
  const flip = (op: number): void => {
    const word = op >>> 5;
    linearized[word] = cell(linearized, word) ^ (1 << (op & 31));
  };
  const seen = new Set<string>();
  const stack: Array<{ entry: number; value: number }> = [];
  let value = 0;
  let statesExplored = 0;
  let best: number[] = [];
  let stuck = NIL;

  let entry = cell(next, 0);
  while (cell(next, 0) !== NIL) {
    if (cell(isCall, entry) === 1) {
      const after = stepRegister(value, op(ops, cell(opOf, entry)));
      if (after !== undefined) {
        flip(cell(opOf, entry));
        const state = `${after}|${linearized.join(',')}`;
        if (!seen.has(state)) {
          if (++statesExplored > statesMax) return { status: 'inconclusive', key, statesExplored };
          seen.add(state);
          stack.push({ entry, value });
          value = after;
          lift(entry);
          if (stack.length > best.length) {
            best = stack.map((s) => cell(opOf, s.entry));
            stuck = NIL;
          }
          entry = cell(next, 0);
          continue;
        }
        flip(cell(opOf, entry));
      }
      entry = cell(next, entry);
    } else {
      // An operation returned without having been linearized: undo the last choice.
      if (stack.length === best.length && stuck === NIL) stuck = cell(opOf, entry);
      const top = stack.pop();
      if (top === undefined) {
        return { status: 'violation', key, explanation: explain(key, ops, best, stuck), statesExplored };
      }
      entry = top.entry;
      value = top.value;
      flip(cell(opOf, entry));
      unlift(entry);
      entry = cell(next, entry);
    }
  }
  return { status: 'ok', keys: 1, statesExplored };
}

function explain(key: string, ops: readonly Operation[], best: number[], stuck: number): string {
  const order = best.map((i) => describeOperation(op(ops, i)));
  const lines = [
    `key ${key}: the ${ops.length} operations have no linearization.`,
    `Longest legal real-time order found (${best.length} operations): ${order.length === 0 ? '(none)' : order.join(', ')}`,
  ];
  if (stuck !== NIL) lines.push(`then ${describeOperation(op(ops, stuck))} returned, but cannot be placed anywhere after that order.`);
  const shown = [...ops].sort((a, b) => a.call - b.call).slice(0, 40).map(describeOperation);
  lines.push(`operations on ${key} by call time${ops.length > 40 ? ' (first 40)' : ''}: ${shown.join('; ')}`);
  return lines.join('\n');
}

/** Cell i of a table the search sized by construction: out of range is a bug in the search. */
function cell(table: Int32Array | Uint8Array | Uint32Array, i: number): number {
  const value = table[i];
  if (value === undefined) throw new Error(`linearizability search: cell ${i} is outside its table of ${table.length}`);
  return value;
}

function op(ops: readonly Operation[], i: number): Operation {
  const found = ops[i];
  if (found === undefined) throw new Error(`linearizability search: no operation ${i} of ${ops.length}`);
  return found;
}
