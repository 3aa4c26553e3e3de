// Token auth through the SDK against cairn and real etcd: token obtained at
// connect, attached as `token` metadata, refreshed when the server no longer
// knows it; and the recipes, unchanged, as a user confined to a prefix.
import { expect } from 'chai';
import { InterceptingCall, type Interceptor } from '@grpc/grpc-js';
import type { Subscription } from 'rxjs';
import { AuthFailedError, connect, PermissionDeniedError, UserEmptyError, type Client } from '../../client/index.js';
import { Election, Mutex, Session } from '../../recipes/index.js';
import { etcdctl, etcdctlEach } from '../harness/etcdctl.js';
import type { ServerHandle } from '../harness/launcher.js';
import { confinedUserSetup, rejection, selectedTargets } from './support.js';

for (const target of selectedTargets()) {
  describe(`sdk auth against ${target.kind}`, function () {
    let server: ServerHandle;
    let client: Client | undefined;
    const rootFlags = ['--user=root:secret'];

    before(async function () {
      if (!target.available()) return this.skip();
      server = await target.start();
      await etcdctlEach(server.endpoint, confinedUserSetup);
    });
    after(async () => {
      client?.close();
      await server?.destroy();
    });

    it('authenticates, and re-authenticates when the token is no longer valid', async () => {
      let authentications = 0;
      const counter: Interceptor = (options, nextCall) => {
        if (options.method_definition.path === '/etcdserverpb.Auth/Authenticate') authentications++;
        return new InterceptingCall(nextCall(options));
      };
      client = await connect({ endpoints: [server.endpoint], auth: { username: 'root', password: 'secret' }, interceptors: [counter] });
      await client.put('auth/k', 'v');
      // Disabling auth drops every simple token; after re-enabling, the old token is invalid.
      expect((await etcdctl(server.endpoint, [...rootFlags, 'auth', 'disable'])).code).to.equal(0);
      expect((await etcdctl(server.endpoint, ['auth', 'enable'])).code).to.equal(0);
      await client.put('auth/k', 'v2');
      expect((await client.get('auth/k'))?.value.toString()).to.equal('v2');
      expect(authentications).to.equal(2);
    });

    it('rejects bad credentials with AuthFailedError', async () => {
      const error = await rejection(connect({ endpoints: [server.endpoint], auth: { username: 'root', password: 'wrong' } }));
      expect(error).to.be.instanceOf(AuthFailedError);
    });

    it('runs the recipes unchanged as a user confined to a prefix, and refuses it elsewhere', async () => {
      const confined = await connect({ endpoints: [server.endpoint], auth: { username: 'app', password: 'app-secret' } });
      try {
        const session = await Session.create(confined, { ttlSeconds: 10 });
        const mutex = new Mutex(session, 'app/lock');
        const held = await mutex.lock();
        expect(held.key.startsWith('app/lock/')).to.equal(true);
        await mutex.unlock();
        const election = new Election(session, 'app/election');
        // The candidacy stays subscribed while the leader is read: unsubscribing resigns.
        let candidacy: Subscription | undefined;
        await new Promise<void>((resolve, reject) => {
          candidacy = election.campaign('me').subscribe({ next: (state) => state.state === 'elected' && resolve(), error: reject });
        });
        expect((await Election.leader(confined, 'app/election')).value).to.equal('me');
        candidacy?.unsubscribe();
        await election.resign();
        expect(await rejection(new Mutex(session, 'other/lock').lock())).to.be.instanceOf(PermissionDeniedError);
        expect(await rejection(confined.put('other/k', 'v'))).to.be.instanceOf(PermissionDeniedError);
        await session.close();
      } finally {
        confined.close();
      }
    });

    it('reports a call without credentials as UserEmptyError', async () => {
      const anonymous = await connect({ endpoints: [server.endpoint] });
      try {
        expect(await rejection(anonymous.get('auth/k'))).to.be.instanceOf(UserEmptyError);
      } finally {
        anonymous.close();
      }
    });
  });
}
