import { expect } from 'chai';
import { LeaderChangedError, RequestTimeoutError } from './errors.js';
import { ReadBatches } from './reads.js';
import { realClock } from '../clock.js';

const settled = async (promise: Promise<void>): Promise<string> => {
  const state = await Promise.race([promise.then(() => 'resolved', (error: Error) => error.name), new Promise<string>((resolve) => setImmediate(() => resolve('pending')))]);
  return state;
};

describe('ReadBatches', () => {
  it('reads queued together share one request; they are served once the member applied the read index', async () => {
    const reads = new ReadBatches(10_000, 'read-a', realClock);
    const first = reads.wait();
    const second = reads.wait();
    const context = reads.startBatch();
    expect(reads.hasQueued).to.equal(false);
    reads.confirmed(context, 7, 5);
    expect(await settled(first)).to.equal('pending');
    reads.applied(6);
    expect(await settled(second)).to.equal('pending');
    reads.applied(7);
    expect(await settled(first)).to.equal('resolved');
    expect(await settled(second)).to.equal('resolved');
  });

  it('names requests with the member prefix, so two members never send the same context to the leader', () => {
    const a = new ReadBatches(10_000, 'read-a', realClock);
    const b = new ReadBatches(10_000, 'read-b', realClock);
    void a.wait().catch(() => undefined);
    void b.wait().catch(() => undefined);
    expect(a.startBatch()).to.not.equal(b.startBatch());
    a.rejectAll(new Error('done'));
    b.rejectAll(new Error('done'));
  });

  it('a leader change fails the reads in flight (their request may be lost), not the queued ones', async () => {
    const reads = new ReadBatches(10_000, 'read-a', realClock);
    const inFlight = reads.wait();
    inFlight.catch(() => undefined); // observed below
    reads.startBatch();
    const queued = reads.wait();
    reads.leaderChanged();
    expect(await settled(inFlight)).to.equal(LeaderChangedError.name);
    expect(await settled(queued)).to.equal('pending');
    reads.rejectAll(new Error('done'));
    await queued.catch(() => undefined);
  });

  it('a read not confirmed in time fails with "request timed out"; a late confirmation is ignored', async () => {
    const reads = new ReadBatches(20, 'read-a', realClock);
    const read = reads.wait();
    read.catch(() => undefined); // observed below
    const context = reads.startBatch();
    await new Promise((resolve) => setTimeout(resolve, 40));
    expect(await settled(read)).to.equal(RequestTimeoutError.name);
    reads.confirmed(context, 1, 1);
  });
});
