/**
 * The CI batch of the deterministic simulator: thousands of seeded failure schedules of 3- and
 * 5-node clusters of the real Raft core, each checked for safety after every step and for liveness
 * once faults stop. A failure prints its seed, the violation and the trace tail.
 */
import { expect } from 'chai';
import { report } from './report.js';
import { runSeed, type RunResult } from './run.js';

const mixedSeeds = 2000;
const churnSeeds = 300;

function runBatch(from: number, count: number, profile: 'mixed' | 'churn'): RunResult[] {
  const failures: RunResult[] = [];
  for (let seed = from; seed < from + count; seed++) {
    const r = runSeed({ seed, profile });
    if (!r.ok) failures.push(r);
  }
  return failures;
}

describe('simulator: CI batch', function () {
  this.timeout(240_000);

  it(`${mixedSeeds} seeds, mixed 3 and 5 nodes, mixed fault profiles: safety and liveness hold`, () => {
    const failures = runBatch(1, mixedSeeds, 'mixed');
    expect(failures.map(report).join('\n\n')).to.equal('');
  });

  it(`${churnSeeds} seeds of heavy churn (leaders change every few ticks, one entry per message)`, () => {
    const failures = runBatch(100_001, churnSeeds, 'churn');
    expect(failures.map(report).join('\n\n')).to.equal('');
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
  it('§5.2 granting two votes in one term is reported as an election safety violation', () => {
    const caught = [];
    for (let seed = 1; seed <= 200 && caught.length === 0; seed++) {
      const r = runSeed({ seed, bugs: { voteTwicePerTerm: true } });
      if (!r.ok) caught.push(r);
    }
    expect(caught, 'no seed out of 200 caught the double vote').to.have.length(1);
    expect(caught[0].violation).to.match(/election safety: nodes \d and \d are both leaders of term \d+/);
    expect(report(caught[0])).to.contain(`npm run sim -- --seed ${caught[0].seed}`);
    expect(caught[0].traceTail.length).to.be.greaterThan(10);
  });
});
