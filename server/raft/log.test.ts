import { expect } from 'chai';
import { RaftInvariantError } from './assert.js';
import { StorageCompactedError } from './errors.js';
import { Inflights } from './inflights.js';
import { RaftLog } from './log.js';
import { MemoryStorage } from './memory-storage.js';
import { Progress } from './progress.js';
import { RawNode } from './rawnode.js';
import { SeededRandom } from './random.js';
import { LocalMessageError } from './errors.js';
import { EntryType, message, MessageType, type Entry } from './types.js';

const e = (index: number, term: number): Entry => ({ type: EntryType.Normal, term, index, data: new Uint8Array(0) });

function logWith(terms: number[]): RaftLog {
  const storage = new MemoryStorage([1]);
  storage.append(terms.map((t, i) => e(i + 1, t)));
  return new RaftLog(storage, 1 << 20);
}

describe('raft log', () => {
  it('§5.3: maybeAppend rejects on a term mismatch at prevLogIndex and truncates a conflicting suffix', () => {
    const log = logWith([1, 1, 2]);
    expect(log.maybeAppend(3, 1, 0, [e(4, 3)])).to.equal(undefined);
    expect(log.maybeAppend(2, 1, 0, [e(3, 3), e(4, 3)])).to.equal(4);
    expect([1, 2, 3, 4].map((i) => log.term(i))).to.deep.equal([1, 1, 3, 3]);
  });

  it('§5.3: maybeAppend never truncates committed entries', () => {
    const log = logWith([1, 1, 2]);
    log.commitTo(3);
    expect(() => log.maybeAppend(2, 1, 3, [e(3, 3)])).to.throw(RaftInvariantError, /conflicts with committed/);
  });

  it('§5.3: commit advances only to what the leader sent (min(leaderCommit, last new index))', () => {
    const log = logWith([1]);
    log.maybeAppend(1, 1, 10, [e(2, 1)]);
    expect(log.committed).to.equal(2);
  });

  it('§5.4.1: isUpToDate compares last terms first, then lengths', () => {
    const log = logWith([1, 2, 2]);
    expect(log.isUpToDate(1, 3)).to.equal(true);
    expect(log.isUpToDate(3, 2)).to.equal(true);
    expect(log.isUpToDate(2, 2)).to.equal(false);
    expect(log.isUpToDate(9, 1)).to.equal(false);
  });

  it('fast backtracking: findConflictByTerm skips every entry of a higher term', () => {
    const log = logWith([1, 1, 4, 4, 4, 5]);
    expect(log.findConflictByTerm(6, 3)).to.deep.equal([2, 1]);
    expect(log.findConflictByTerm(6, 5)).to.deep.equal([6, 5]);
  });

  it('commitTo beyond the last index and appliedTo beyond commit are invariant violations', () => {
    const log = logWith([1, 1]);
    expect(() => log.commitTo(3)).to.throw(RaftInvariantError);
    log.commitTo(1);
    expect(() => log.appliedTo(2)).to.throw(RaftInvariantError, /applied/);
  });

  it('slice spans storage and unstable entries; compacted indexes answer undefined', () => {
    const storage = new MemoryStorage([1]);
    storage.append([e(1, 1), e(2, 1), e(3, 1)]);
    storage.createSnapshot(2, { voters: [1], learners: [] }, new Uint8Array(0));
    storage.compact(2);
    const log = new RaftLog(storage, 1 << 20);
    log.append([e(4, 2), e(5, 2)]);
    expect(log.slice(3, 6, 1 << 20)!.map((x) => x.index)).to.deep.equal([3, 4, 5]);
    expect(log.slice(2, 4, 1 << 20)).to.equal(undefined);
    expect(log.term(2)).to.equal(1); // the snapshot's (dummy) entry
    expect(log.term(1)).to.equal(undefined);
    expect(() => storage.entries(2, 3, 100)).to.throw(StorageCompactedError);
  });

  it('unstable entries replaced while a Ready was being persisted do not become stable', () => {
    const log = logWith([]);
    log.append([e(1, 1), e(2, 1)]);
    log.maybeAppend(1, 1, 0, [e(2, 2)]);
    log.stableTo(2, 1); // the persisted Ready carried (2, term 1), now overwritten
    expect(log.unstableEntries().map((x) => `${x.index}:${x.term}`)).to.deep.equal(['1:1', '2:2']);
  });
});

describe('progress and flow control', () => {
  it('invariant 0 <= match < next holds across transitions', () => {
    const pr = new Progress(0, 5, 4, 0, false);
    pr.maybeUpdate(3);
    expect([pr.match, pr.next]).to.deep.equal([3, 5]);
    pr.becomeReplicate();
    expect(pr.next).to.equal(4);
    expect(() => new Progress(5, 5, 4, 0, false)).to.throw(RaftInvariantError, /match\(5\) < next\(5\)/);
  });

  it('probe: one message outstanding; a stale rejection is ignored', () => {
    const pr = new Progress(2, 6, 4, 0, false);
    pr.probeSent = true;
    expect(pr.isPaused()).to.equal(true);
    expect(pr.maybeDecrTo(3, 2)).to.equal(false); // answers an older probe (next - 1 is 5)
    expect(pr.maybeDecrTo(5, 3)).to.equal(true);
    expect(pr.next).to.equal(4);
    expect(pr.isPaused()).to.equal(false);
  });

  it('replicate: bounded by message count and by bytes', () => {
    const counted = new Inflights(2, 0);
    counted.add(1, 10);
    counted.add(2, 10);
    expect(counted.full()).to.equal(true);
    counted.freeLE(1);
    expect(counted.full()).to.equal(false);
    const sized = new Inflights(100, 25);
    sized.add(1, 10);
    sized.add(2, 20);
    expect(sized.full()).to.equal(true);
    expect(() => sized.add(3, 1)).to.throw(RaftInvariantError, /full/);
  });
});

describe('RawNode contract', () => {
  let storage = new MemoryStorage([1]);
  const node = () => {
    storage = new MemoryStorage([1]);
    return new RawNode({ id: 1, storage, electionTicks: 10, heartbeatTicks: 1, random: new SeededRandom(3) });
  };

  it('a single voter elects itself and commits a proposal; Ready lists persist/send/apply work', () => {
    const n = node();
    n.campaign();
    let rd = n.ready();
    expect(rd.softState?.state).to.equal('leader');
    // The leader's own entry counts only once persisted: nothing is committed in this Ready.
    expect(rd.hardState).to.deep.equal({ term: 1, vote: 1, commit: 0 });
    expect(rd.entries.map((x) => x.index)).to.deep.equal([1]);
    expect(rd.committedEntries).to.deep.equal([]);
    expect(rd.mustSync).to.equal(true);
    storage.append(rd.entries);
    storage.setHardState(rd.hardState!);
    n.advance(rd);
    rd = n.ready();
    expect(rd.hardState).to.deep.equal({ term: 1, vote: 1, commit: 1 });
    expect(rd.committedEntries.map((x) => x.index)).to.deep.equal([1]);
    expect(rd.mustSync).to.equal(false);
    n.advance(rd);
    n.propose(new TextEncoder().encode('x'));
    rd = n.ready();
    expect(rd.entries.map((x) => x.index)).to.deep.equal([2]);
    expect(rd.committedEntries).to.deep.equal([]);
    storage.append(rd.entries);
    n.advance(rd);
    rd = n.ready();
    expect(rd.committedEntries.map((x) => x.index)).to.deep.equal([2]);
    n.advance(rd);
    expect(n.hasReady()).to.equal(false);
  });

  it('advancing a Ready whose entries were not persisted is caught by the log invariant', () => {
    const n = node();
    n.campaign();
    expect(() => n.advance(n.ready())).to.throw(RaftInvariantError, /entries up to 1 were not persisted \(storage ends at 0\)/);
  });

  it('ready() twice without advance() and local messages from the network are refused', () => {
    const n = node();
    n.campaign();
    n.ready();
    expect(() => n.ready()).to.throw(RaftInvariantError, /before advance/);
    expect(() => n.step(message({ type: MessageType.Hup, from: 2 }))).to.throw(LocalMessageError);
  });

  it('configuration is validated up front with one sentence per rule', () => {
    expect(() => new RawNode({ id: 1, storage: new MemoryStorage([1]), electionTicks: 1, heartbeatTicks: 1, random: new SeededRandom(1) }))
      .to.throw('election ticks must be greater than heartbeat ticks');
    expect(() => new RawNode({ id: 0, storage: new MemoryStorage([1]), electionTicks: 10, heartbeatTicks: 1, random: new SeededRandom(1) }))
      .to.throw('id must be a positive integer');
  });
});
