// Token auth through the SDK against real etcd: token obtained at connect,
// attached as `token` metadata, refreshed when the server no longer knows it.
// cairn does not implement the Auth service yet, so this runs against etcd only.
import { expect } from 'chai';
import { InterceptingCall, type Interceptor } from '@grpc/grpc-js';
import { AuthFailedError, connect, UserEmptyError, type Client } from '../../client/index.js';
import { etcdctl } from '../harness/etcdctl.js';
import type { ServerHandle } from '../harness/launcher.js';
import { rejection, selectedTargets } from './support.js';

for (const target of selectedTargets().filter((candidate) => candidate.kind === 'etcd')) {
  describe(`sdk auth against ${target.kind}`, function () {
    let server: ServerHandle;
    let client: Client | undefined;
    const rootFlags = ['--user=root:secret'];

    before(async function () {
      if (!target.available()) return this.skip();
      server = await target.start();
      for (const args of [['user', 'add', 'root', '--new-user-password=secret'], ['user', 'grant-role', 'root', 'root'], ['auth', 'enable']]) {
        const result = await etcdctl(server.endpoint, args);
        if (result.code !== 0) throw new Error(`etcdctl ${args.join(' ')}: ${result.stderr}`);
      }
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
