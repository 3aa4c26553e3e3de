import { expect } from 'chai';
import { WatchResponse } from '../../proto/gen/etcdserverpb/rpc.js';
import { Event_EventType, type Event } from '../../proto/gen/mvccpb/kv.js';
import type { ChangeEvent } from '../mvcc/store.js';
import { openTempStore, type TempStore } from '../testing/temp-store.js';
import { frameMessage } from '../grpc/serving/framing.js';
import { frameWatchResponses, watchEvent, watchResponseEncoder } from './watch-events.js';

const b = (text: string): Buffer => Buffer.from(text);

describe('watch events on the wire', () => {
  let temp: TempStore;
  /** The changes of one write, as the hub receives them. */
  const changesOf = (work: Parameters<TempStore['write']>[0]): ChangeEvent[] => {
    temp.write(work);
    return temp.store.takeChanges().flatMap((changes) => changes.events);
  };

  beforeEach(() => {
    temp = openTempStore();
  });
  afterEach(async () => {
    await temp.remove();
  });

  it('one Event per change and kind, shared by every watcher; prev_kv read once, absent for a creation', () => {
    const [created] = changesOf((txn) => void txn.put(b('k'), b('1'), 0n));
    const [updated] = changesOf((txn) => void txn.put(b('k'), b('2'), 0n));
    const [deleted] = changesOf((txn) => void txn.deleteRange({ start: 'k' }));
    const store = temp.store;
    expect(watchEvent(store, updated!, false)).to.equal(watchEvent(store, updated!, false));
    expect(watchEvent(store, updated!, true)).to.equal(watchEvent(store, updated!, true));
    expect(watchEvent(store, updated!, false).prevKv).to.equal(undefined);
    expect(watchEvent(store, updated!, true).prevKv?.value.toString()).to.equal('1');
    expect(watchEvent(store, created!, true).prevKv).to.equal(undefined);
    const deletion = watchEvent(store, deleted!, true);
    expect(deletion.type).to.equal(Event_EventType.DELETE);
    expect(deletion.prevKv?.value.toString()).to.equal('2');
    expect(deletion.kv?.modRevision).to.equal(4n);
  });

  /** The events of one write of two keys, one of them long (its length takes two varint bytes). */
  const twoEvents = (): Event[] => {
    const changes = changesOf((txn) => {
      txn.put(b('a'), b('x'.repeat(300)), 0n);
      txn.put(b('b'), b('y'), 0n);
    });
    return changes.map((change) => watchEvent(temp.store, change, false));
  };

  it('encodes byte for byte as the generated encoder, with and without events', () => {
    const events = twoEvents();
    const header = { clusterId: 1n, memberId: 2n, revision: 2n, raftTerm: 3n };
    const responses = [
      WatchResponse.fromPartial({ header, watchId: 7n, events }),
      WatchResponse.fromPartial({ header, watchId: 8n, events: [events[1]!, events[0]!], fragment: true }),
      WatchResponse.fromPartial({ header, watchId: -1n }),
      WatchResponse.fromPartial({ header, watchId: 3n, created: true, canceled: true, cancelReason: 'no', compactRevision: 9n }),
    ];
    for (const response of responses) {
      const ours = Buffer.from(watchResponseEncoder.encode(response).finish());
      expect(ours.equals(Buffer.from(WatchResponse.encode(response).finish())), `watch id ${response.watchId}`).to.equal(true);
      expect(WatchResponse.decode(ours)).to.deep.equal(response);
    }
  });

  it('frames many responses in one buffer: the generated encoder\'s bytes, each framed as gRPC frames it', () => {
    const events = twoEvents();
    const header = { clusterId: 0xfedcba9876543210n, memberId: 2n, revision: 2n, raftTerm: 3n };
    const responses = [
      WatchResponse.fromPartial({ header, watchId: 7n, events }),
      WatchResponse.fromPartial({ header, watchId: 0n, events: [events[1]!] }),
      WatchResponse.fromPartial({ header, watchId: 200n, events }),
      WatchResponse.fromPartial({ header, watchId: 2n ** 60n, events }),
      WatchResponse.fromPartial({ header, watchId: 8n, events: [events[1]!, events[0]!], fragment: true }),
      WatchResponse.fromPartial({ header, watchId: -1n }),
      WatchResponse.fromPartial({ header: undefined, watchId: 5n, events }),
      WatchResponse.fromPartial({ header, watchId: 3n, created: true, canceled: true, cancelReason: 'no', compactRevision: 9n }),
    ];
    const expected = (list: WatchResponse[]): Buffer => Buffer.concat(list.map((response) => frameMessage(WatchResponse.encode(response).finish())));
    expect(frameWatchResponses(responses).equals(expected(responses))).to.equal(true);
    expect(frameWatchResponses([responses[0]!]).equals(expected([responses[0]!]))).to.equal(true);
    expect(frameWatchResponses([]).length).to.equal(0);
    // A header object changed after it was encoded is encoded again, not sent stale.
    header.revision = 3n;
    expect(frameWatchResponses(responses).equals(expected(responses))).to.equal(true);
  });
});
