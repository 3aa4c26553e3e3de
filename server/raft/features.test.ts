import { expect } from 'chai';
import { must } from '../../test/harness/must.js';
import { ConfChangeType } from './conf-change.js';
import { ProposalDroppedError } from './errors.js';
import { MemoryStorage } from './memory-storage.js';
import { TestNetwork } from './testing/network.js';
import { MessageType, StateType } from './types.js';

const text = (s: string) => new TextEncoder().encode(s);

function compactLeader(net: TestNetwork, id: number): void {
  const p = net.peer(id);
  const applied = p.node.raft.log.applied;
  p.storage.createSnapshot(applied, p.node.raft.tracker.confState(), text(`image@${applied}`));
  p.storage.compact(applied);
}

describe('raft core: snapshots (§7)', () => {
  it('a follower behind the leader\'s first index receives InstallSnapshot, then entries', () => {
    const net = new TestNetwork([1, 2, 3]);
    net.campaign(1);
    net.isolate(3);
    for (let i = 0; i < 10; i++) net.propose(1, `v${i}`);
    compactLeader(net, 1);
    net.heal();
    net.tickAll(3);
    net.propose(1, 'after');
    const snaps = net.sent(MessageType.Snap).filter((m) => m.to === 3);
    expect(snaps).to.have.length(1);
    expect(net.peer(3).storage.snapshot().metadata.index).to.equal(must(snaps[0]?.snapshot, 'the snapshot sent to 3').metadata.index);
    expect(net.appliedTexts(3)).to.deep.equal(['after']);
    expect(net.raft(3).log.committed).to.equal(net.raft(1).log.committed);
  });

  it('a snapshot the follower already covers only moves its commit index (no log reset)', () => {
    const net = new TestNetwork([1, 2, 3]);
    net.campaign(1);
    net.propose(1, 'a');
    const r2 = net.raft(2);
    const last = r2.log.lastIndex();
    r2.log.committed = 1;
    const restored = r2.restore({ metadata: { index: last, term: 1, confState: { voters: [1, 2, 3], learners: [] } }, data: text('') });
    expect(restored).to.equal(false);
    expect(r2.log.committed).to.equal(last);
  });
});

describe('raft core: ReadIndex (§6.4)', () => {
  it('the leader answers after a heartbeat round confirms it still leads', () => {
    const net = new TestNetwork([1, 2, 3]);
    net.campaign(1);
    net.propose(1, 'a');
    net.peer(1).node.readIndex('ctx-1');
    const rd = net.peer(1).node.ready();
    expect(rd.readStates).to.deep.equal([]); // not before the quorum answers
    expect(rd.messages.filter((m) => m.type === MessageType.Heartbeat && m.context === 'ctx-1')).to.have.length(2);
    net.peer(1).node.advance(rd);
    for (const m of rd.messages) net.peer(m.to).node.step(m);
    const states: string[] = [];
    for (let i = 0; i < 5; i++) {
      for (const [id, p] of net.peers) {
        if (!p.node.hasReady()) continue;
        const r = p.node.ready();
        if (id === 1) states.push(...r.readStates.map((s) => `${s.context}@${s.index}`));
        p.node.advance(r);
        for (const m of r.messages) net.peer(m.to).node.step(m);
      }
    }
    expect(states).to.deep.equal([`ctx-1@${net.raft(1).log.committed}`]);
  });

  it('a follower\'s read is forwarded and answered with the leader\'s commit index', () => {
    const net = new TestNetwork([1, 2, 3]);
    net.campaign(1);
    net.propose(1, 'a');
    net.peer(2).node.readIndex('f-1');
    net.stabilize();
    expect(net.raft(2).readStates).to.deep.equal([]); // delivered through Ready already
    expect(net.sent(MessageType.ReadIndexResp).map((m) => [m.to, m.index, m.context])).to.deep.equal([[2, net.raft(1).log.committed, 'f-1']]);
  });

  it('a leader partitioned from its quorum never answers a read', () => {
    const net = new TestNetwork([1, 2, 3]);
    net.campaign(1);
    net.isolate(1);
    net.peer(1).node.readIndex('stale');
    net.stabilize();
    net.tickAll(5);
    expect(net.sent(MessageType.ReadIndexResp)).to.deep.equal([]);
    expect(net.raft(1).readStates).to.deep.equal([]);
  });
});

describe('raft core: leadership transfer (thesis §3.10)', () => {
  it('the transferee catches up, gets MsgTimeoutNow and wins the next term', () => {
    const net = new TestNetwork([1, 2, 3]);
    net.campaign(1);
    net.propose(1, 'a');
    net.peer(1).node.transferLeader(3);
    net.stabilize();
    expect(net.leaders()).to.deep.equal([3]);
    expect(net.raft(3).term).to.equal(2);
  });

  it('proposals are refused while a transfer is in progress, and it is abandoned after an election timeout', () => {
    const net = new TestNetwork([1, 2, 3]);
    net.campaign(1);
    net.isolate(3);
    net.peer(1).node.transferLeader(3);
    net.stabilize();
    expect(() => net.peer(1).node.propose(text('x'))).to.throw(ProposalDroppedError, /transfer/);
    for (let i = 0; i < 10; i++) net.tick(1);
    net.stabilize();
    expect(net.raft(1).leadTransferee).to.equal(0);
    expect(net.raft(1).state).to.equal(StateType.Leader);
  });
});

describe('raft core: membership, one server at a time (thesis §4.1)', () => {
  it('adds a learner, which replicates but does not vote, then promotes it to voter', () => {
    const net = new TestNetwork([1, 2, 3]);
    net.campaign(1);
    net.propose(1, 'a');
    net.add(4, new MemoryStorage([1, 2, 3], [4]));
    net.peer(1).node.proposeConfChange({ type: ConfChangeType.AddLearner, nodeId: 4 });
    net.stabilize();
    net.tickAll(3);
    net.propose(1, 'b');
    expect(net.appliedTexts(4)).to.deep.equal(['a', 'b']);
    expect(net.raft(1).tracker.learners.has(4)).to.equal(true);
    expect(net.raft(1).tracker.quorum()).to.equal(2);
    net.peer(1).node.proposeConfChange({ type: ConfChangeType.AddNode, nodeId: 4 });
    net.stabilize();
    expect(net.raft(1).tracker.voters.has(4)).to.equal(true);
    expect(net.raft(1).tracker.quorum()).to.equal(3);
  });

  it('removing a node shrinks the quorum; a removed leader steps down', () => {
    const net = new TestNetwork([1, 2, 3]);
    net.campaign(1);
    net.peer(1).node.proposeConfChange({ type: ConfChangeType.RemoveNode, nodeId: 3 });
    net.stabilize();
    expect(net.raft(1).tracker.voters.size).to.equal(2);
    net.peer(1).node.proposeConfChange({ type: ConfChangeType.RemoveNode, nodeId: 1 });
    net.stabilize();
    expect(net.raft(1).state).to.equal(StateType.Follower);
    expect(net.raft(2).tracker.voters).to.deep.equal(new Set([2]));
    net.tickAll(25);
    expect(net.leaders()).to.deep.equal([2]);
  });

  it('a new leader refuses a conf change until an entry of its term commits', () => {
    const net = new TestNetwork([1, 2, 3]);
    net.campaign(1);
    net.isolate(1);
    net.isolate(2);
    // Leader 1 is elected in term 1 but 2 and 3 never ack its empty entry.
    const r1 = net.raft(1);
    r1.becomeFollower(1, 0);
    r1.becomeCandidate();
    r1.becomeLeader();
    net.peer(1).node.proposeConfChange({ type: ConfChangeType.AddLearner, nodeId: 4 });
    net.stabilize();
    const last = must(r1.log.slice(r1.log.lastIndex(), r1.log.lastIndex() + 1, 1 << 20)?.[0], 'the last entry of 1');
    expect(last.type).to.equal(0); // replaced by an empty normal entry
  });

  it('a second conf change is neutralized while the first is unapplied', () => {
    const net = new TestNetwork([1, 2, 3]);
    net.campaign(1);
    net.tickAll(1);
    net.peer(1).node.proposeConfChange({ type: ConfChangeType.AddLearner, nodeId: 4 });
    net.peer(1).node.proposeConfChange({ type: ConfChangeType.AddLearner, nodeId: 5 });
    net.stabilize();
    expect(net.raft(1).tracker.learners).to.deep.equal(new Set([4]));
  });
});
