import { expect } from 'chai';
import { existsSync } from 'node:fs';
import type { ChangeEvent, WriteTxn } from '../mvcc/store.js';
import type { KeyRange } from '../mvcc/tree-index.js';
import { realClock } from '../clock.js';
import { openTempStore, type TempStore } from '../testing/temp-store.js';
import { WatchHub, type WatchHubLimits } from './hub.js';
import { Watcher, type WatchFilters, type WatchSink } from './watcher.js';

const b = (text: string): Buffer => Buffer.from(text);

/** One deliver call as a sink saw it: the watcher's id, the header revision, and each event as "put k=v@rev" / "delete k@rev". */
interface Delivery {
  id: number;
  revision: number;
  events: string[];
}

function describeEvent(event: ChangeEvent): string {
  const key = event.kv.key.toString();
  const at = Number(event.kv.modRevision);
  return event.type === 'put' ? `put ${key}=${event.kv.value.toString()}@${at}` : `delete ${key}@${at}`;
}

/**
 * A stream stand-in. `room` decides hasRoom(); `refuse` makes deliver()
 * return false (delivering nothing) even when it claims room, as a stream
 * that filled up between the two calls would.
 */
class FakeSink implements WatchSink {
  readonly deliveries: Delivery[] = [];
  readonly compactions: Array<{ id: number; compactRevision: number }> = [];
  room = true;
  refuse = false;
  refusals = 0;

  deliver(watcher: Watcher, revision: number, events: readonly ChangeEvent[]): boolean {
    expect(events, 'the hub never delivers an empty response').to.not.be.empty;
    if (!this.room || this.refuse) {
      this.refusals++;
      return false;
    }
    this.deliveries.push({ id: Number(watcher.id), revision, events: events.map(describeEvent) });
    return true;
  }

  compacted(watcher: Watcher, compactRevision: number): void {
    this.compactions.push({ id: Number(watcher.id), compactRevision });
  }

  hasRoom(): boolean {
    return this.room;
  }

  /** Every event delivered to watcher `id`, in delivery order. */
  eventsOf(id: number): string[] {
    return this.deliveries.filter((delivery) => delivery.id === id).flatMap((delivery) => delivery.events);
  }
}

/** Lets the hub's setImmediate passes (and a short retry timer) run. */
async function settle(macrotasks = 30, timerMs = 0): Promise<void> {
  for (let i = 0; i < macrotasks; i++) await new Promise<void>((resolve) => setImmediate(resolve));
  if (timerMs > 0) {
    await new Promise<void>((resolve) => setTimeout(resolve, timerMs));
    for (let i = 0; i < macrotasks; i++) await new Promise<void>((resolve) => setImmediate(resolve));
  }
}

const oneMacrotask = (): Promise<void> => new Promise<void>((resolve) => setImmediate(resolve));

const noFilters: WatchFilters = { noPut: false, noDelete: false };

describe('WatchHub', () => {
  let temp: TempStore;
  let hub: WatchHub;
  let nextId = 1;

  /** Runs one write transaction and hands its changes to the hub, as the node does after a commit. */
  const commit = (work: (txn: WriteTxn) => void): number => {
    const revision = temp.write(work);
    hub.notify(temp.store.takeChanges());
    return revision;
  };
  const put = (key: string, value: string): number => commit((txn) => void txn.put(b(key), b(value), 0n));
  const del = (key: string): number => commit((txn) => void txn.deleteRange({ start: key }));

  const watch = (sink: FakeSink, range: KeyRange, nextRevision: number, filters = noFilters): Watcher => {
    const watcher = new Watcher(BigInt(nextId++), range, nextRevision, filters, false, sink);
    hub.add(watcher);
    return watcher;
  };
  /** A watcher "from now", as the API creates one for start_revision 0. */
  const watchNow = (sink: FakeSink, range: KeyRange, filters = noFilters): Watcher => watch(sink, range, temp.store.currentRevision + 1, filters);

  const openHub = (limits: WatchHubLimits = { responseEventsMax: 1_000, catchUpRevisionsMax: 1_000, retryDelayMs: 1 }): void => {
    hub.close();
    hub = new WatchHub(temp.store, realClock, limits);
  };

  beforeEach(() => {
    temp = openTempStore();
    hub = new WatchHub(temp.store, realClock, { responseEventsMax: 1_000, catchUpRevisionsMax: 1_000, retryDelayMs: 1 });
    nextId = 1;
  });

  afterEach(async () => {
    hub.close();
    expect(hub.watcherCount).to.equal(0);
    const dir = temp.dir;
    await temp.remove();
    expect(existsSync(dir)).to.equal(false);
  });

  describe('synced watchers', () => {
    it('watchers that share an event keep their own lists when more events follow for some of them', () => {
      const sink = new FakeSink();
      const onA = watchNow(sink, { start: 'a' });
      const all = watchNow(sink, { start: 'a', end: '' });
      const alsoOnA = watchNow(sink, { start: 'a' });
      commit((txn) => {
        txn.put(b('a'), b('1'), 0n);
        txn.put(b('b'), b('1'), 0n);
        txn.put(b('c'), b('1'), 0n);
      });
      expect(sink.eventsOf(Number(onA.id))).to.deep.equal(['put a=1@2']);
      expect(sink.eventsOf(Number(alsoOnA.id))).to.deep.equal(['put a=1@2']);
      expect(sink.eventsOf(Number(all.id))).to.deep.equal(['put a=1@2', 'put b=1@2', 'put c=1@2']);
    });

    it('a sink that throws leaves the watchers it kept from their delivery with nothing of that batch in the next', () => {
      const throwing = new FakeSink();
      throwing.deliver = () => {
        throw new Error('sink failure');
      };
      const sink = new FakeSink();
      // A key's watchers are routed in the order they came: the throwing one first.
      const failing = watchNow(throwing, { start: 'a' });
      const first = watchNow(sink, { start: 'a' });
      const second = watchNow(sink, { start: 'a' });
      expect(() => put('a', '1')).to.throw('sink failure');
      expect(first.routed).to.equal(undefined);
      expect(second.routed).to.equal(undefined);
      hub.remove(failing);
      put('a', '2');
      expect(sink.eventsOf(Number(first.id))).to.deep.equal(['put a=2@3']);
      expect(sink.eventsOf(Number(second.id))).to.deep.equal(['put a=2@3']);
    });

    it('get one delivery per revision, synchronously, with the events of a txn together and in txn order', () => {
      put('c', '0');
      const sink = new FakeSink();
      const all = watchNow(sink, { start: 'a', end: '' });
      const onA = watchNow(sink, { start: 'a' });
      expect(hub.isSynced(all)).to.equal(true);
      const revision = commit((txn) => {
        txn.put(b('b'), b('1'), 0n);
        txn.put(b('a'), b('1'), 0n);
        txn.deleteRange({ start: 'c' });
      });
      expect(revision).to.equal(3);
      // No macrotask ran: synced delivery happens inside notify.
      // (The order between different watchers is not specified.)
      expect(sink.deliveries).to.have.deep.members([
        { id: Number(all.id), revision: 3, events: ['put b=1@3', 'put a=1@3', 'delete c@3'] },
        { id: Number(onA.id), revision: 3, events: ['put a=1@3'] },
      ]);
      put('a', '2');
      expect(sink.deliveries.slice(2)).to.have.deep.members([
        { id: Number(all.id), revision: 4, events: ['put a=2@4'] },
        { id: Number(onA.id), revision: 4, events: ['put a=2@4'] },
      ]);
      expect(sink.deliveries).to.have.length(4);
      expect(all.nextRevision).to.equal(5);
      expect(onA.nextRevision).to.equal(5);
    });

    it('routes each key only to the watchers whose key or range covers it', () => {
      const sink = new FakeSink();
      const onB = watchNow(sink, { start: 'b' });
      const onBAgain = watchNow(sink, { start: 'b' });
      const bToD = watchNow(sink, { start: 'b', end: 'd' });
      const fromC = watchNow(sink, { start: 'c', end: '' });
      const elsewhere = watchNow(sink, { start: 'x' });
      for (const key of ['a', 'b', 'ba', 'c', 'd', 'e']) put(key, key);
      expect(sink.eventsOf(Number(onB.id))).to.deep.equal(['put b=b@3']);
      expect(sink.eventsOf(Number(onBAgain.id))).to.deep.equal(['put b=b@3']);
      expect(sink.eventsOf(Number(bToD.id))).to.deep.equal(['put b=b@3', 'put ba=ba@4', 'put c=c@5']);
      expect(sink.eventsOf(Number(fromC.id))).to.deep.equal(['put c=c@5', 'put d=d@6', 'put e=e@7']);
      expect(sink.eventsOf(Number(elsewhere.id))).to.deep.equal([]);
      expect(sink.deliveries).to.have.length(8);
    });

    it('applies NOPUT and NODELETE filters, and delivers nothing for a revision whose events are all filtered out', () => {
      const sink = new FakeSink();
      const deletesOnly = watchNow(sink, { start: 'a', end: '' }, { noPut: true, noDelete: false });
      const putsOnly = watchNow(sink, { start: 'a', end: '' }, { noPut: false, noDelete: true });
      put('a', '1');
      commit((txn) => {
        txn.put(b('b'), b('1'), 0n);
        txn.deleteRange({ start: 'a' });
      });
      del('b');
      expect(sink.deliveries.filter((delivery) => delivery.id === Number(deletesOnly.id))).to.deep.equal([
        { id: Number(deletesOnly.id), revision: 3, events: ['delete a@3'] },
        { id: Number(deletesOnly.id), revision: 4, events: ['delete b@4'] },
      ]);
      expect(sink.deliveries.filter((delivery) => delivery.id === Number(putsOnly.id))).to.deep.equal([
        { id: Number(putsOnly.id), revision: 2, events: ['put a=1@2'] },
        { id: Number(putsOnly.id), revision: 3, events: ['put b=1@3'] },
      ]);
    });

    it('start at a future revision: nothing before it is delivered, everything from it is', async () => {
      const sink = new FakeSink();
      const later = watch(sink, { start: 'a' }, temp.store.currentRevision + 3);
      put('a', '1'); // 2
      put('a', '2'); // 3
      put('a', '3'); // 4
      put('a', '4'); // 5
      await settle();
      expect(sink.deliveries).to.deep.equal([
        { id: Number(later.id), revision: 4, events: ['put a=3@4'] },
        { id: Number(later.id), revision: 5, events: ['put a=4@5'] },
      ]);
    });

    it('a multi-revision batch goes to each watcher in one response, in revision order, carrying the newest revision', () => {
      const sink = new FakeSink();
      const all = watchNow(sink, { start: 'a', end: '' });
      const onlyB = watchNow(sink, { start: 'b' });
      temp.write((txn) => void txn.put(b('a'), b('1'), 0n));
      temp.write((txn) => void txn.put(b('b'), b('1'), 0n));
      temp.write((txn) => void txn.deleteRange({ start: 'a' }));
      hub.notify(temp.store.takeChanges());
      expect(sink.deliveries).to.deep.equal([
        { id: Number(all.id), revision: 4, events: ['put a=1@2', 'put b=1@3', 'delete a@4'] },
        { id: Number(onlyB.id), revision: 4, events: ['put b=1@3'] },
      ]);
      expect(all.nextRevision).to.equal(5);
      expect(onlyB.nextRevision).to.equal(5);
    });

    it('a batch longer than responseEventsMax is cut between revisions, never inside one', () => {
      openHub({ responseEventsMax: 2, catchUpRevisionsMax: 1_000, retryDelayMs: 1 });
      const sink = new FakeSink();
      const all = watchNow(sink, { start: 'a', end: '' });
      temp.write((txn) => void txn.put(b('a'), b('1'), 0n)); // 2
      temp.write((txn) => {
        txn.put(b('b'), b('1'), 0n);
        txn.put(b('c'), b('1'), 0n);
        txn.put(b('d'), b('1'), 0n);
      }); // 3: three events, more than the bound, kept together
      temp.write((txn) => void txn.put(b('e'), b('1'), 0n)); // 4
      temp.write((txn) => void txn.put(b('f'), b('1'), 0n)); // 5
      hub.notify(temp.store.takeChanges());
      expect(sink.deliveries).to.deep.equal([
        { id: Number(all.id), revision: 2, events: ['put a=1@2'] },
        { id: Number(all.id), revision: 3, events: ['put b=1@3', 'put c=1@3', 'put d=1@3'] },
        { id: Number(all.id), revision: 5, events: ['put e=1@4', 'put f=1@5'] },
      ]);
    });

  });

  describe('watchers starting from history', () => {
    it('catch up in bounded passes, one deliver per pass holding whole revisions, then join the synced set', async () => {
      openHub({ responseEventsMax: 1_000, catchUpRevisionsMax: 2, retryDelayMs: 1 });
      put('a', '1'); // 2
      commit((txn) => {
        txn.put(b('b'), b('1'), 0n);
        txn.put(b('c'), b('1'), 0n);
      }); // 3
      put('x', '1'); // 4, outside the range
      del('a'); // 5
      put('b', '2'); // 6
      const sink = new FakeSink();
      const history = watch(sink, { start: 'a', end: 'c' }, 2);
      expect(hub.isSynced(history)).to.equal(false);
      expect(sink.deliveries).to.deep.equal([]);
      await oneMacrotask();
      expect(sink.deliveries).to.deep.equal([{ id: Number(history.id), revision: 3, events: ['put a=1@2', 'put b=1@3'] }]);
      await oneMacrotask();
      expect(sink.deliveries.slice(1)).to.deep.equal([{ id: Number(history.id), revision: 5, events: ['delete a@5'] }]);
      await settle();
      expect(sink.deliveries.slice(2)).to.deep.equal([{ id: Number(history.id), revision: 6, events: ['put b=2@6'] }]);
      expect(hub.isSynced(history)).to.equal(true);
      put('a', '3'); // 7: delivered synchronously now
      expect(sink.deliveries.slice(3)).to.deep.equal([{ id: Number(history.id), revision: 7, events: ['put a=3@7'] }]);
      await settle();
      expect(sink.deliveries).to.have.length(4);
    });

    it('writes committed while a watcher catches up are delivered once, after the history, in order', async () => {
      openHub({ responseEventsMax: 1_000, catchUpRevisionsMax: 2, retryDelayMs: 1 });
      for (let i = 0; i < 6; i++) put('k', `${i}`); // 2..7
      const sink = new FakeSink();
      const history = watch(sink, { start: 'k' }, 2);
      const expected = Array.from({ length: 6 }, (_, i) => `put k=${i}@${i + 2}`);
      for (let i = 6; i < 12; i++) {
        await oneMacrotask();
        put('k', `${i}`);
        expected.push(`put k=${i}@${i + 2}`);
      }
      await settle();
      expect(sink.eventsOf(Number(history.id))).to.deep.equal(expected);
      expect(hub.isSynced(history)).to.equal(true);
    });

    it('one history read serves watchers at different revisions, each from its own start', async () => {
      for (let i = 0; i < 4; i++) put('k', `${i}`); // 2..5
      const sink = new FakeSink();
      const fromTwo = watch(sink, { start: 'k' }, 2);
      const fromFour = watch(sink, { start: 'k' }, 4);
      await settle();
      expect(sink.eventsOf(Number(fromTwo.id))).to.deep.equal(['put k=0@2', 'put k=1@3', 'put k=2@4', 'put k=3@5']);
      expect(sink.eventsOf(Number(fromFour.id))).to.deep.equal(['put k=2@4', 'put k=3@5']);
      put('k', '4');
      expect(sink.eventsOf(Number(fromFour.id)).at(-1)).to.equal('put k=4@6');
      expect(sink.eventsOf(Number(fromTwo.id)).at(-1)).to.equal('put k=4@6');
    });

    it('a watcher whose range has no history events gets nothing and is synced', async () => {
      put('a', '1');
      put('a', '2');
      const sink = new FakeSink();
      const quiet = watch(sink, { start: 'z' }, 2);
      await settle();
      expect(sink.deliveries).to.deep.equal([]);
      expect(hub.isSynced(quiet)).to.equal(true);
      put('z', '1');
      expect(sink.deliveries).to.deep.equal([{ id: Number(quiet.id), revision: 4, events: ['put z=1@4'] }]);
    });
  });

  describe('slow streams', () => {
    it('a watcher whose stream refuses is moved aside, others keep getting every revision, and it is caught up after wake()', async () => {
      openHub({ responseEventsMax: 1_000, catchUpRevisionsMax: 2, retryDelayMs: 60_000 }); // only wake() retries within this test
      const slow = new FakeSink();
      const fast = new FakeSink();
      const slowWatcher = watchNow(slow, { start: 'k', end: '' });
      const fastWatcher = watchNow(fast, { start: 'k', end: '' });
      put('k1', 'a'); // 2: delivered to both
      slow.room = false;
      put('k2', 'b'); // 3: refused by slow
      expect(slow.refusals).to.equal(1);
      expect(hub.isSynced(slowWatcher)).to.equal(false);
      expect(slowWatcher.nextRevision).to.equal(3);
      commit((txn) => {
        txn.put(b('k3'), b('c'), 0n);
        txn.deleteRange({ start: 'k1' });
      }); // 4
      put('k2', 'd'); // 5
      await settle();
      // Moved aside: not offered again while its stream has no room.
      expect(slow.refusals).to.equal(1);
      expect(slow.eventsOf(Number(slowWatcher.id))).to.deep.equal(['put k1=a@2']);
      const all = ['put k1=a@2', 'put k2=b@3', 'put k3=c@4', 'delete k1@4', 'put k2=d@5'];
      expect(fast.eventsOf(Number(fastWatcher.id))).to.deep.equal(all);
      expect(fast.deliveries.map((delivery) => delivery.revision)).to.deep.equal([2, 3, 4, 5]);
      slow.room = true;
      hub.wake();
      await settle();
      expect(slow.eventsOf(Number(slowWatcher.id))).to.deep.equal(all);
      // Revision 4's two events arrive in one delivery.
      expect(slow.deliveries.map((delivery) => delivery.revision)).to.deep.equal([2, 4, 5]);
      expect(hub.isSynced(slowWatcher)).to.equal(true);
      put('k9', 'e');
      expect(slow.eventsOf(Number(slowWatcher.id)).at(-1)).to.equal('put k9=e@6');
      expect(slow.deliveries).to.have.length(4);
    });

    it('without wake(), a moved-aside watcher is retried after retryDelayMs', async () => {
      openHub({ responseEventsMax: 1_000, catchUpRevisionsMax: 1_000, retryDelayMs: 5 });
      const slow = new FakeSink();
      const watcher = watchNow(slow, { start: 'k' });
      slow.room = false;
      put('k', '1');
      put('k', '2');
      await settle();
      expect(slow.deliveries).to.deep.equal([]);
      slow.room = true;
      await settle(10, 20);
      expect(slow.eventsOf(Number(watcher.id))).to.deep.equal(['put k=1@2', 'put k=2@3']);
      expect(hub.isSynced(watcher)).to.equal(true);
    });

    it('a catch-up deliver that is refused is retried from the same revision: nothing lost or duplicated', async () => {
      openHub({ responseEventsMax: 1_000, catchUpRevisionsMax: 2, retryDelayMs: 1 });
      for (let i = 0; i < 5; i++) put('k', `${i}`); // 2..6
      const sink = new FakeSink();
      sink.refuse = true; // claims room, refuses anyway
      const watcher = watch(sink, { start: 'k' }, 2);
      await settle(5);
      expect(sink.refusals).to.be.greaterThan(0);
      expect(sink.deliveries).to.deep.equal([]);
      expect(watcher.nextRevision).to.equal(2);
      sink.refuse = false;
      await settle(10, 10);
      expect(sink.eventsOf(Number(watcher.id))).to.deep.equal(['put k=0@2', 'put k=1@3', 'put k=2@4', 'put k=3@5', 'put k=4@6']);
      expect(hub.isSynced(watcher)).to.equal(true);
    });

    it('a refusal in the middle of a batch cut into responses: earlier revisions delivered, the rest caught up', async () => {
      openHub({ responseEventsMax: 1, catchUpRevisionsMax: 1_000, retryDelayMs: 1 });
      const sink = new FakeSink();
      const watcher = watchNow(sink, { start: 'k' });
      let offered = 0;
      const deliver = sink.deliver.bind(sink);
      sink.deliver = (w, revision, events) => (++offered === 2 ? (sink.refusals++, false) : deliver(w, revision, events));
      for (let i = 0; i < 4; i++) temp.write((txn) => void txn.put(b('k'), b(`${i}`), 0n)); // 2..5
      hub.notify(temp.store.takeChanges());
      expect(sink.deliveries.map((delivery) => delivery.revision)).to.deep.equal([2]);
      expect(hub.isSynced(watcher)).to.equal(false);
      expect(watcher.nextRevision).to.equal(3);
      await settle();
      expect(sink.eventsOf(Number(watcher.id))).to.deep.equal(['put k=0@2', 'put k=1@3', 'put k=2@4', 'put k=3@5']);
    });
  });

  describe('compaction', () => {
    it('a watcher starting below the compact revision is cancelled with it and removed', async () => {
      for (let i = 0; i < 4; i++) put('k', `${i}`); // 2..5
      temp.write(() => temp.store.compact(4));
      const sink = new FakeSink();
      watch(sink, { start: 'k' }, 3);
      await settle();
      expect(sink.compactions).to.deep.equal([{ id: 1, compactRevision: 4 }]);
      expect(sink.deliveries).to.deep.equal([]);
      expect(hub.watcherCount).to.equal(0);
    });

    it('a watcher may start exactly at the compact revision (as etcd) and gets its events from there', async () => {
      for (let i = 0; i < 4; i++) put('k', `${i}`); // 2..5
      temp.write(() => temp.store.compact(4));
      const sink = new FakeSink();
      const atCompaction = watch(sink, { start: 'k' }, 4);
      await settle();
      expect(sink.compactions).to.deep.equal([]);
      expect(sink.eventsOf(Number(atCompaction.id))).to.deep.equal(['put k=2@4', 'put k=3@5']);
    });

    it('a watcher moved aside whose history is compacted meanwhile is cancelled with the compact revision', async () => {
      openHub({ responseEventsMax: 1_000, catchUpRevisionsMax: 1_000, retryDelayMs: 60_000 });
      const slow = new FakeSink();
      const watcher = watchNow(slow, { start: 'k' });
      slow.room = false;
      put('k', '1'); // 2, refused
      put('k', '2'); // 3
      put('k', '3'); // 4
      expect(watcher.nextRevision).to.equal(2);
      temp.write(() => temp.store.compact(3));
      slow.room = true;
      hub.wake();
      await settle();
      expect(slow.compactions).to.deep.equal([{ id: Number(watcher.id), compactRevision: 3 }]);
      expect(slow.deliveries).to.deep.equal([]);
      expect(hub.watcherCount).to.equal(0);
      put('k', '4');
      expect(slow.deliveries).to.deep.equal([]);
    });

    it('a compaction between catch-up passes cancels a watcher whose next revision it passed', async () => {
      openHub({ responseEventsMax: 1_000, catchUpRevisionsMax: 2, retryDelayMs: 1 });
      for (let i = 0; i < 8; i++) put('k', `${i}`); // 2..9
      const sink = new FakeSink();
      const watcher = watch(sink, { start: 'k' }, 2);
      await oneMacrotask();
      expect(sink.eventsOf(Number(watcher.id))).to.deep.equal(['put k=0@2', 'put k=1@3']);
      temp.write(() => temp.store.compact(6));
      await settle();
      expect(sink.compactions).to.deep.equal([{ id: Number(watcher.id), compactRevision: 6 }]);
      expect(sink.deliveries).to.have.length(1);
    });

    it('a synced watcher is not affected by a compaction', () => {
      const sink = new FakeSink();
      const watcher = watchNow(sink, { start: 'k' });
      put('k', '1');
      put('k', '2');
      temp.write(() => temp.store.compact(3));
      put('k', '3');
      expect(sink.compactions).to.deep.equal([]);
      expect(sink.eventsOf(Number(watcher.id))).to.deep.equal(['put k=1@2', 'put k=2@3', 'put k=3@4']);
    });
  });

  describe('removal', () => {
    it('remove() stops delivery to synced key and range watchers and forgets them', () => {
      const sink = new FakeSink();
      const onKey = watchNow(sink, { start: 'k' });
      const onRange = watchNow(sink, { start: 'a', end: '' });
      const stays = watchNow(sink, { start: 'k' });
      expect(hub.watcherCount).to.equal(3);
      put('k', '1');
      hub.remove(onKey);
      hub.remove(onRange);
      expect(hub.watcherCount).to.equal(1);
      put('k', '2');
      expect(sink.eventsOf(Number(onKey.id))).to.deep.equal(['put k=1@2']);
      expect(sink.eventsOf(Number(onRange.id))).to.deep.equal(['put k=1@2']);
      expect(sink.eventsOf(Number(stays.id))).to.deep.equal(['put k=1@2', 'put k=2@3']);
      hub.remove(stays);
      expect(hub.watcherCount).to.equal(0);
    });

    it('remove() of a watcher waiting to catch up: it never gets its history', async () => {
      put('k', '1');
      const sink = new FakeSink();
      const watcher = watch(sink, { start: 'k' }, 2);
      expect(hub.watcherCount).to.equal(1);
      hub.remove(watcher);
      expect(hub.watcherCount).to.equal(0);
      await settle();
      put('k', '2');
      expect(sink.deliveries).to.deep.equal([]);
    });

    it('remove() of a moved-aside watcher: its stream gets nothing more after room comes back', async () => {
      openHub({ responseEventsMax: 1_000, catchUpRevisionsMax: 1_000, retryDelayMs: 1 });
      const slow = new FakeSink();
      const watcher = watchNow(slow, { start: 'k' });
      slow.room = false;
      put('k', '1');
      hub.remove(watcher);
      slow.room = true;
      hub.wake();
      await settle(10, 10);
      expect(slow.deliveries).to.deep.equal([]);
      expect(hub.watcherCount).to.equal(0);
    });

    it('close() forgets every watcher, and a pending retry delivers nothing', async () => {
      openHub({ responseEventsMax: 1_000, catchUpRevisionsMax: 1_000, retryDelayMs: 5 });
      const slow = new FakeSink();
      watchNow(slow, { start: 'k' });
      watchNow(slow, { start: 'a', end: '' });
      slow.room = false;
      put('k', '1');
      expect(hub.watcherCount).to.equal(2);
      hub.close();
      expect(hub.watcherCount).to.equal(0);
      slow.room = true;
      await settle(10, 20);
      put('k', '2');
      expect(slow.deliveries).to.deep.equal([]);
    });
  });
});
