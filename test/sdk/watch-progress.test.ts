// Watch progress requests and fragments against cairn and etcd, both started
// with a small --max-request-bytes so that one revision's events exceed the
// size at which the server fragments: the server sends that revision in
// fragments and the SDK emits it whole. Both fragment above
// --max-request-bytes + 512 KiB (etcd's gRPC overhead allowance), and not
// below it.
import { expect } from 'chai';
import { firstValueFrom, take } from 'rxjs';
import { connect, NoActiveWatchError, op, type Client, type WatchBatch } from '../../client/index.js';
import type { ServerHandle } from '../harness/launcher.js';
import { eventually, rejection, selectedTargets, sleep, WatchRecorder } from './support.js';

const requestBytesMax = 64 * 1024;
const keyCount = 16;
const valueBytes = 48 * 1024;
/** Keys whose events (with their previous values) exceed --max-request-bytes but not --max-request-bytes + 512 KiB. */
const belowFragmentKeyCount = 8;

for (const target of selectedTargets()) {
  describe(`sdk watch progress and fragments against ${target.kind}`, function () {
    let server: ServerHandle;
    let client: Client;
    const recorder = new WatchRecorder();

    before(async function () {
      if (!target.available()) return this.skip();
      server = await target.start({ args: ['--max-request-bytes', String(requestBytesMax)] });
      client = await connect({ endpoints: [server.endpoint], interceptors: [recorder.interceptor] });
    });
    after(async () => {
      client?.close();
      await server?.destroy();
    });

    it(`emits a revision whose events exceed the server's fragment size as one batch, joined from its fragments`, async () => {
      const keys = Array.from({ length: keyCount }, (_, index) => `frag/${index}`);
      for (const key of keys) await client.put(key, 'v'.repeat(valueBytes));
      const joined = firstValueFrom(client.watch$({ prefix: 'frag/' }, { prevKv: true }).pipe(take(1)));
      const whole = firstValueFrom(client.watch$({ prefix: 'frag/' }, { prevKv: true, fragment: false }).pipe(take(1)));
      await eventually(() => client.watcherCount === 2 && recorder.responses.filter((response) => response.created).length >= 2, 5_000, 'both watches created');
      const seenBefore = recorder.responses.length;
      // One small txn, one revision; with the previous values its events are about keyCount × valueBytes.
      const txn = await client.txn().then(keys.map((key) => op.put(key, 'small'))).commit();
      for (const batch of [await joined, await whole]) {
        expect(batch.revision).to.equal(txn.revision);
        expect(batch.events.map((event) => event.kv.key)).to.deep.equal(keys);
        expect(batch.events.every((event) => event.prevKv?.value.length === valueBytes)).to.equal(true);
      }
      const received = recorder.responses.slice(seenBefore).filter((response) => response.events.length > 0);
      const fragments = received.filter((response) => response.fragment);
      expect(fragments.length, 'responses marked as fragments').to.be.at.least(1);
      const fragmentedWatch = fragments[0]?.watchId;
      const parts = received.filter((response) => response.watchId === fragmentedWatch);
      expect(parts.length).to.be.at.least(2);
      expect(parts.at(-1)?.fragment).to.equal(false);
      expect(parts.reduce((sum, part) => sum + part.events.length, 0)).to.equal(keyCount);
      const unfragmented = received.filter((response) => response.watchId !== fragmentedWatch);
      expect(unfragmented.map((response) => [response.events.length, response.fragment])).to.deep.equal([[keyCount, false]]);
    });

    it('sends a revision above --max-request-bytes but below its gRPC allowance in one response', async () => {
      const keys = Array.from({ length: belowFragmentKeyCount }, (_, index) => `whole/${index}`);
      for (const key of keys) await client.put(key, 'v'.repeat(valueBytes));
      const batch = firstValueFrom(client.watch$({ prefix: 'whole/' }, { prevKv: true }).pipe(take(1)));
      await eventually(() => client.watcherCount === 1, 5_000, 'the watch created');
      const seenBefore = recorder.responses.length;
      const txn = await client.txn().then(keys.map((key) => op.put(key, 'small'))).commit();
      expect((await batch).revision).to.equal(txn.revision);
      const received = recorder.responses.slice(seenBefore).filter((response) => response.events.length > 0);
      expect(received.map((response) => [response.events.length, response.fragment])).to.deep.equal([[belowFragmentKeyCount, false]]);
    });

    it('answers a progress request with a revision covering every write, emitted to watches with progressNotify only', async () => {
      expect(await rejection(client.requestWatchProgress())).to.be.instanceOf(NoActiveWatchError);
      const notified: WatchBatch[] = [];
      const silent: WatchBatch[] = [];
      const first = client.watch$('prog/a', { progressNotify: true }).subscribe((batch) => notified.push(batch));
      const second = client.watch$('prog/b').subscribe((batch) => silent.push(batch));
      await eventually(() => client.watcherCount === 2, 5_000, 'both watches subscribed');
      await sleep(100);
      await client.put('prog/a', '1');
      const last = await client.put('prog/b', '2');
      const progress = await client.requestWatchProgress({ deadlineMs: 5_000 });
      expect(progress.revision >= last.revision, `progress ${progress.revision} covers ${last.revision}`).to.equal(true);
      await eventually(() => notified.some((batch) => batch.progress), 5_000, 'the progress batch');
      expect(notified.map((batch) => [batch.progress, batch.revision])).to.deep.equal([[false, last.revision - 1n], [true, progress.revision]]);
      expect(silent.map((batch) => batch.progress)).to.deep.equal([false]);
      const answers = recorder.responses.filter((response) => response.watchId === -1n && !response.created);
      expect(answers.length).to.be.at.least(1);
      const together = await Promise.all([client.requestWatchProgress(), client.requestWatchProgress()]);
      expect(together.every((answer) => answer.revision >= last.revision)).to.equal(true);
      first.unsubscribe();
      second.unsubscribe();
      expect(await rejection(client.requestWatchProgress())).to.be.instanceOf(NoActiveWatchError);
    });
  });
}
