import { expect } from 'chai';
import { must } from '../../test/harness/must.js';
import { ProposalDroppedError } from './errors.js';
import { MemoryStorage } from './memory-storage.js';
import { SeededRandom } from './random.js';
import { Raft } from './raft.js';
import { TestNetwork } from './testing/network.js';
import { EntryType, message, MessageType, StateType, type Entry } from './types.js';

const text = (s: string) => new TextEncoder().encode(s);
const entry = (index: number, term: number): Entry => ({ type: EntryType.Normal, term, index, data: text(`e${index}`) });

describe('raft core: elections', () => {
  it('§5.2: a candidate that wins a majority becomes leader, the others follow it', () => {
    const net = new TestNetwork([1, 2, 3]);
    net.campaign(1);
    expect(net.leaders()).to.deep.equal([1]);
    expect(net.raft(2).lead).to.equal(1);
    expect(net.raft(3).state).to.equal(StateType.Follower);
    expect(net.raft(1).term).to.equal(1);
  });

  it('§5.2: election timeouts are randomized in [electionTicks, 2 × electionTicks) from the injected PRNG', () => {
    const seen = new Set<number>();
    for (let seed = 1; seed < 50; seed++) {
      const r = new Raft({ id: 1, storage: new MemoryStorage([1, 2, 3]), electionTicks: 10, heartbeatTicks: 1, random: new SeededRandom(seed) });
      expect(r.randomizedElectionTimeout).to.be.within(10, 19);
      seen.add(r.randomizedElectionTimeout);
    }
    expect(seen.size).to.be.greaterThan(3);
  });

  it('§5.2: a node grants at most one vote per term', () => {
    const r = new Raft({ id: 1, storage: new MemoryStorage([1, 2, 3]), electionTicks: 10, heartbeatTicks: 1, random: new SeededRandom(1), preVote: false });
    r.step(message({ type: MessageType.Vote, from: 2, to: 1, term: 5, index: 0, logTerm: 0 }));
    r.step(message({ type: MessageType.Vote, from: 3, to: 1, term: 5, index: 0, logTerm: 0 }));
    const answers = r.msgs.filter((m) => m.type === MessageType.VoteResp);
    expect(answers.map((m) => [m.to, m.reject])).to.deep.equal([[2, false], [3, true]]);
    expect(r.vote).to.equal(2);
  });

  it('§5.4.1: a voter denies its vote to a candidate whose log is less up to date', () => {
    const storage = new MemoryStorage([1, 2, 3]);
    storage.append([entry(1, 1), entry(2, 2)]);
    const r = new Raft({ id: 1, storage, electionTicks: 10, heartbeatTicks: 1, random: new SeededRandom(1), preVote: false });
    r.step(message({ type: MessageType.Vote, from: 2, to: 1, term: 3, index: 5, logTerm: 1 }));
    expect(r.msgs.at(-1)!.reject).to.equal(true);
    r.step(message({ type: MessageType.Vote, from: 3, to: 1, term: 3, index: 2, logTerm: 2 }));
    expect(r.msgs.at(-1)!.reject).to.equal(false);
  });

  it('§9.6 PreVote: a partitioned node does not inflate its term and cannot disrupt the leader on rejoin', () => {
    const net = new TestNetwork([1, 2, 3]);
    net.campaign(1);
    net.isolate(3);
    for (let i = 0; i < 100; i++) net.tick(3);
    net.stabilize();
    expect(net.raft(3).term).to.equal(1);
    expect(net.raft(3).state).to.equal(StateType.PreCandidate);
    net.heal();
    net.tickAll(3);
    expect(net.leaders()).to.deep.equal([1]);
    expect(net.raft(1).term).to.equal(1);
  });

  it('CheckQuorum (thesis §6.2): a leader that cannot reach a quorum steps down within an election timeout', () => {
    const net = new TestNetwork([1, 2, 3]);
    net.campaign(1);
    net.isolate(1);
    for (let i = 0; i < 21; i++) net.tick(1);
    net.stabilize();
    expect(net.raft(1).state).to.equal(StateType.Follower);
  });

  it('thesis §4.2.3: a follower that hears from a leader ignores higher-term vote requests (leader lease)', () => {
    const net = new TestNetwork([1, 2, 3], { preVote: false });
    net.campaign(1);
    const r2 = net.raft(2);
    r2.step(message({ type: MessageType.Vote, from: 3, to: 2, term: 9, index: 99, logTerm: 9 }));
    expect(r2.term).to.equal(1);
    expect(r2.lead).to.equal(1);
  });

  it('§5.2: after a leader dies the remaining majority elects a new one with a higher term', () => {
    const net = new TestNetwork([1, 2, 3]);
    net.campaign(1);
    net.isolate(1);
    net.tickAll(40);
    const leaders = net.leaders().filter((id) => id !== 1);
    expect(leaders).to.have.length(1);
    expect(net.raft(must(leaders[0], 'the new leader')).term).to.be.greaterThan(1);
  });
});

describe('raft core: replication', () => {
  it('§5.3: entries proposed at the leader are committed and applied everywhere in order', () => {
    const net = new TestNetwork([1, 2, 3]);
    net.campaign(1);
    for (const s of ['a', 'b', 'c']) net.propose(1, s);
    for (const id of [1, 2, 3]) expect(net.appliedTexts(id)).to.deep.equal(['a', 'b', 'c']);
  });

  it('§5.3: a proposal on a follower is forwarded to the leader', () => {
    const net = new TestNetwork([1, 2, 3]);
    net.campaign(1);
    net.propose(2, 'via-follower');
    expect(net.appliedTexts(3)).to.deep.equal(['via-follower']);
  });

  it('a proposal without a leader, or with forwarding disabled, is rejected with ProposalDroppedError', () => {
    const net = new TestNetwork([1, 2, 3]);
    expect(() => net.peer(2).node.propose(text('x'))).to.throw(ProposalDroppedError, /no leader/);
    const net2 = new TestNetwork([1, 2, 3], { disableProposalForwarding: true });
    net2.campaign(1);
    expect(() => net2.peer(2).node.propose(text('x'))).to.throw(ProposalDroppedError, /not the leader/);
  });

  it('§5.4.2: a leader never commits an entry of an earlier term by counting replicas (Figure 8)', () => {
    const storage = new MemoryStorage([1, 2, 3]);
    storage.append([entry(1, 1), entry(2, 2)]);
    storage.setHardState({ term: 2, vote: 1, commit: 1 });
    const r = new Raft({ id: 1, storage, electionTicks: 10, heartbeatTicks: 1, random: new SeededRandom(1), preVote: false });
    r.becomeCandidate();
    r.becomeLeader(); // term 3, appends an empty entry at index 3
    expect(r.log.lastIndex()).to.equal(3);
    storage.append(r.log.unstableEntries()); // the leader's own copy counts once persisted
    r.advance(0, { index: 3, term: 3 }, undefined);
    r.step(message({ type: MessageType.AppResp, from: 2, to: 1, term: 3, index: 2 }));
    expect(r.log.committed).to.equal(1); // index 2 is on a majority but is from term 2
    r.step(message({ type: MessageType.AppResp, from: 2, to: 1, term: 3, index: 3 }));
    expect(r.log.committed).to.equal(3); // committing index 3 commits index 2 indirectly
  });

  it('§5.4.2 deliberate bug flag: counting earlier-term replicas does commit them', () => {
    const storage = new MemoryStorage([1, 2, 3]);
    storage.append([entry(1, 1), entry(2, 2)]);
    storage.setHardState({ term: 2, vote: 1, commit: 1 });
    const r = new Raft({ id: 1, storage, electionTicks: 10, heartbeatTicks: 1, random: new SeededRandom(1), preVote: false, bugs: { commitPreviousTermEntries: true } });
    r.becomeCandidate();
    r.becomeLeader();
    r.step(message({ type: MessageType.AppResp, from: 2, to: 1, term: 3, index: 2 }));
    expect(r.log.committed).to.equal(2);
  });

  it('§5.3 fast backtracking: a follower with a long divergent log is repaired in a few round trips', () => {
    const net = new TestNetwork([1, 2, 3]);
    net.campaign(1);
    net.isolate(1);
    // The isolated old leader accumulates 50 entries of term 1 that will never commit.
    for (let i = 0; i < 50; i++) net.peer(1).node.propose(text(`lost${i}`));
    net.stabilize();
    net.tickAll(30); // 2 and 3 elect a new leader
    const leader = net.leaders().find((id) => id !== 1)!;
    for (let i = 0; i < 5; i++) net.propose(leader, `kept${i}`);
    net.heal();
    const before = net.delivered.length;
    net.tickAll(3);
    const rejections = net.delivered.slice(before).filter((m) => m.type === MessageType.AppResp && m.reject && m.from === 1);
    expect(rejections.length).to.be.at.most(2);
    expect(net.appliedTexts(1)).to.deep.equal(['kept0', 'kept1', 'kept2', 'kept3', 'kept4']);
  });

  it('§5.3: an ack of a follower that was isolated moves its progress from probe to replicate', () => {
    const net = new TestNetwork([1, 2, 3]);
    net.campaign(1);
    net.propose(1, 'a');
    const pr = net.raft(1).tracker.progress.get(2)!;
    expect(pr.state).to.equal('replicate');
    expect(pr.match).to.equal(net.raft(1).log.lastIndex());
  });

  it('bounded in-flight: a follower that does not answer gets at most maxInflightMsgs appends', () => {
    const net = new TestNetwork([1, 2, 3], { maxInflightMsgs: 4 });
    net.campaign(1);
    net.cutLink(2, 1); // 2 receives but its acks are lost
    const before = net.delivered.length;
    for (let i = 0; i < 20; i++) net.peer(1).node.propose(text(`p${i}`));
    net.stabilize();
    const appsTo2 = net.delivered.slice(before).filter((m) => m.type === MessageType.App && m.to === 2);
    expect(appsTo2.length).to.equal(4);
  });

  it('§5.2 persistence: a restarted node keeps its term, vote and log', () => {
    const net = new TestNetwork([1, 2, 3]);
    net.campaign(1);
    net.propose(1, 'a');
    const p2 = net.peer(2);
    const restarted = net.add(2, p2.storage, {}, 7);
    expect(restarted.node.raft.term).to.equal(1);
    expect(restarted.node.raft.vote).to.equal(1);
    expect(restarted.node.raft.log.lastIndex()).to.equal(2);
    net.propose(1, 'b');
    expect(net.appliedTexts(2)).to.deep.equal(['a', 'b']);
  });
});
