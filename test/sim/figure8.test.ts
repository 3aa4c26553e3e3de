/**
 * The paper's Figure 8 (§5.4.2), scripted on the simulator: a leader that commits an entry of an
 * earlier term by counting replicas lets a later leader overwrite a committed entry. With the rule
 * intact the same schedule is harmless; with the deliberate bug the SafetyChecker reports it.
 */
import { expect } from 'chai';
import { SeededRandom, type DeliberateBugs } from '../../server/raft/index.js';
import { SafetyViolation } from './checker.js';
import { SimCluster } from './cluster.js';
import { Trace } from './trace.js';

const A = 1;
const B = 2;
const C = 3;

function cluster(bugs: DeliberateBugs | undefined): SimCluster {
  return new SimCluster(
    { seed: 8, nodes: 3, electionTicks: 10, heartbeatTicks: 1, snapshotInterval: 0, snapshotKeepMax: 0, clockSkew: 0, maxInflightMsgs: 4, maxSizePerMsgBytes: 1, bugs },
    { dropRate: 0, duplicateRate: 0, maxDelay: 1, maxDiskDelay: 0 },
    new SeededRandom(8), new Trace(), [A, B, C],
  );
}

function runUntil(c: SimCluster, done: () => boolean, unitsMax = 200): void {
  for (let i = 0; i < unitsMax; i++) {
    if (done()) return;
    c.step();
  }
  throw new Error('scripted schedule did not reach its next stage');
}

function cut(c: SimCluster, x: number, y: number): void {
  c.blocked.add(x * 1024 + y);
  c.blocked.add(y * 1024 + x);
}

function join(c: SimCluster, x: number, y: number): void {
  c.blocked.delete(x * 1024 + y);
  c.blocked.delete(y * 1024 + x);
}

const raft = (c: SimCluster, id: number) => c.nodes.get(id)!.node!.raft;
const text = (s: string) => new TextEncoder().encode(s);

/** Plays Figure 8 (a)–(e). Returns the index whose entry is at stake. */
function playFigure8(c: SimCluster): number {
  // (a) A leads term 1; one entry commits everywhere.
  c.input(A, 'campaign', (n) => n.campaign());
  runUntil(c, () => raft(c, A).state === 'leader');
  c.propose(A, text('x'));
  runUntil(c, () => [A, B, C].every((id) => c.nodes.get(id)!.appliedIndex === 2));
  // A appends entry i while cut off from everyone: only A has it.
  cut(c, A, B);
  cut(c, A, C);
  c.propose(A, text('a'));
  const i = raft(c, A).log.lastIndex();
  // (b) B and C elect a leader of a higher term; it is cut off at once, so its entry at i stays local.
  runUntil(c, () => raft(c, B).state === 'leader' || raft(c, C).state === 'leader');
  const b = raft(c, B).state === 'leader' ? B : C;
  const other = b === B ? C : B;
  cut(c, b, other);
  expect(raft(c, b).log.lastIndex()).to.equal(i);
  // (c) A comes back (only to `other`), wins a later term and replicates entry i to `other`.
  join(c, A, other);
  runUntil(c, () => raft(c, A).state === 'leader' && raft(c, A).tracker.progress.get(other)!.match >= i, 400);
  // A is cut off before its own new-term entry reaches `other`.
  cut(c, A, other);
  c.crash(A);
  // (d) The leader of (b) returns: `other` has no entry of a term above b's, so b can win.
  join(c, b, other);
  runUntil(c, () => raft(c, b).state === 'leader' && raft(c, other).log.matchTerm(i, raft(c, b).log.term(i)!), 400);
  expect(raft(c, other).log.term(i)).to.not.equal(1); // entry i of term 1 was overwritten
  return i;
}

describe('simulator: Figure 8 (§5.4.2)', () => {
  it('with the commit rule intact, the entry of the earlier term is never committed and safety holds', () => {
    const c = cluster(undefined);
    const i = playFigure8(c);
    expect(c.checker.committedMax).to.be.lessThan(i + 1);
  });

  it('with the deliberate bug (commit by counting earlier-term replicas), the checker reports lost committed entries', () => {
    const c = cluster({ commitPreviousTermEntries: true });
    expect(() => playFigure8(c)).to.throw(SafetyViolation, /leader completeness: leader \d of term \d+ has term \d+ at index 3, but term 1 was committed there/);
  });
});
