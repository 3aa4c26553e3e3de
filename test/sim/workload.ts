/**
 * The simulator's client workload: a few clients run register operations — writes and
 * compare-and-sets proposed through the log, reads through ReadIndex — against the nodes of the
 * simulated cluster, and the history of what they saw is checked for linearizability at the end.
 *
 * - Each client has at most one operation outstanding (like a Jepsen client) and sends it to one
 *   node: the leader 70% of the time, else any node (a follower forwards it or drops it).
 * - A write/CAS completes when *that* node applies its entry; the result is what its state machine
 *   computed. A read completes when that node's ReadIndex answer arrives and its applied index has
 *   reached the read index; the value is read from its state machine.
 * - The node crashes, or the operation takes longer than opTimeoutUnits: the client gives up. A
 *   write/CAS is then ambiguous (it may still take effect); a read is forgotten (it has no effect).
 *   A proposal refused with ProposalDroppedError never entered the log: it is forgotten too.
 * - Sessions (thesis §6.3): the state machine applies each operation id once. The network may
 *   duplicate a forwarded proposal, and the log then holds the command twice; the second copy is a
 *   no-op, as a client session table would make it.
 * - Every written value is unique, which keeps the checker's search narrow.
 *
 * The ReadIndex safety check also lives here: a read issued when index c was already committed must
 * be answered with an index ≥ c.
 */
import { EntryType, type Entry, type ReadState } from '../../server/raft/index.js';
import { SafetyViolation } from './checker.js';
import type { SimCluster, SimNode } from './cluster.js';
import { checkRegisterHistory, describeOperation, type CheckResult, type Operation, type RegisterInput, type RegisterOutput } from './linearizability.js';

export interface WorkloadOptions {
  clients: number;
  keys: number;
  opTimeoutUnits: number;
  /** Deliberately broken reads for the checker's own test: served from the local state machine. */
  localReads?: boolean;
}

interface Pending {
  readonly id: number;
  readonly client: number;
  readonly key: string;
  readonly input: RegisterInput;
  readonly node: number;
  readonly incarnation: number;
  readonly call: number;
  readonly issuedAt: number;
  /** Reads: the index every node had committed when it was issued (ReadIndex safety). */
  readonly readFloor: number;
  /** Reads: the ReadIndex answer, once it arrived. */
  readIndex: number | undefined;
}

/** Per node: register values and the operation ids already applied. */
interface StateMachine {
  registers: Map<string, number>;
  appliedOps: Set<number>;
  /** Results of applied operations, for the client waiting at this node. */
  results: Map<number, RegisterOutput>;
}

interface Command {
  op: number;
  k: string;
  w?: number;
  cas?: [number, number];
}

const encoder = new TextEncoder();
const decoder = new TextDecoder();
const OPEN_BRACE = 123;

export class RegisterWorkload {
  private readonly history: Operation[] = [];
  private readonly pending = new Map<number, Pending>();
  private readonly busyClients = new Set<number>();
  private readonly machines = new Map<number, StateMachine>();
  /** Writes and successful CASes answered to their client: by whom, when, and the log index of their entry. */
  private readonly acknowledged = new Map<number, { node: number; at: number; index: number }>();
  /** Operation ids some node applied, ever (the simulator's ground truth). */
  private readonly appliedAnywhere = new Set<number>();
  private nextOp = 1;
  private nextValue = 1;
  /** Event clock: every invocation and response gets the next tick, so real-time order is total. */
  private clock = 0;
  completed = 0;
  /** Writes and CASes whose client gave up (timeout, crash). */
  ambiguous = 0;

  constructor(
    private readonly cluster: SimCluster,
    private readonly options: WorkloadOptions,
  ) {
    cluster.onApply = (n, e) => this.applied(n, e);
    cluster.onRead = (n, rs) => this.readState(n, rs);
    cluster.onCrash = (id) => this.nodeLost(id);
    cluster.stateMachineImage = (n) => {
      const sm = this.machine(n.id);
      return { registers: [...sm.registers], appliedOps: [...sm.appliedOps] };
    };
    cluster.stateMachineRestore = (n, image) => {
      const img = image as { registers: Array<[string, number]>; appliedOps: number[] } | null;
      this.machines.set(n.id, {
        registers: new Map(img?.registers ?? []), appliedOps: new Set(img?.appliedOps ?? []), results: new Map(),
      });
    };
  }

  /** Start one operation from an idle client, if any, at node `target`. */
  issue(target: number, kind: 'read' | 'update'): void {
    const client = this.idleClient();
    if (client === undefined) return;
    const rng = this.cluster.rng;
    const key = `k${rng.intBelow(this.options.keys)}`;
    const n = this.cluster.nodes.get(target);
    if (n?.node === undefined) return;
    let input: RegisterInput;
    if (kind === 'read') input = { kind: 'read' };
    else if (rng.chance(0.5)) input = { kind: 'write', value: this.nextValue++ };
    else input = { kind: 'cas', expected: this.guess(target, key), value: this.nextValue++ };
    const p: Pending = {
      id: this.nextOp++, client, key, input, node: target, incarnation: n.incarnation, call: ++this.clock,
      issuedAt: this.cluster.now, readFloor: this.cluster.checker.committedMax, readIndex: undefined,
    };
    const what = input.kind === 'read' ? 'read' : input.kind === 'write' ? `write ${input.value}` : `cas ${input.expected}->${input.value}`;
    if (input.kind === 'read' && this.options.localReads === true) {
      this.pending.set(p.id, p);
      this.busyClients.add(client);
      this.complete(p, { value: this.machine(target).registers.get(key) ?? 0 });
      return;
    }
    const accepted = this.cluster.input(target, `op #${p.id} c${client} ${what} ${key}`, (node) => {
      if (input.kind === 'read') node.readIndex(`r${p.id}`);
      else node.propose(encodeCommand(p));
    });
    if (!accepted) return; // refused before entering the log: the operation never happened
    if (input.kind === 'read') this.cluster.stats.reads++;
    else this.cluster.stats.proposals++;
    this.pending.set(p.id, p);
    this.busyClients.add(client);
  }

  /** Give up on operations outstanding for longer than the timeout. */
  expire(): void {
    for (const p of this.pending.values()) {
      if (this.cluster.now - p.issuedAt >= this.options.opTimeoutUnits) this.abandon(p);
    }
  }

  /** Every client gives up on what is outstanding (end of the run). */
  finish(): void {
    for (const p of this.pending.values()) this.abandon(p);
  }

  /**
   * Check the history. The simulator knows one thing a real client cannot: whether an ambiguous
   * operation was applied by any node at all. One that never was did not take effect (equivalently,
   * it is linearized after everything else) and is left out, which keeps the search small. The
   * ones that were applied stay ambiguous: the checker must find where they fit.
   */
  check(): CheckResult {
    return checkRegisterHistory(this.history.filter((op) => op.output !== undefined || this.appliedAnywhere.has(op.id)));
  }

  /**
   * Durability: every write a client was told succeeded is in the state machine of each of
   * `members` that applied its log index — whatever crashes, lost unsynced writes and snapshots
   * happened in between.
   */
  checkAcknowledged(members: readonly number[]): void {
    for (const id of members) {
      const sm = this.machine(id);
      const appliedIndex = this.cluster.nodes.get(id)?.appliedIndex ?? 0;
      for (const [op, ack] of this.acknowledged) {
        if (ack.index <= appliedIndex && !sm.appliedOps.has(op)) {
          throw new SafetyViolation(`durability: write #${op}, acknowledged by node ${ack.node} at unit ${ack.at}, is not in node ${id}'s state machine`);
        }
      }
    }
  }

  get acknowledgedWrites(): number {
    return this.acknowledged.size;
  }

  operations(): readonly Operation[] {
    return this.history;
  }

  // ---- state machine --------------------------------------------------------------------------

  private machine(id: number): StateMachine {
    let sm = this.machines.get(id);
    if (sm === undefined) {
      sm = { registers: new Map(), appliedOps: new Set(), results: new Map() };
      this.machines.set(id, sm);
    }
    return sm;
  }

  private applied(n: SimNode, e: Entry): void {
    if (e.type === EntryType.Normal && e.data.length > 0 && e.data[0] === OPEN_BRACE) this.execute(n, e);
    this.serveReads(n);
  }

  private execute(n: SimNode, e: Entry): void {
    const cmd = JSON.parse(decoder.decode(e.data)) as Command;
    const sm = this.machine(n.id);
    if (sm.appliedOps.has(cmd.op)) return; // a duplicate of a command already applied
    sm.appliedOps.add(cmd.op);
    this.appliedAnywhere.add(cmd.op);
    const current = sm.registers.get(cmd.k) ?? 0;
    let output: RegisterOutput;
    if (cmd.w !== undefined) {
      sm.registers.set(cmd.k, cmd.w);
      output = { done: true };
    } else {
      const [expected, value] = cmd.cas!;
      const ok = current === expected;
      if (ok) sm.registers.set(cmd.k, value);
      output = { ok };
    }
    const p = this.pending.get(cmd.op);
    if (p !== undefined && p.node === n.id && p.incarnation === n.incarnation) this.complete(p, output, e.index);
  }

  private readState(n: SimNode, rs: ReadState): void {
    if (!rs.context.startsWith('r')) return;
    const p = this.pending.get(Number(rs.context.slice(1)));
    if (p === undefined || p.node !== n.id || p.incarnation !== n.incarnation || p.readIndex !== undefined) return;
    if (rs.index < p.readFloor) {
      throw new SafetyViolation(`read index: read ${rs.context} at node ${n.id} answered ${rs.index} but ${p.readFloor} was committed before it was issued`);
    }
    p.readIndex = rs.index;
    this.cluster.trace.record(this.cluster.now, `read-state @${n.id} ${rs.context} index ${rs.index}`);
    this.serveReads(n);
  }

  /** Reads at node n whose ReadIndex answer arrived and whose index n has applied. */
  private serveReads(n: SimNode): void {
    for (const p of this.pending.values()) {
      if (p.readIndex === undefined || p.node !== n.id || p.incarnation !== n.incarnation) continue;
      if (n.appliedIndex < p.readIndex) continue;
      this.complete(p, { value: this.machine(n.id).registers.get(p.key) ?? 0 });
    }
  }

  // ---- clients ----------------------------------------------------------------------------------

  private idleClient(): number | undefined {
    const free: number[] = [];
    for (let c = 1; c <= this.options.clients; c++) if (!this.busyClients.has(c)) free.push(c);
    return free.length === 0 ? undefined : free[this.cluster.rng.intBelow(free.length)];
  }

  /** A CAS expects the value the node's state machine shows (often current, sometimes stale). */
  private guess(node: number, key: string): number {
    return this.machine(node).registers.get(key) ?? 0;
  }

  private nodeLost(id: number): void {
    for (const p of this.pending.values()) if (p.node === id) this.abandon(p);
  }

  /** `index`: the log index of the entry a write was applied from. */
  private complete(p: Pending, output: RegisterOutput, index = 0): void {
    this.pending.delete(p.id);
    this.busyClients.delete(p.client);
    const op: Operation = { id: p.id, client: p.client, key: p.key, input: p.input, output, call: p.call, ret: ++this.clock };
    if ('done' in output || ('ok' in output && output.ok)) this.acknowledged.set(p.id, { node: p.node, at: this.cluster.now, index });
    this.history.push(op);
    this.completed++;
    this.cluster.trace.record(this.cluster.now, `done ${describeOperation(op)} ${p.key}`);
  }

  private abandon(p: Pending): void {
    this.pending.delete(p.id);
    this.busyClients.delete(p.client);
    if (p.input.kind === 'read') return; // no effect: leave it out
    this.ambiguous++;
    this.history.push({ id: p.id, client: p.client, key: p.key, input: p.input, output: undefined, call: p.call, ret: Infinity });
    this.cluster.trace.record(this.cluster.now, `ambiguous #${p.id} c${p.client}`);
  }
}

function encodeCommand(p: Pending): Uint8Array {
  const cmd: Command = { op: p.id, k: p.key };
  if (p.input.kind === 'write') cmd.w = p.input.value;
  else if (p.input.kind === 'cas') cmd.cas = [p.input.expected, p.input.value];
  return encoder.encode(JSON.stringify(cmd));
}
