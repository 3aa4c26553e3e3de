/**
 * The CI batch of the deterministic simulator: thousands of seeded failure schedules of 3- and
 * 5-node clusters of the real Raft core, each checked for safety after every step and for liveness
 * once faults stop. A failure prints its seed, the violation and the trace tail.
 */
import { expect } from 'chai';
import { runBatch, runSeeds } from './batch.js';
import { report } from './report.js';
import { runSeed, type RunResult } from './run.js';

const mixedSeeds = 3000;
const churnSeeds = 500;

// The seeds run on one worker thread per core (batch.ts): the same seeds and checks as one after
// another, in half the time on two cores.
describe('simulator: CI batch', function () {
  this.timeout(240_000);

  it(`${mixedSeeds} seeds, mixed 3 and 5 nodes, mixed fault profiles, membership churn: safety, liveness and linearizability hold`, async () => {
    const { failures, inconclusive, seedsRun } = await runBatch(1, mixedSeeds, 'mixed');
    expect(seedsRun).to.equal(mixedSeeds);
    expect(failures.join('\n\n')).to.equal('');
    expect(inconclusive, 'histories the linearizability search could not decide').to.be.at.most(mixedSeeds / 100);
  });

  it(`${churnSeeds} seeds of heavy churn (leaders change every few ticks, one entry per message)`, async () => {
    const { failures, inconclusive, seedsRun } = await runBatch(100_001, churnSeeds, 'churn');
    expect(seedsRun).to.equal(churnSeeds);
    expect(failures.join('\n\n')).to.equal('');
    expect(inconclusive).to.be.at.most(churnSeeds / 100);
  });
});

describe('simulator: determinism', () => {
  it('the same seed replays exactly (same trace digest); other seeds differ', () => {
    const a = runSeed({ seed: 4242 });
    const b = runSeed({ seed: 4242 });
    const c = runSeed({ seed: 4243, nodes: 5 });
    const d = runSeed({ seed: 4243, nodes: 5 });
    expect(a.digest).to.equal(b.digest);
    expect(a.events).to.equal(b.events);
    expect(c.digest).to.equal(d.digest);
    expect(a.digest).to.not.equal(c.digest);
  });

  it('a typical seed injects faults of every kind and still commits', () => {
    const r = runSeed({ seed: 11, nodes: 5 });
    expect(r.ok, r.violation).to.equal(true);
    expect(r.stats.messagesDropped).to.be.greaterThan(0);
    expect(r.stats.crashes + r.stats.partitions).to.be.greaterThan(0);
    expect(r.committed).to.be.greaterThan(20);
  });
});

describe('simulator: catches deliberate bugs', () => {
  it('reads served from a node\'s local state (no ReadIndex) are reported as not linearizable', () => {
    let caught: RunResult | undefined;
    for (let seed = 1; seed <= 50 && caught === undefined; seed++) {
      const r = runSeed({ seed, localReads: true });
      if (!r.ok) caught = r;
    }
    if (caught === undefined) throw new Error('no seed out of 50 caught the stale reads');
    expect(caught.violation).to.match(/^linearizability: key k\d: the \d+ operations have no linearization/);
  });

});

describe('simulator: workload', () => {
  it('seeds run client operations and membership changes (the leader removed too), and check linearizable histories', () => {
    const totals = { confChanges: 0, leaderRemovals: 0, joins: 0, removals: 0, completed: 0, ambiguous: 0 };
    for (let seed = 1; seed <= 40; seed++) {
      const r = runSeed({ seed });
      expect(r.ok, r.violation).to.equal(true);
      expect(r.operations.linearizability).to.equal('ok');
      totals.confChanges += r.stats.confChanges;
      totals.leaderRemovals += r.stats.leaderRemovalsProposed;
      totals.joins += r.stats.joins;
      totals.removals += r.stats.removals;
      totals.completed += r.operations.completed;
      totals.ambiguous += r.operations.ambiguous;
    }
    expect(totals.confChanges).to.be.greaterThan(40);
    expect(totals.leaderRemovals).to.be.greaterThan(2);
    expect(totals.joins).to.be.greaterThan(10);
    expect(totals.removals).to.be.greaterThan(10);
    expect(totals.completed).to.be.greaterThan(40 * 30);
    expect(totals.ambiguous).to.be.greaterThan(0);
  });

  it('§5.2 granting two votes in one term is reported as an election safety violation', () => {
    let caught: RunResult | undefined;
    for (let seed = 1; seed <= 200 && caught === undefined; seed++) {
      const r = runSeed({ seed, bugs: { voteTwicePerTerm: true } });
      if (!r.ok) caught = r;
    }
    if (caught === undefined) throw new Error('no seed out of 200 caught the double vote');
    expect(caught.violation).to.match(/election safety: nodes \d and \d are both leaders of term \d+/);
    expect(report(caught)).to.contain(`npm run sim -- --seed ${caught.seed}`);
    expect(caught.traceTail.length).to.be.greaterThan(10);
  });
});

describe('simulator: the batch on worker threads', () => {
  it('reports every failing seed, in seed order, as running them one after another does', async () => {
    const bugs = { voteTwicePerTerm: true };
    const sequential = runSeeds(Array.from({ length: 60 }, (_, i) => i + 1), 'mixed', bugs);
    const spread = await runBatch(1, 60, 'mixed', bugs);
    expect(sequential.failures.length).to.be.greaterThan(0);
    expect(spread.failures).to.deep.equal(sequential.failures);
    expect(spread.inconclusive).to.equal(sequential.inconclusive);
    expect(spread.seedsRun).to.equal(60);
  });
});
