/**
 * One simulated run from a seed: a fault phase (random network faults, partitions, crashes,
 * restarts, leadership transfers, with a proposal and read workload), then a liveness phase (faults
 * stop, everything heals and restarts; a leader must be elected and a proposal must commit and be
 * applied everywhere within `livenessUnitsMax`).
 *
 * Everything random comes from one SeededRandom(seed), so a seed replays exactly; the trace digest
 * proves it.
 */
import { RaftInvariantError, SeededRandom, type DeliberateBugs } from '../../server/raft/index.js';
import { SimCluster, type FaultProfile, type Stats } from './cluster.js';
import { SafetyViolation } from './checker.js';
import { MembershipChurn } from './membership.js';
import { RegisterWorkload } from './workload.js';
import { pick } from './pick.js';
import { Trace } from './trace.js';

export interface RunOptions {
  seed: number;
  /** 3 or 5; default: 3 for even seeds, 5 for odd ones. */
  nodes?: number;
  /** Units of virtual time with faults. */
  steps?: number;
  livenessUnitsMax?: number;
  bugs?: DeliberateBugs;
  /** Events kept for the failure report. */
  traceTailMax?: number;
  /**
   * 'mixed' (default): fault rates drawn per seed. 'churn': leaders come and go every few ticks
   * and messages carry one entry each — the schedule family of the paper's Figure 8.
   */
  profile?: 'mixed' | 'churn';
  /** Deliberately broken client reads (served locally, no ReadIndex), for the checker's test. */
  localReads?: boolean;
}

export interface RunResult {
  seed: number;
  nodes: number;
  ok: boolean;
  digest: string;
  /** What went wrong: a safety violation, a broken invariant, or a liveness failure. */
  violation: string | undefined;
  traceTail: string[];
  stats: Stats;
  /** Faults injected: crashes + partitions + dropped + duplicated messages. */
  faults: number;
  committed: number;
  unitsRun: number;
  events: number;
  /** Client operations: completed, ambiguous (timed out), and the checker's verdict. */
  operations: { completed: number; ambiguous: number; linearizability: 'ok' | 'inconclusive' | 'not checked'; statesExplored: number };
}

/** Per-unit probabilities of each fault and client action, drawn per seed. */
interface FaultRates {
  crash: number;
  restart: number;
  partition: number;
  heal: number;
  propose: number;
  read: number;
  transfer: number;
  confChange: number;
}

const encoder = new TextEncoder();

export function runSeed(opts: RunOptions): RunResult {
  const seed = opts.seed;
  const rng = new SeededRandom(seed);
  const nodes = opts.nodes ?? (seed % 2 === 0 ? 3 : 5);
  const steps = opts.steps ?? 400;
  const livenessUnitsMax = opts.livenessUnitsMax ?? 300;
  const trace = new Trace(opts.traceTailMax ?? 150);
  const faults: FaultProfile = {
    dropRate: rng.next() * 0.2,
    duplicateRate: rng.next() * 0.05,
    maxDelay: 1 + rng.intBelow(6),
    maxDiskDelay: rng.intBelow(3),
  };
  // A quarter of the seeds churn hard (frequent crashes and partitions, short-lived).
  const churnProfile = opts.profile === 'churn';
  const churn = churnProfile ? 12 : rng.chance(0.25) ? 4 : 1;
  const rates: FaultRates = {
    crash: (0.002 + rng.next() * 0.008) * churn,
    restart: (0.02 + rng.next() * 0.06) * churn,
    partition: (0.003 + rng.next() * 0.012) * churn,
    heal: (0.01 + rng.next() * 0.04) * churn,
    propose: 0.2 + rng.next() * 0.8,
    read: 0.05 + rng.next() * 0.45,
    transfer: rng.next() * 0.004,
    // Membership churn in 60% of the seeds: about 2 to 20 requested changes each.
    confChange: rng.chance(0.6) ? 0.005 + rng.next() * 0.045 : 0,
  };
  const ids = Array.from({ length: nodes }, (_, i) => i + 1);
  const cluster = new SimCluster(
    {
      seed, nodes, electionTicks: 10, heartbeatTicks: 1,
      snapshotInterval: rng.chance(0.7) ? 10 + rng.intBelow(40) : 0,
      snapshotKeepMax: rng.intBelow(8),
      clockSkew: rng.next() * 0.3,
      maxInflightMsgs: 1 + rng.intBelow(16),
      maxSizePerMsgBytes: churnProfile ? 1 : pick(rng, [1, 100, 4096]),
      bugs: opts.bugs,
    },
    faults, rng, trace, ids,
  );
  trace.record(0, `seed ${seed} nodes ${nodes} faults ${JSON.stringify(faults)}`);
  const workload = new RegisterWorkload(cluster, {
    clients: 3 + rng.intBelow(8), keys: 1 + rng.intBelow(4), opTimeoutUnits: 40 + rng.intBelow(60), localReads: opts.localReads,
  });
  const churnMembers = new MembershipChurn(cluster, {
    votersMin: nodes === 3 ? 2 : 3, votersMax: nodes + 1, learnersMax: 2, idLimit: 1000,
  });
  let violation: string | undefined;
  let linearizability: RunResult['operations']['linearizability'] = 'not checked';
  let statesExplored = 0;
  try {
    for (let unit = 0; unit < steps; unit++) {
      injectFaults(cluster, rates);
      workload.expire();
      if (rng.chance(rates.propose)) workload.issue(pickTarget(cluster), 'update');
      if (rng.chance(rates.read)) workload.issue(pickTarget(cluster), 'read');
      if (rng.chance(rates.transfer)) transfer(cluster);
      if (rates.confChange > 0 && rng.chance(rates.confChange)) churnMembers.request();
      cluster.step();
    }
    const liveness = livenessPhase(cluster, livenessUnitsMax);
    violation = liveness.violation;
    workload.finish();
    if (violation === undefined) workload.checkAcknowledged(liveness.members);
    if (violation === undefined) {
      const verdict = workload.check();
      statesExplored = verdict.statesExplored;
      if (verdict.status === 'violation') violation = `linearizability: ${verdict.explanation}`;
      else linearizability = verdict.status;
    }
  } catch (e) {
    if (e instanceof SafetyViolation || e instanceof RaftInvariantError) violation = `${e.name}: ${e.message}`;
    else throw e;
  }
  const s = cluster.stats;
  return {
    seed, nodes, ok: violation === undefined, digest: trace.digest(), violation,
    traceTail: violation === undefined ? [] : trace.lastEvents(), stats: s,
    faults: s.crashes + s.partitions + s.messagesDropped + s.messagesDuplicated,
    committed: cluster.checker.committedMax, unitsRun: cluster.now, events: trace.events,
    operations: { completed: workload.completed, ambiguous: workload.ambiguous, linearizability, statesExplored },
  };
}

/** Ids of the nodes running or crashed (not the ones shut down after their removal). */
function nodeIds(cluster: SimCluster): number[] {
  return [...cluster.nodes.keys()];
}

function pickTarget(cluster: SimCluster): number {
  const ids = nodeIds(cluster);
  const leader = cluster.leader();
  if (leader !== undefined && cluster.rng.chance(0.7)) return leader.id;
  return pick(cluster.rng, ids);
}

function injectFaults(cluster: SimCluster, rates: FaultRates): void {
  const rng = cluster.rng;
  const ids = nodeIds(cluster);
  if (rng.chance(rates.crash)) cluster.crash(pick(rng, ids));
  for (const n of cluster.nodes.values()) if (n.node === undefined && rng.chance(rates.restart)) cluster.restart(n.id);
  if (cluster.blocked.size === 0 && rng.chance(rates.partition)) partition(cluster, ids);
  else if (cluster.blocked.size > 0 && rng.chance(rates.heal)) {
    cluster.blocked.clear();
    cluster.stats.heals++;
    cluster.trace.record(cluster.now, 'heal');
  }
}

/** Symmetric split, asymmetric one-way cuts, or isolation of the leader. */
function partition(cluster: SimCluster, ids: number[]): void {
  const rng = cluster.rng;
  const block = (a: number, b: number) => cluster.blocked.add(a * 1024 + b);
  const kind = rng.intBelow(3);
  cluster.stats.partitions++;
  if (kind === 0) {
    const shuffled = shuffle(ids, rng);
    const k = 1 + rng.intBelow(Math.floor(ids.length / 2));
    const a = shuffled.slice(0, k);
    const b = shuffled.slice(k);
    for (const x of a) for (const y of b) { block(x, y); block(y, x); }
    cluster.trace.record(cluster.now, `partition symmetric [${a.join(',')}] | [${b.join(',')}]`);
  } else if (kind === 1) {
    const cuts: string[] = [];
    const count = 1 + rng.intBelow(ids.length);
    for (let i = 0; i < count; i++) {
      const from = pick(rng, ids);
      const to = pick(rng, ids);
      if (from === to) continue;
      block(from, to);
      cuts.push(`${from}->${to}`);
    }
    cluster.trace.record(cluster.now, `partition asymmetric ${cuts.join(' ')}`);
  } else {
    const leader = cluster.leader()?.id ?? pick(rng, ids);
    for (const y of ids) if (y !== leader) { block(leader, y); block(y, leader); }
    cluster.trace.record(cluster.now, `partition isolate-leader ${leader}`);
  }
}

function transfer(cluster: SimCluster): void {
  const leader = cluster.leader();
  if (leader?.node === undefined) return;
  const ids = [...leader.node.raft.tracker.voters].sort((a, b) => a - b);
  const target = pick(cluster.rng, ids);
  if (target === leader.id) return;
  cluster.stats.transfers++;
  cluster.input(leader.id, `transfer-leader to ${target}`, (node) => node.transferLeader(target));
}

function shuffle(ids: number[], rng: SeededRandom): number[] {
  // Fisher–Yates, drawing each next element out of those left.
  const left = ids.slice();
  const out: number[] = [];
  while (left.length > 1) out.push(...left.splice(rng.intBelow(left.length), 1));
  out.push(...left);
  return out;
}

/**
 * Faults stop: heal, restart everyone, a reliable network. Within livenessUnitsMax a leader must
 * commit a marker proposal and every node must apply it. Returns a violation or undefined.
 */
function livenessPhase(cluster: SimCluster, livenessUnitsMax: number): { violation: string | undefined; members: number[] } {
  cluster.blocked.clear();
  cluster.faults = { dropRate: 0, duplicateRate: 0, maxDelay: 2, maxDiskDelay: 1 };
  cluster.shutdownRemoved();
  for (const id of nodeIds(cluster)) cluster.restart(id);
  cluster.trace.record(cluster.now, 'faults stop');
  const marker = encoder.encode('liveness-marker');
  let markerIndex = 0;
  /** The members of the configuration in force at the marker: each of them must apply it. */
  let markerMembers: number[] = [];
  let proposedAt = -Infinity;
  const previousOnApply = cluster.onApply;
  cluster.onApply = (n, e) => {
    previousOnApply?.(n, e);
    if (markerIndex === 0 && e.data.length === marker.length && new TextDecoder().decode(e.data) === 'liveness-marker') {
      markerIndex = e.index;
      markerMembers = [...n.confState.voters, ...n.confState.learners];
    }
  };
  // Catching up a backlog takes time proportional to it (one entry per message in some seeds):
  // the bound is a constant plus a few units per entry of backlog.
  let lastMax = 0;
  let appliedMin = Infinity;
  for (const n of cluster.nodes.values()) {
    lastMax = Math.max(lastMax, cluster.lastIndex(n));
    appliedMin = Math.min(appliedMin, n.appliedIndex);
  }
  const boundUnits = livenessUnitsMax + 3 * (lastMax - appliedMin);
  cluster.trace.record(cluster.now, `liveness bound ${boundUnits} units`);
  const start = cluster.now;
  while (cluster.now - start < boundUnits) {
    cluster.step();
    if (markerIndex > 0) {
      if (markerMembers.every((id) => (cluster.nodes.get(id)?.appliedIndex ?? -1) >= markerIndex)) return { violation: undefined, members: markerMembers };
      continue;
    }
    const leader = cluster.leader();
    if (leader !== undefined && cluster.now - proposedAt > 30) {
      proposedAt = cluster.now;
      cluster.propose(leader.id, marker);
    }
  }
  const roles = [...cluster.nodes.values()].map((n) => `${n.id}:${n.node?.raft.state}/${n.node?.raft.term}/applied ${n.appliedIndex}`).join(' ');
  return {
    violation: `liveness: no proposal committed and applied by every member within ${boundUnits} units after faults stopped (markerIndex ${markerIndex}, members ${markerMembers.join(',')}; ${roles})`,
    members: markerMembers,
  };
}
