// The SDK over mutual TLS with auth on, against cairn and against real etcd
// started with the same flags: an https:// client URL, --cert-file,
// --key-file, --trusted-ca-file and --client-cert-auth (certificates made for
// this run, harness/tls-fixture.ts), then root, a role confined to `app/` and
// a user with it, and auth enabled through etcdctl over the same TLS.
//
// The confined user works inside its prefix (KV, txn, watch, lease with
// keep-alive, Session + Mutex + Election) and gets typed errors outside it.
// The fixture's client certificate says CN "root", so the same certificate
// without username/password runs as root under --client-cert-auth, while a
// token (username/password given) wins over the certificate's name.
import { expect } from 'chai';
import { firstValueFrom, filter, take, toArray, type Subscription } from 'rxjs';
import {
  codecs,
  compare,
  connect,
  GrpcCode,
  op,
  PermissionDeniedError,
  WatchCanceledError,
  type Client,
  type ConnectOptions,
  type WatchBatch,
} from '../../client/index.js';
import { Election, Mutex, Session } from '../../recipes/index.js';
import { etcdctlEach } from '../harness/etcdctl.js';
import type { ServerHandle } from '../harness/launcher.js';
import { must } from '../harness/must.js';
import { makeTlsFiles, mutualTls, type TlsFiles } from '../harness/tls-fixture.js';
import { confinedUserSetup, eventually, rejection, selectedTargets, sleep, WatchRecorder } from './support.js';

/** Waits until the server acknowledged a watch create on `recorder`'s client, so that later writes reach the watcher. */
function watchCreated(recorder: WatchRecorder): Promise<void> {
  return eventually(() => recorder.responses.some((response) => response.created && !response.canceled), 5_000, 'the watch created');
}

/** What both servers put in the cancel reason of a watch that auth refuses (etcd's `rpc error` text of the gRPC error). */
const permissionDeniedCancelReason = 'rpc error: code = PermissionDenied desc = etcdserver: permission denied';

for (const target of selectedTargets()) {
  describe(`sdk over mutual TLS with auth against ${target.kind}`, function () {
    let files: TlsFiles | undefined;
    let server: ServerHandle | undefined;
    const clients: Client[] = [];

    const https = () => `https://${must(server, 'the server').endpoint}`;
    const tls = () => {
      const { caFile, clientCertFile, clientKeyFile } = must(files, 'the certificates');
      return { ca: caFile, cert: clientCertFile, key: clientKeyFile };
    };
    /** A client over mTLS, closed after the suite. */
    const client = async (options: Partial<ConnectOptions> = {}): Promise<Client> => {
      const connected = await connect({ endpoints: [https()], tls: tls(), ...options });
      clients.push(connected);
      return connected;
    };
    /** etcdctl's flags for the fixture's client certificate: it runs as root (its CN) once auth is on. */
    const certificateFlags = () => {
      const { caFile, clientCertFile, clientKeyFile } = must(files, 'the certificates');
      return ['--cacert', caFile, '--cert', clientCertFile, '--key', clientKeyFile];
    };
    const app = (options: Partial<ConnectOptions> = {}) => client({ auth: { username: 'app', password: 'app-secret' }, ...options });

    before(async function () {
      if (!target.available()) return this.skip();
      files = makeTlsFiles();
      server = await target.start({ tls: mutualTls(files) });
      await etcdctlEach(https(), confinedUserSetup, certificateFlags());
    });
    after(async () => {
      for (const connected of clients) connected.close();
      await server?.destroy();
      files?.remove();
    });

    it('the confined user puts, gets, commits txns and deletes inside its prefix', async () => {
      const confined = await app();
      const put = await confined.put('app/kv/a', 'one');
      expect((await confined.get('app/kv/a', { codec: codecs.string }))?.value).to.equal('one');
      const txn = await confined.txn()
        .if(compare.value('app/kv/a', '=', 'one'))
        .then([op.put('app/kv/b', 'two'), op.get({ prefix: 'app/kv/' })])
        .else([op.put('app/kv/b', 'wrong')])
        .commit();
      expect(txn.succeeded).to.equal(true);
      expect(txn.revision).to.equal(put.header.revision + 1n);
      const read = must(txn.responses[1], 'the get of the txn');
      expect(read.type === 'get' ? read.kvs.map((kv) => kv.value.toString()) : []).to.deep.equal(['one', 'two']);
      const deleted = await confined.delete({ prefix: 'app/kv/' });
      expect(deleted.deleted).to.equal(2);
      expect((await confined.getRange({ prefix: 'app/kv/' })).kvs).to.deep.equal([]);
    });

    it('the confined user watches inside its prefix and receives the events', async () => {
      const recorder = new WatchRecorder();
      const confined = await app({ interceptors: [recorder.interceptor] });
      const batches = firstValueFrom(confined.watch$({ prefix: 'app/w/' }, { codec: codecs.string }).pipe(
        filter((batch) => batch.events.length > 0), take(2), toArray()));
      await watchCreated(recorder);
      const first = await confined.put('app/w/a', 'x');
      await confined.delete('app/w/a');
      const [put, deleted] = await batches;
      expect(put?.revision).to.equal(first.header.revision);
      expect(put?.events.map((event) => [event.type, event.kv.key.toString(), event.kv.value])).to.deep.equal([['put', 'app/w/a', 'x']]);
      expect(deleted?.events.map((event) => [event.type, event.kv.key.toString()])).to.deep.equal([['delete', 'app/w/a']]);
    });

    it('the confined user keeps a lease alive with a key attached, and the key goes with the revoke', async () => {
      const confined = await app();
      const lease = await confined.leases.grant(2);
      await confined.put('app/lease/k', 'held', { lease: lease.id });
      const renewals: number[] = [];
      const keepAlive: Subscription = confined.leases.keepAlive$(lease.id).subscribe({ next: (answer) => renewals.push(answer.ttlSeconds) });
      try {
        await sleep(3_200);
        expect((await confined.get('app/lease/k'))?.lease).to.equal(lease.id);
        expect(renewals.length).to.be.greaterThan(1);
        expect(renewals.every((ttl) => ttl === 2)).to.equal(true);
        expect((await confined.leases.timeToLive(lease.id, { keys: true })).keys).to.deep.equal(['app/lease/k']);
      } finally {
        keepAlive.unsubscribe();
      }
      await confined.leases.revoke(lease.id);
      expect(await confined.get('app/lease/k')).to.equal(undefined);
    });

    it('the confined user runs Session, a contended Mutex and an Election inside its prefix', async () => {
      const confined = await app();
      const first = await Session.create(confined, { ttlSeconds: 10 });
      const second = await Session.create(confined, { ttlSeconds: 10 });
      try {
        const held = await new Mutex(first, 'app/lock').lock();
        let secondHolds = false;
        const waiting = new Mutex(second, 'app/lock').lock().then((lock) => {
          secondHolds = true;
          return lock;
        });
        await sleep(300);
        expect(secondHolds).to.equal(false);
        await held.unlock();
        const next = await waiting;
        expect(next.key).to.equal(`app/lock/${second.leaseHex}`);
        expect(next.fencingToken > held.fencingToken).to.equal(true);
        await next.unlock();

        const leaderStates = new Election(first, 'app/election').campaign('first').subscribe();
        await eventually(async () => (await Election.leader(confined, 'app/election').catch(() => undefined))?.value === 'first', 5_000, 'the first leader');
        const followerStates: string[] = [];
        const follower = new Election(second, 'app/election').campaign('second').subscribe((state) => followerStates.push(state.state));
        try {
          await sleep(300);
          expect(followerStates).to.deep.equal(['campaigning']);
          leaderStates.unsubscribe(); // resigns: deletes the leader's key, which the follower watches
          await eventually(() => followerStates.includes('elected'), 5_000, 'the follower elected');
          const elected = await Election.leader(confined, 'app/election');
          expect([elected.key, elected.value]).to.deep.equal([`app/election/${second.leaseHex}`, 'second']);
        } finally {
          leaderStates.unsubscribe();
          follower.unsubscribe();
        }
      } finally {
        await first.close();
        await second.close();
      }
    });

    it('refuses the confined user outside its prefix with PermissionDeniedError: put, get, and a txn with a branch outside', async () => {
      // The confined client presents the same certificate (CN root) as `root`: its token's user is the one checked.
      const confined = await app();
      const root = await client();
      await root.put('other/k', 'root wrote this');
      // A range is allowed only when the grants cover all of it: prefix "app" is [app, apq), wider than app/.
      for (const denied of [() => confined.put('other/k', 'v'), () => confined.get('other/k'), () => confined.getRange({ prefix: 'app' })]) {
        const error = await rejection(denied());
        expect(error).to.be.instanceOf(PermissionDeniedError);
        expect((error as PermissionDeniedError).code).to.equal(GrpcCode.PermissionDenied);
      }
      // The condition holds, so only the `then` branch would run; both branches are checked before anything is applied.
      const txn = confined.txn()
        .if(compare.version('app/txn', '=', 0n))
        .then([op.put('app/txn', 'inside')])
        .else([op.put('other/k', 'outside')]);
      expect(await rejection(txn.commit())).to.be.instanceOf(PermissionDeniedError);
      expect(await root.get('app/txn')).to.equal(undefined);
      expect((await root.get('other/k', { codec: codecs.string }))?.value).to.equal('root wrote this');
    });

    it('ends a watch outside the prefix with PermissionDeniedError at once, without retrying, and keeps the other watchers', async () => {
      const recorder = new WatchRecorder();
      const confined = await app({ interceptors: [recorder.interceptor] });
      const inside: string[] = [];
      const kept = confined.watch$({ prefix: 'app/kept/' }, { codec: codecs.string })
        .subscribe((batch) => inside.push(...batch.events.map((event) => event.kv.key.toString())));
      try {
        const outcome = new Promise<unknown>((resolve) => {
          confined.watch$({ prefix: 'other/' }).subscribe({ next: () => resolve('an event'), error: resolve, complete: () => resolve('completed') });
        });
        const error = await outcome;
        expect(error).to.be.instanceOf(PermissionDeniedError);
        expect((error as PermissionDeniedError).message).to.equal('etcdserver: permission denied');
        expect((error as PermissionDeniedError).code).to.equal(GrpcCode.PermissionDenied);
        expect((error as PermissionDeniedError).cause).to.be.instanceOf(WatchCanceledError);
        // What the server sent: the create acked and cancelled at once, with the gRPC error in the reason.
        const refusals = recorder.responses.filter((response) => response.canceled);
        expect(refusals.map((response) => [response.created, response.watchId, response.cancelReason]))
          .to.deep.equal([[true, -1n, permissionDeniedCancelReason]]);
        await sleep(500);
        expect(recorder.streamsOpened).to.equal(1);
        expect(confined.watcherCount).to.equal(1);
        await confined.put('app/kept/a', 'still watched');
        await eventually(() => inside.length === 1, 5_000, 'the event of the watcher that stayed');
        expect(inside).to.deep.equal(['app/kept/a']);
      } finally {
        kept.unsubscribe();
      }
    });

    it('runs as the certificate\'s common name (root) without username and password, everywhere', async () => {
      const recorder = new WatchRecorder();
      const root = await client({ interceptors: [recorder.interceptor] });
      const event = firstValueFrom(root.watch$({ prefix: 'other/cn/' }).pipe(filter((batch) => batch.events.length > 0)));
      await watchCreated(recorder);
      // Outside app/: only root may write here, so this proves the certificate named the user, not merely that it was valid.
      const put = await root.put('other/cn/k', 'by certificate');
      expect((await root.get('other/cn/k', { codec: codecs.string }))?.value).to.equal('by certificate');
      expect((await event).revision).to.equal(put.header.revision);
    });

    // Last: it turns auth off and on again, which makes every token unknown to the server.
    it('re-creates the watches on a new stream with a fresh token when the server forgot the stream\'s token', async () => {
      const recorder = new WatchRecorder();
      const confined = await app({ interceptors: [recorder.interceptor] });
      const keys: string[] = [];
      const record = (batch: WatchBatch) => keys.push(...batch.events.map((event) => event.kv.key.toString()));
      const subscriptions = [confined.watch$({ prefix: 'app/t/' }).subscribe(record)];
      try {
        await watchCreated(recorder);
        await etcdctlEach(https(), [['auth', 'disable'], ['auth', 'enable']], certificateFlags());
        subscriptions.push(confined.watch$({ prefix: 'app/u/' }).subscribe({ next: record, error: (error) => keys.push(`error ${String(error)}`) }));
        const acks = () => recorder.responses.filter((response) => response.created);
        await eventually(() => acks().length === 4, 10_000, 'the watches created again');
        expect(acks().map((response) => response.canceled ? response.cancelReason : 'created')).to.deep.equal([
          'created', 'rpc error: code = Unauthenticated desc = etcdserver: invalid auth token', 'created', 'created']);
        expect(recorder.streamsOpened).to.equal(2);
        await confined.put('app/t/a', '1');
        await confined.put('app/u/a', '2');
        await eventually(() => keys.length === 2, 5_000, 'both events');
        expect(keys).to.deep.equal(['app/t/a', 'app/u/a']);
      } finally {
        for (const subscription of subscriptions) subscription.unsubscribe();
      }
    });
  });
}
