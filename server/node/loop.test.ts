// The node loop's ordering promises, one at a time, on a log whose syncs
// complete only when the test says so. The simulator (test/sim/) runs the
// same loop through thousands of faulty schedules; these pin down each rule.
import { expect } from 'chai';
import { SimClock } from '../../test/sim/clock.js';
import {
  EntryType,
  MemoryStorage,
  message,
  MessageType,
  SeededRandom,
  StateType,
  type Entry,
  type HardState,
  type Message,
  type Snapshot,
} from '../raft/index.js';
import { NodeLoop, type LogStorage, type StateMachine } from './loop.js';

/** A log whose syncs wait for `completeSyncs()`. */
class ManualLog implements LogStorage {
  readonly storage: MemoryStorage;
  private waiting: Array<(error?: Error) => void> = [];

  constructor(voters: number[]) {
    this.storage = new MemoryStorage(voters);
  }

  write(entries: readonly Entry[], hardState: HardState | undefined): void {
    this.storage.append(entries);
    if (hardState !== undefined) this.storage.setHardState(hardState);
  }

  sync(done: (error?: Error) => void): void {
    this.waiting.push(done);
  }

  installSnapshot(snapshot: Snapshot): void {
    this.storage.applySnapshot(snapshot);
  }

  get syncsWaiting(): number {
    return this.waiting.length;
  }

  completeSyncs(error?: Error): void {
    const waiting = this.waiting;
    this.waiting = [];
    for (const done of waiting) done(error);
  }
}

interface Harness {
  loop: NodeLoop;
  clock: SimClock;
  log: ManualLog;
  sent: Message[];
  applied: number[];
  fatal: Error[];
}

function harness(id: number, voters: number[], stateMachine: Partial<StateMachine> = {}, beforeReady: () => void = () => {}): Harness {
  const clock = new SimClock();
  const log = new ManualLog(voters);
  const sent: Message[] = [];
  const applied: number[] = [];
  const fatal: Error[] = [];
  const loop: NodeLoop = new NodeLoop(
    {
      clock,
      sender: { send: (messages) => sent.push(...messages) },
      log,
      stateMachine: {
        apply: (entries) => applied.push(...entries.map((entry) => entry.index)),
        install: (_snapshot, done) => done(),
        checkpoint: () => {},
        ...stateMachine,
      },
      events: { beforeReady, roleChanged: () => {}, applied: () => {}, fatal: (error) => fatal.push(error) },
    },
    { id, tickMs: 100, electionTicks: 10, heartbeatTicks: 1, random: new SeededRandom(id), applied: 0, maxSizePerMsgBytes: 1 << 20, maxInflightMsgs: 16 },
  );
  return { loop, clock, log, sent, applied, fatal };
}

/** Runs the loop's queued turns, completing each sync as it is asked for, until nothing is left. */
function settle(h: Harness): void {
  for (let round = 0; round < 100; round++) {
    h.clock.drain();
    if (h.log.syncsWaiting === 0) return;
    h.log.completeSyncs();
  }
  throw new Error('the loop never settled');
}

const data = (text: string): Uint8Array => new TextEncoder().encode(text);

describe('NodeLoop', () => {
  it('a lone voter leads at once; a proposal is applied only after the sync that made it durable', () => {
    const h = harness(1, [1]);
    h.loop.start();
    settle(h);
    expect(h.loop.state).to.equal(StateType.Leader);
    const appliedBefore = h.applied.length;
    h.loop.propose(data('x'));
    h.clock.drain();
    expect(h.log.syncsWaiting).to.equal(1);
    expect(h.applied.length, 'applied before its entry was durable').to.equal(appliedBefore);
    settle(h);
    expect(h.applied.at(-1)).to.equal(h.log.storage.lastIndex());
    expect(h.loop.appliedIndex).to.equal(h.log.storage.lastIndex());
  });

  it("a follower's append acknowledgement leaves only after its sync; a leader's appends leave before its own", () => {
    const follower = harness(2, [1, 2]);
    follower.loop.start();
    settle(follower);
    follower.sent.length = 0;
    const entry: Entry = { type: EntryType.Normal, term: 1, index: 1, data: data('a') };
    follower.loop.step(message({ type: MessageType.App, from: 1, to: 2, term: 1, index: 0, logTerm: 0, entries: [entry], commit: 0 }));
    follower.clock.drain();
    expect(follower.log.syncsWaiting).to.equal(1);
    expect(follower.sent.filter((m) => m.type === MessageType.AppResp), 'acknowledged before durable').to.have.length(0);
    follower.log.completeSyncs();
    follower.clock.drain();
    expect(follower.sent.filter((m) => m.type === MessageType.AppResp && !m.reject)).to.have.length(1);

    const leader = harness(1, [1, 2]);
    leader.loop.start();
    leader.loop.campaign();
    settle(leader);
    // PreVote first (a pre-candidate asks at the next term without moving to it), then the vote.
    leader.loop.step(message({ type: MessageType.PreVoteResp, from: 2, to: 1, term: leader.loop.raft.term + 1 }));
    settle(leader);
    leader.loop.step(message({ type: MessageType.VoteResp, from: 2, to: 1, term: leader.loop.raft.term }));
    settle(leader);
    expect(leader.loop.state).to.equal(StateType.Leader);
    // The follower takes the leader's first entry: it is replicated to from now on, not probed.
    leader.loop.step(message({ type: MessageType.AppResp, from: 2, to: 1, term: leader.loop.raft.term, index: leader.log.storage.lastIndex() }));
    settle(leader);
    leader.sent.length = 0;
    leader.loop.propose(data('b'));
    leader.clock.drain();
    expect(leader.log.syncsWaiting).to.equal(1);
    expect(leader.sent.filter((m) => m.type === MessageType.App && m.entries.length > 0), 'append held back for the leader\'s sync').to.have.length(1);
  });

  it('entries a Ready replaces are not counted durable: committed ones among them are applied only after its sync', () => {
    const follower = harness(2, [1, 2]);
    follower.loop.start();
    settle(follower);
    const old = [1, 2, 3].map((index): Entry => ({ type: EntryType.Normal, term: 1, index, data: data(`old ${index}`) }));
    follower.loop.step(message({ type: MessageType.App, from: 1, to: 2, term: 1, index: 0, logTerm: 0, entries: old, commit: 1 }));
    settle(follower);
    expect(follower.loop.appliedIndex).to.equal(1);
    // A new leader replaces 2..3 and says 3 is committed: durable entries 2..3 are not the ones to apply.
    const fresh = [2, 3].map((index): Entry => ({ type: EntryType.Normal, term: 2, index, data: data(`new ${index}`) }));
    follower.loop.step(message({ type: MessageType.App, from: 1, to: 2, term: 2, index: 1, logTerm: 1, entries: fresh, commit: 3 }));
    follower.clock.drain();
    expect(follower.log.syncsWaiting).to.equal(1);
    expect(follower.loop.appliedIndex, 'applied entries not yet durable').to.equal(1);
    follower.log.completeSyncs();
    follower.clock.drain();
    expect(follower.loop.appliedIndex).to.equal(3);
  });

  it('a failed sync stops the loop: the error reaches fatal, nothing is acknowledged, ticks do nothing', () => {
    const h = harness(1, [1]);
    h.loop.start();
    settle(h);
    const applied = h.applied.length;
    h.loop.propose(data('x'));
    h.clock.drain();
    h.log.completeSyncs(new Error('EIO: fdatasync'));
    h.clock.drain();
    expect(h.fatal.map((error) => error.message)).to.deep.equal(['EIO: fdatasync']);
    expect(h.loop.isStopped).to.equal(true);
    expect(h.applied.length).to.equal(applied);
    h.clock.advance(5_000);
    expect(h.log.syncsWaiting).to.equal(0);
  });

  it('a state machine that throws stops the loop with its error', () => {
    const h = harness(1, [1], {
      apply: (entries) => {
        if (entries.some((entry) => entry.data.length > 0)) throw new Error('invariant: revision went backwards');
      },
    });
    h.loop.start();
    settle(h);
    h.loop.propose(data('x'));
    settle(h);
    expect(h.fatal.map((error) => error.message)).to.deep.equal(['invariant: revision went backwards']);
  });

  it('pause resolves once the Ready in flight is done and holds the next one until resume', async () => {
    const h = harness(1, [1]);
    h.loop.start();
    settle(h);
    h.loop.propose(data('x'));
    h.clock.drain();
    let paused = false;
    const pause = h.loop.pause().then(() => (paused = true));
    await Promise.resolve();
    expect(paused, 'paused while a Ready was in flight').to.equal(false);
    h.log.completeSyncs();
    await pause;
    const appliedIndex = h.loop.appliedIndex;
    h.loop.propose(data('y'));
    h.clock.drain();
    expect(h.log.syncsWaiting, 'a Ready taken while paused').to.equal(0);
    expect(h.loop.appliedIndex, 'applied while paused').to.equal(appliedIndex);
    h.loop.resume();
    settle(h);
    expect(h.loop.appliedIndex).to.equal(h.log.storage.lastIndex());
    expect(h.loop.appliedIndex).to.be.greaterThan(appliedIndex);
  });

  it('work handed over with wake() while a Ready is in flight gets a turn once it is done, with no Ready of the core', () => {
    let turns = 0;
    const follower = harness(2, [1, 2], {}, () => turns++);
    follower.loop.start();
    settle(follower);
    const entry: Entry = { type: EntryType.Normal, term: 1, index: 1, data: data('a') };
    follower.loop.step(message({ type: MessageType.App, from: 1, to: 2, term: 1, index: 0, logTerm: 0, entries: [entry], commit: 0 }));
    follower.clock.drain();
    expect(follower.log.syncsWaiting).to.equal(1);
    follower.loop.wake(); // a read queued meanwhile: the member hands it over in beforeReady
    const before = turns;
    follower.log.completeSyncs();
    follower.clock.drain();
    expect(turns, 'no turn after the Ready that was in flight').to.be.greaterThan(before);
  });

  it('stop waits for the Ready in flight', async () => {
    const h = harness(1, [1]);
    h.loop.start();
    settle(h);
    h.loop.propose(data('x'));
    h.clock.drain();
    let stopped = false;
    const stop = h.loop.stop().then(() => (stopped = true));
    await Promise.resolve();
    expect(stopped).to.equal(false);
    h.log.completeSyncs();
    await stop;
    expect(stopped).to.equal(true);
  });
});
