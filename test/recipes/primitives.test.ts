// Barrier, DoubleBarrier, Queue, PriorityQueue, Semaphore and RWMutex against cairn and etcd.
import { expect } from 'chai';
import { Barrier, DoubleBarrier, PriorityQueue, Queue, RWMutex, Semaphore, TooManyParticipantsError } from '../../recipes/index.js';
import { must } from '../harness/must.js';
import { eventually, Fixture, rejection, selectedTargets, sleep } from './support.js';

/** Tracks which of several promises have settled. */
function tracked<T>(promises: Promise<T>[]): { settled: () => number; all: Promise<T[]> } {
  let count = 0;
  for (const promise of promises) void promise.then(() => count++, () => count++);
  return { settled: () => count, all: Promise.all(promises) };
}

for (const target of selectedTargets()) {
  describe(`recipes: barriers, queues, semaphore, RW lock against ${target.kind}`, function () {
    const fixture = new Fixture(target);

    before(async function () {
      if (!target.available()) return this.skip();
      await fixture.start();
    });
    after(async () => fixture.stop());

    it('barrier: waiters block while it is held and all proceed on release', async () => {
      const clients = await Promise.all([fixture.client(), fixture.client(), fixture.client()]);
      const holder = new Barrier(clients[0], 'b1');
      expect(await holder.hold()).to.equal(true);
      expect(await holder.hold()).to.equal(false);
      const waits = tracked(clients.map((client) => new Barrier(client, 'b1').wait({ timeoutMs: 10_000 })));
      await sleep(300);
      expect(waits.settled()).to.equal(0);
      await holder.release();
      await waits.all;
      await new Barrier(clients[1], 'b1').wait(); // not held: returns at once
    });

    it('double barrier: N participants enter together and leave together; one too many is refused', async () => {
      const count = 3;
      const sessions = await Promise.all(Array.from({ length: count + 1 }, () => fixture.session()));
      const barriers = sessions.map((session) => new DoubleBarrier(session, 'db1', count));
      const allButLast = barriers.slice(0, count - 1);
      const last = must(barriers[count - 1], 'the barrier of the last participant');
      const tooMany = must(barriers[count], 'the barrier of one participant too many');
      const entering: Promise<void>[] = [];
      for (const barrier of allButLast) entering.push(barrier.enter({ timeoutMs: 10_000 }));
      const early = tracked(entering);
      await sleep(300);
      expect(early.settled()).to.equal(0);
      entering.push(last.enter({ timeoutMs: 10_000 }));
      await Promise.all(entering);
      expect(await rejection(tooMany.enter())).to.be.instanceOf(TooManyParticipantsError);
      const leaving: Promise<void>[] = [];
      for (const barrier of allButLast) leaving.push(barrier.leave({ timeoutMs: 10_000 }));
      const leftEarly = tracked(leaving);
      await sleep(300);
      expect(leftEarly.settled()).to.equal(0);
      leaving.push(last.leave({ timeoutMs: 10_000 }));
      await Promise.all(leaving);
      expect((await must(sessions[0], 'a session').client.getRange({ prefix: 'db1/' })).kvs).to.have.length(0);
    });

    it('queue: FIFO, a consumer waits on an empty queue, and concurrent producers/consumers lose or repeat nothing', async () => {
      const client = await fixture.client();
      const queue = new Queue(client, 'q1');
      for (const item of ['a', 'b', 'c']) await queue.enqueue(item);
      expect([await queue.dequeue(), await queue.dequeue(), await queue.dequeue()]).to.deep.equal(['a', 'b', 'c']);
      const waiting = queue.dequeue({ timeoutMs: 10_000 });
      await sleep(200);
      await queue.enqueue('late');
      expect(await waiting).to.equal('late');

      const producers = await Promise.all([fixture.client(), fixture.client(), fixture.client()]);
      const consumers = await Promise.all([fixture.client(), fixture.client(), fixture.client()]);
      const perProducer = 8;
      const taken: string[][] = [];
      const consuming = consumers.map(async (consumer) => {
        const items: string[] = [];
        taken.push(items);
        const own = new Queue(consumer, 'q2');
        for (let n = 0; n < perProducer; n++) items.push(await own.dequeue({ timeoutMs: 20_000 }));
      });
      await Promise.all(producers.map(async (producer, index) => {
        const own = new Queue(producer, 'q2');
        for (let n = 0; n < perProducer; n++) await own.enqueue(`p${index}-${String(n).padStart(2, '0')}`);
      }));
      await Promise.all(consuming);
      const all = taken.flat();
      expect(new Set(all).size).to.equal(producers.length * perProducer);
      // Each consumer sees each producer's items in the order they were produced.
      for (const list of taken) {
        for (let producer = 0; producer < producers.length; producer++) {
          const mine = list.filter((item) => item.startsWith(`p${producer}-`));
          expect(mine).to.deep.equal([...mine].sort());
        }
      }
    });

    it('priority queue: lowest number first, FIFO within a priority', async () => {
      const queue = new PriorityQueue(await fixture.client(), 'pq1');
      await queue.enqueue('x', 5);
      await queue.enqueue('y', 1);
      await queue.enqueue('z', 5);
      await queue.enqueue('w', 0);
      await queue.enqueue('v', 1);
      const out: string[] = [];
      for (let n = 0; n < 5; n++) out.push(await queue.dequeue());
      expect(out).to.deep.equal(['w', 'y', 'v', 'x', 'z']);
    });

    it('semaphore: at most N holders at a time, and N are reached', async () => {
      const permits = 2;
      const sessions = await Promise.all(Array.from({ length: 5 }, () => fixture.session()));
      let inside = 0;
      let most = 0;
      await Promise.all(sessions.map(async (session) => {
        const semaphore = new Semaphore(session, 'sem1', permits);
        for (let round = 0; round < 2; round++) {
          const permit = await semaphore.acquire({ timeoutMs: 20_000 });
          most = Math.max(most, ++inside);
          await sleep(40);
          inside--;
          await permit.release();
        }
      }));
      expect(most).to.equal(permits);
    });

    it('RW lock: readers share, a writer excludes, and a reader queued behind a writer waits for it', async () => {
      const [r1, r2, w, r3] = await Promise.all([fixture.session(), fixture.session(), fixture.session(), fixture.session()]);
      const read1 = await new RWMutex(r1, 'rw1').readLock();
      const read2 = await new RWMutex(r2, 'rw1').readLock({ timeoutMs: 5_000 });
      const writing = new RWMutex(w, 'rw1').writeLock({ timeoutMs: 10_000 });
      const writer = tracked([writing]);
      await sleep(100);
      const reading3 = new RWMutex(r3, 'rw1').readLock({ timeoutMs: 10_000 });
      const reader3 = tracked([reading3]);
      await sleep(300);
      expect(writer.settled()).to.equal(0);
      await read1.unlock();
      await sleep(200);
      expect(writer.settled()).to.equal(0);
      await read2.unlock();
      const write = await writing;
      await sleep(200);
      expect(reader3.settled()).to.equal(0);
      await write.unlock();
      await (await reading3).unlock();
      await eventually(() => reader3.settled() === 1);
    });
  });
}
