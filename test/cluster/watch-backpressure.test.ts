// A watch stream whose client stops reading: cairn's stream queues the
// responses it cannot write yet, and a watcher's queued response takes the
// events of later revisions (coalescing, server/api/watch.ts). What must hold
// whatever the timing: every event arrives once, in revision order, and a
// progress response still splits the revisions — nothing it promises as sent
// arrives after it, and no event of a later revision joins a response queued
// before it. cairn only: etcd 3.4.23 answers a progress request without
// waiting for its watchers to catch up (fixed in 3.4.25, etcd issue 15220),
// and does not coalesce.
import { expect } from 'chai';
import { credentials, Metadata, type ClientDuplexStream } from '@grpc/grpc-js';
import { KVClient, PutRequest, WatchClient, WatchRequest, type WatchResponse } from '../../proto/gen/etcdserverpb/rpc.js';
import { startCairn, type ServerHandle } from '../harness/launcher.js';

/** Enough bytes of events to fill the connection's flow-control windows many times over. */
const valueBytes = 16 * 1024;
const putsBeforeProgress = 300;
const putsAfterProgress = 50;
const deliveryWaitMs = 30_000;

function put(kv: KVClient, key: string, value: Buffer): Promise<bigint> {
  return new Promise((resolve, reject) => {
    kv.put(PutRequest.fromPartial({ key: Buffer.from(key), value }), (error, response) => {
      if (error !== null) reject(error);
      else resolve(response.header?.revision ?? 0n);
    });
  });
}

/** Every response of `call` from now on, in order; resolves once `done` holds for what came (bounded). */
function collect(call: ClientDuplexStream<WatchRequest, WatchResponse>, done: (responses: WatchResponse[]) => boolean): Promise<WatchResponse[]> {
  const responses: WatchResponse[] = [];
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`watch: not done after ${deliveryWaitMs} ms (${responses.length} responses)`)), deliveryWaitMs);
    call.on('data', (response: WatchResponse) => {
      responses.push(response);
      if (done(responses)) {
        clearTimeout(timer);
        resolve(responses);
      }
    });
    call.on('error', (error: Error) => {
      clearTimeout(timer);
      reject(error);
    });
  });
}

describe('watch: a stream whose client stops reading (cairn)', function () {
  this.timeout(120_000);
  let server: ServerHandle | undefined;
  let kv: KVClient | undefined;
  let watch: WatchClient | undefined;

  before(async () => {
    server = await startCairn();
    kv = new KVClient(server.endpoint, credentials.createInsecure());
    watch = new WatchClient(server.endpoint, credentials.createInsecure());
  });

  after(async () => {
    kv?.close();
    watch?.close();
    await server?.destroy();
  });

  it('delivers every event once and in order, coalesced, and a progress response splits the revisions', async () => {
    if (kv === undefined || watch === undefined) throw new Error('no server');
    const call = watch.watch(new Metadata());
    const created = new Promise<WatchResponse>((resolve) => call.once('data', resolve));
    call.write(WatchRequest.fromPartial({ createRequest: { key: Buffer.from('bp/k') } }));
    expect((await created).created).to.equal(true);

    call.pause();
    const value = Buffer.alloc(valueBytes, 'v');
    const revisions: bigint[] = [];
    for (let i = 0; i < putsBeforeProgress; i++) revisions.push(await put(kv, 'bp/k', value));
    call.write(WatchRequest.fromPartial({ progressRequest: {} }));
    for (let i = 0; i < putsAfterProgress; i++) revisions.push(await put(kv, 'bp/k', value));
    const last = revisions[revisions.length - 1];

    const arrived = collect(call, (responses) => responses.some((response) => response.events.some((event) => event.kv?.modRevision === last)));
    call.resume();
    const responses = await arrived;
    call.cancel();

    const delivered = responses.flatMap((response) => response.events.map((event) => event.kv?.modRevision ?? 0n));
    expect(delivered, 'every event once, in revision order').to.deep.equal(revisions);
    for (const response of responses) expect(response.events.every((event) => event.kv?.value.length === valueBytes)).to.equal(true);
    expect(responses.some((response) => response.events.length > 1), 'the backed-up stream coalesced events into fewer responses').to.equal(true);

    const progressAt = responses.findIndex((response) => response.watchId === -1n && response.events.length === 0);
    expect(progressAt, 'the progress response arrived').to.be.greaterThan(-1);
    const promised = responses[progressAt]?.header?.revision ?? 0n;
    expect(promised >= revisions[putsBeforeProgress - 1]!, 'it promises at least the writes made before it was asked for').to.equal(true);
    const before = responses.slice(0, progressAt).flatMap((response) => response.events.map((event) => event.kv?.modRevision ?? 0n));
    const after = responses.slice(progressAt + 1).flatMap((response) => response.events.map((event) => event.kv?.modRevision ?? 0n));
    expect(before.every((revision) => revision <= promised), `no event after revision ${promised} arrived before its progress response`).to.equal(true);
    expect(after.every((revision) => revision > promised), `every event up to revision ${promised} arrived before its progress response`).to.equal(true);
  });
});
