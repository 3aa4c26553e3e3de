// The npm `etcd3` client's watch builders against etcd and cairn: key,
// prefix and inRange watchers, only('put'|'delete'), withPreviousKV,
// startRevision (replaying history), cancel, and a watch from a compacted
// revision. Every 'data' response the package emits is compared whole
// (header revision relative to the scenario's start, watch IDs, event
// batching), as are the put/delete/end/error events in their order.
import { expect } from 'chai';
import type { WatchBuilder, Watcher } from 'etcd3';
import { etcd3Pair, nextEvent, sleep, waitFor, type Normaliser } from './etcd3-pair.js';

/** How long to keep listening after the expected events, for events that should not come. */
const quietMs = 200;

interface Recording {
  /** Every 'data' response, normalised. */
  responses: unknown[];
  /** put/delete (key=value, with the previous value when given), end and error events, in order. */
  events: string[];
}

function record(watcher: Watcher, n: Normaliser): Recording {
  const recording: Recording = { responses: [], events: [] };
  const show = (kv: { key: Buffer; value: Buffer; mod_revision: string }) => `${kv.key.toString()}=${kv.value.toString()}@${n.rev(kv.mod_revision)}`;
  watcher.on('data', (response) => recording.responses.push(n.of(response)));
  watcher.on('put', (kv, previous) => recording.events.push(`put ${show(kv)}${previous === undefined || previous === null ? '' : ` prev ${show(previous)}`}`));
  watcher.on('delete', (kv, previous) => recording.events.push(`delete ${show(kv)}${previous === undefined || previous === null ? '' : ` prev ${show(previous)}`}`));
  watcher.on('end', () => recording.events.push('end'));
  watcher.on('error', (error) => recording.events.push(`error ${JSON.stringify(n.error(error))}`));
  return recording;
}

/**
 * As `builder.create()`, with the recording attached before the watcher
 * connects: a server may send replayed events right behind the created
 * response, before create()'s promise lets the caller attach listeners.
 */
async function createRecorded(builder: WatchBuilder, n: Normaliser): Promise<[Watcher, Recording]> {
  const watcher = builder.watcher();
  const recording = record(watcher, n);
  await nextEvent(watcher, 'connected');
  return [watcher, recording];
}

describe('interop: etcd3 npm — watch', function () {
  const pairs = etcd3Pair();

  it('key, prefix and inRange watchers on one client see the same responses and events; cancel ends one', async () => {
    const etcd = await pairs.same('key, prefix, inRange', async ({ client, n }) => {
      const [onKey, key] = await createRecorded(client.watch().key('w/a'), n);
      const [onPrefix, prefix] = await createRecorded(client.watch().prefix('w/'), n);
      const [inRange, range] = await createRecorded(client.watch().inRange({ start: 'w/b', end: 'w/d' }), n);
      const recordings = { key, prefix, inRange: range };
      const ids = [onKey.id, onPrefix.id, inRange.id];
      await client.put('w/a').value('1');
      await client.put('w/b').value('2');
      await client.put('w/c').value('3');
      await client.delete().key('w/a');
      // One revision, two events: one response with both.
      await client.delete().prefix('w/');
      await client.put('w/d').value('4');
      await waitFor(() => recordings.prefix.events.length >= 7, 'the prefix watcher to see 7 events');
      await onKey.cancel();
      await client.put('w/a').value('after cancel');
      await waitFor(() => recordings.prefix.events.length >= 8, 'the prefix watcher to see the put after the cancel');
      await sleep(quietMs);
      const lastRevisions = [onPrefix.lastRevision(), inRange.lastRevision()].map((revision) => n.rev(revision));
      await Promise.all([onPrefix.cancel(), inRange.cancel()]);
      return { ids, recordings, lastRevisions };
    });
    expect(etcd.ids).to.deep.equal(['0', '1', '2']);
    expect(etcd.recordings.key.events).to.deep.equal(['put w/a=1@rev+1', 'delete w/a=@rev+4', 'end']);
    expect(etcd.recordings.inRange.events).to.deep.equal(['put w/b=2@rev+2', 'put w/c=3@rev+3', 'delete w/b=@rev+5', 'delete w/c=@rev+5', 'end']);
  });

  it('only(\'put\'), only(\'delete\') and withPreviousKV', async () => {
    const etcd = await pairs.same('filters and previous values', async ({ client, n }) => {
      const [puts, putsRecording] = await createRecorded(client.watch().prefix('wf/').only('put'), n);
      const [deletes, deletesRecording] = await createRecorded(client.watch().prefix('wf/').only('delete'), n);
      const [previous, previousRecording] = await createRecorded(client.watch().prefix('wf/').withPreviousKV(), n);
      const [deletesWithPrevious, deletesWithPreviousRecording] = await createRecorded(client.watch().prefix('wf/').only('delete').withPreviousKV(), n);
      const recordings = { puts: putsRecording, deletes: deletesRecording, previous: previousRecording, deletesWithPrevious: deletesWithPreviousRecording };
      await client.put('wf/a').value('1');
      await client.put('wf/a').value('2');
      await client.delete().key('wf/a');
      await client.put('wf/b').value('3');
      await client.if('wf/b', 'Version', '==', 1).then(client.put('wf/b').value('4'), client.put('wf/c').value('5')).commit();
      await client.delete().prefix('wf/');
      await waitFor(() => recordings.previous.events.length >= 8, 'the watcher with previous values to see 8 events');
      await sleep(quietMs);
      await Promise.all([puts, deletes, previous, deletesWithPrevious].map((watcher) => watcher.cancel()));
      return recordings;
    });
    expect(etcd.puts.events).to.deep.equal(['put wf/a=1@rev+1', 'put wf/a=2@rev+2', 'put wf/b=3@rev+4', 'put wf/b=4@rev+5', 'put wf/c=5@rev+5', 'end']);
    expect(etcd.deletesWithPrevious.events[0]).to.equal('delete wf/a=@rev+3 prev wf/a=2@rev+2');
  });

  it('startRevision replays the history from an older revision, then follows new writes', async () => {
    const etcd = await pairs.same('startRevision', async ({ client, n }) => {
      for (let index = 1; index <= 5; index++) await client.put(`wr/${index % 2}`).value(String(index));
      await client.delete().key('wr/0');
      const [fromStart, fromStartRecording] = await createRecorded(client.watch().prefix('wr/').startRevision(n.at(1)), n);
      const [fromMiddle, fromMiddleRecording] = await createRecorded(client.watch().key('wr/1').startRevision(n.at(3)).withPreviousKV(), n);
      const recordings = { fromStart: fromStartRecording, fromMiddle: fromMiddleRecording };
      await waitFor(() => recordings.fromStart.events.length >= 6, 'the replay of 6 events');
      await client.put('wr/1').value('new');
      await waitFor(() => recordings.fromStart.events.length >= 7 && recordings.fromMiddle.events.length >= 3, 'the new put on both watchers');
      await sleep(quietMs);
      const lastRevisions = [fromStart.lastRevision(), fromMiddle.lastRevision()].map((revision) => n.rev(revision));
      await Promise.all([fromStart.cancel(), fromMiddle.cancel()]);
      return { recordings, lastRevisions };
    });
    expect(etcd.recordings.fromStart.events.slice(0, 7)).to.deep.equal([
      'put wr/1=1@rev+1', 'put wr/0=2@rev+2', 'put wr/1=3@rev+3', 'put wr/0=4@rev+4', 'put wr/1=5@rev+5', 'delete wr/0=@rev+6', 'put wr/1=new@rev+7',
    ]);
    expect(etcd.lastRevisions).to.deep.equal(['rev+8', 'rev+8']);
  });

  // Last in this block: the compaction removes the history the scenarios above replayed.
  it('a watch from a compacted revision connects, then emits the package\'s error', async () => {
    const etcd = await pairs.same('compacted revision', async ({ client, n }) => {
      await client.put('wc/a').value('1');
      await client.put('wc/a').value('2');
      await client.put('wc/a').value('3');
      await client.kv.compact({ revision: n.at(3) });
      const watcher = client.watch().key('wc/a').startRevision(n.at(1)).watcher();
      const recording = record(watcher, n);
      const connected: unknown[] = [];
      watcher.on('connected', (response) => connected.push(n.of(response)));
      await waitFor(() => recording.events.length >= 1, 'the compacted watcher to fail');
      await sleep(quietMs);
      // From the compacted revision itself the history is still there.
      const [atCompaction, atCompactionRecording] = await createRecorded(client.watch().key('wc/a').startRevision(n.at(3)), n);
      await waitFor(() => atCompactionRecording.events.length >= 1, 'the replay from the compaction revision');
      await atCompaction.cancel();
      return { connected, recording, atCompaction: atCompactionRecording };
    });
    // etcd 3.4 cancels the watch with compact_revision set and no cancel_reason; the package
    // emits no 'data' for a canceled response, only this error (the compact revision is lost).
    expect(etcd.recording.events).to.deep.equal(['error {"error":{"class":"EtcdError","message":"Watcher canceled: "}}']);
    expect(etcd.atCompaction.events).to.deep.equal(['put wc/a=3@rev+3', 'end']);
  });
});
