import { linesLog } from '../testing/recording-log.js';
import { expect } from 'chai';
import { SimClock } from '../../test/sim/clock.js';
import { CompactedError } from '../mvcc/errors.js';
import { AutoCompactor, revisionCheckIntervalMs, type AutoCompaction, type CompactionTarget } from './auto-compactor.js';

/** A member whose revision the test moves, recording the compactions asked of it (at the virtual time asked). */
class FakeMember implements CompactionTarget {
  currentRevision = 1;
  isLeader = true;
  compactions: Array<{ revision: number; atMs: number }> = [];
  refuse: Error | undefined;
  constructor(private readonly clock: SimClock) {}

  compact(revision: number): Promise<void> {
    this.compactions.push({ revision, atMs: this.clock.nowMs() });
    return this.refuse === undefined ? Promise.resolve() : Promise.reject(this.refuse);
  }
}

describe('AutoCompactor (--auto-compaction-mode, --auto-compaction-retention)', () => {
  let clock: SimClock;
  let member: FakeMember;
  let compactor: AutoCompactor | undefined;
  const lines: string[] = [];

  const start = (settings: AutoCompaction): void => {
    compactor = new AutoCompactor(settings, member, clock, linesLog(lines));
    compactor.start();
  };
  /** Moves time in `stepMs` steps, the revision growing by `perStep` each, letting each compaction's promise settle. */
  const run = async (totalMs: number, stepMs: number, perStep: number): Promise<void> => {
    for (let elapsed = 0; elapsed < totalMs; elapsed += stepMs) {
      member.currentRevision += perStep;
      clock.advance(stepMs);
      await new Promise((resolve) => setImmediate(resolve));
    }
  };

  beforeEach(() => {
    clock = new SimClock();
    member = new FakeMember(clock);
    lines.length = 0;
  });
  afterEach(() => compactor?.stop());

  it('revision mode: every 5 minutes, compacts at current − retention, not twice at the same revision', async () => {
    start({ mode: 'revision', retention: 100 });
    await run(revisionCheckIntervalMs, 60_000, 10); // revision 51: nothing to keep yet
    expect(member.compactions).to.deep.equal([]);
    await run(revisionCheckIntervalMs, 60_000, 50); // revision 301
    expect(member.compactions.map((c) => c.revision)).to.deep.equal([201]);
    await run(revisionCheckIntervalMs, 60_000, 0); // no write since: same revision, not again
    expect(member.compactions.map((c) => c.revision)).to.deep.equal([201]);
    expect(lines).to.include('starting auto revision compaction at revision 201');
  });

  it('periodic mode, 10 s: records the revision every second; after 10 s, and every 10 s after a success, compacts the oldest kept', async () => {
    start({ mode: 'periodic', retentionMs: 10_000 });
    await run(30_000, 1_000, 5);
    // Revision 1 at 0 s, then +5 a second. As etcd's window (11 revisions), the oldest kept at a
    // compaction is the one of a retention and a recording interval ago: 0 s at 10 s, then 9 s at 20 s.
    expect(member.compactions).to.deep.equal([
      { revision: 1, atMs: 10_000 },
      { revision: 46, atMs: 20_000 },
      { revision: 96, atMs: 30_000 },
    ]);
  });

  it('periodic mode, 24 h: the first compaction after a day, then hourly, each of the revision a day before', async () => {
    start({ mode: 'periodic', retentionMs: 24 * 3_600_000 });
    await run(26 * 3_600_000, 360_000, 1); // a revision per 6-minute step
    expect(member.compactions.map((c) => c.atMs / 3_600_000)).to.deep.equal([24, 25, 26]);
    // 241 revisions kept, one per 6 minutes: at 25 h the oldest is from 0.9 h.
    expect(member.compactions.map((c) => c.revision)).to.deep.equal([1, 10, 20]);
  });

  it('periodic mode: after a failure tries again a tenth of the interval later; an already compacted revision counts as done', async () => {
    start({ mode: 'periodic', retentionMs: 10_000 });
    member.refuse = new Error('etcdserver: no leader');
    await run(12_000, 1_000, 1);
    expect(member.compactions.map((c) => c.atMs)).to.deep.equal([10_000, 11_000, 12_000]);
    member.refuse = new CompactedError();
    await run(1_000, 1_000, 1);
    await run(9_000, 1_000, 1);
    expect(member.compactions.map((c) => c.atMs)).to.deep.equal([10_000, 11_000, 12_000, 13_000]);
    expect(lines.filter((line) => line.startsWith('failed auto periodic compaction'))).to.have.length(3);
  });

  it('only the leader compacts; revisions are still recorded meanwhile', async () => {
    member.isLeader = false;
    start({ mode: 'periodic', retentionMs: 10_000 });
    await run(15_000, 1_000, 1);
    expect(member.compactions).to.deep.equal([]);
    member.isLeader = true;
    await run(1_000, 1_000, 1);
    expect(member.compactions).to.deep.equal([{ revision: 6, atMs: 16_000 }]);
  });
});
