// The npm `etcd3` client with auth against etcd and cairn: users, roles and
// permissions set up through the package's own API (client.user(...),
// client.role(...), client.auth.authEnable()), then clients made with
// `auth: {username, password}` reading and writing inside and outside what
// their role grants. What every call resolves with, and the error class and
// message the package throws, must be the same on both servers.
//
// The scenarios build on each other (auth stays enabled once the second
// one has run), so they run in order in one describe block of their own.
import { expect } from 'chai';
import {
  EtcdAuthenticationFailedError,
  EtcdPermissionDeniedError,
  EtcdRoleExistsError,
  EtcdRoleNotFoundError,
  EtcdRoleNotGrantedError,
  EtcdUserExistsError,
  EtcdUserNotFoundError,
} from 'etcd3';
import { etcd3Pair, nextEvent } from './etcd3-pair.js';

const root = { username: 'root', password: 'root-secret' };
const alice = { username: 'alice', password: 'alice-secret' };

describe('interop: etcd3 npm — auth', function () {
  const pairs = etcd3Pair();

  it('users and roles through the package: create, grant, list, permissions, and the error classes of each refusal', async () => {
    const etcd = await pairs.same('users and roles', async ({ client, n }) => {
      const enableWithoutRoot = await n.outcome(client.auth.authEnable());
      await client.user(root.username).create(root.password);
      await client.user(root.username).addRole('root');
      const app = await client.role('app').create();
      await app.grant({ permission: 'Readwrite', range: client.range({ prefix: 'app/' }) });
      await app.grant({ permission: 'Read', key: 'shared/config' });
      await app.grant({ permission: 'Write', range: client.range({ start: 'drop/a', end: 'drop/m' }) });
      await client.role('temporary').create();
      await client.role('temporary').grant({ permission: 'Read', key: 'x' });
      await client.role('temporary').revoke({ permission: 'Read', key: 'x' });
      await client.user(alice.username).create(alice.password);
      await client.user(alice.username).addRole('app');
      await client.role('temporary').addUser(alice.username);
      await client.role('temporary').removeUser(alice.username);
      return {
        enableWithoutRoot,
        users: (await client.getUsers()).map((user) => user.name),
        roles: (await client.getRoles()).map((role) => role.name),
        permissions: n.of(await app.permissions()),
        revoked: n.of(await client.role('temporary').permissions()),
        aliceRoles: (await client.user(alice.username).roles()).map((role) => role.name),
        errors: {
          userExists: await n.outcome(client.user(alice.username).create('again')),
          roleExists: await n.outcome(client.role('app').create()),
          roleNotFound: await n.outcome(client.user(alice.username).addRole('no-such-role')),
          userNotFound: await n.outcome(client.user('nobody').addRole('app')),
          roleNotGranted: await n.outcome(client.user(alice.username).removeRole('temporary')),
          deleteMissingRole: await n.outcome(client.role('no-such-role').delete()),
          deleteMissingUser: await n.outcome(client.user('nobody').delete()),
          emptyUserName: await n.outcome(client.user('').create('x')),
        },
      };
    });
    expect(etcd.users).to.deep.equal(['alice', 'root']);
    expect(etcd.aliceRoles).to.deep.equal(['app']);
    expect(etcd.errors).to.deep.include({
      userExists: { error: { class: EtcdUserExistsError.name, message: '9 FAILED_PRECONDITION: etcdserver: user name already exists' } },
      roleExists: { error: { class: EtcdRoleExistsError.name, message: '9 FAILED_PRECONDITION: etcdserver: role name already exists' } },
      roleNotFound: { error: { class: EtcdRoleNotFoundError.name, message: '9 FAILED_PRECONDITION: etcdserver: role name not found' } },
      userNotFound: { error: { class: EtcdUserNotFoundError.name, message: '9 FAILED_PRECONDITION: etcdserver: user name not found' } },
      roleNotGranted: { error: { class: EtcdRoleNotGrantedError.name, message: '9 FAILED_PRECONDITION: etcdserver: role is not granted to the user' } },
    });
  });

  it('auth enabled: a user reads and writes inside its role\'s ranges only; a client without credentials is refused', async () => {
    const etcd = await pairs.same('permissions', async ({ client, newClient, n }) => {
      const enabled = n.of(await client.auth.authEnable());
      const anonymous = await n.outcome(newClient().get('app/x').string());
      const user = newClient({ auth: alice });
      const results = {
        enabled,
        anonymous,
        putInside: await n.outcome(user.put('app/x').value('1')),
        getInside: await n.outcome(user.get('app/x').string()),
        prefixInside: await n.outcome(user.getAll().prefix('app/').keys()),
        putOutside: await n.outcome(user.put('other/x').value('1')),
        getOutside: await n.outcome(user.get('other/x').string()),
        readOnlyGet: await n.outcome(user.get('shared/config').string()),
        readOnlyPut: await n.outcome(user.put('shared/config').value('1')),
        writeOnlyPut: await n.outcome(user.put('drop/b').value('1')),
        writeOnlyGet: await n.outcome(user.get('drop/b').string()),
        writeOnlyDeleteRange: await n.outcome(user.delete().inRange({ start: 'drop/a', end: 'drop/m' })),
        all: await n.outcome(user.getAll().all().keys()),
        // A range that only starts inside the granted prefix.
        wider: await n.outcome(user.getAll().inRange({ start: 'app/', end: 'b' }).keys()),
        txnInside: await n.outcome(user.if('app/x', 'Value', '==', '1').then(user.put('app/y').value('2')).commit()),
        txnCompareOutside: await n.outcome(user.if('other/x', 'Version', '==', 0).then(user.put('app/z').value('3')).commit()),
        txnElseOutside: await n.outcome(user.if('app/x', 'Value', '==', '1').then(user.put('app/z').value('3')).else(user.put('other/x').value('4')).commit()),
        deleteInside: await n.outcome(user.delete().prefix('app/')),
        userManagement: await n.outcome(user.getUsers()),
        enableAgainAsUser: await n.outcome(user.auth.authEnable()),
      };
      return results;
    });
    expect(etcd.putInside).to.have.property('ok');
    expect(etcd.putOutside).to.deep.equal({ error: { class: EtcdPermissionDeniedError.name, message: '7 PERMISSION_DENIED: etcdserver: permission denied' } });
    expect(etcd.readOnlyGet).to.deep.equal({ ok: null });
    expect(etcd.writeOnlyPut).to.have.property('ok');
  });

  it('wrong passwords and unknown users: EtcdAuthenticationFailedError; watch and lease as a user; a changed password', async () => {
    const etcd = await pairs.same('authentication', async ({ client: admin, newClient, n }) => {
      const user = newClient({ auth: alice });
      const wrongPassword = await n.outcome(newClient({ auth: { ...alice, password: 'wrong' } }).get('app/x').string());
      const unknownUser = await n.outcome(newClient({ auth: { username: 'mallory', password: 'x' } }).get('app/x').string());

      // A client of its own: after a refused watch create, the package's watch queue waits for a
      // created response that never comes, and no later watcher of that client connects (on etcd too).
      const denied = newClient({ auth: alice }).watch().prefix('other/').watcher();
      const deniedError = nextEvent<[Error]>(denied, 'error');
      const watchOutside = n.error((await deniedError)[0]);
      const allowed = await user.watch().prefix('app/').create();
      const seen = nextEvent<[{ key: Buffer; value: Buffer }]>(allowed, 'put');
      await admin.put('app/watched').value('v');
      const [kv] = await seen;
      await allowed.cancel();

      const lease = user.lease(30, { autoKeepAlive: false });
      n.lease(await lease.grant());
      const leasePutInside = await n.outcome(lease.put('app/leased').value('1'));
      const leasePutOutside = await n.outcome(lease.put('other/leased').value('1'));
      await lease.revoke();

      await admin.user(alice.username).setPassword('changed');
      const oldPassword = await n.outcome(newClient({ auth: alice }).get('app/x').string());
      const newPassword = await n.outcome(newClient({ auth: { ...alice, password: 'changed' } }).get('app/watched').string());
      const disabled = n.of(await admin.auth.authDisable());
      const anonymousAfter = await n.outcome(newClient().get('app/watched').string());
      return {
        wrongPassword, unknownUser, watchOutside, watched: `${kv.key.toString()}=${kv.value.toString()}`,
        leasePutInside, leasePutOutside, oldPassword, newPassword, disabled, anonymousAfter,
      };
    }, { auth: root });
    const failed = { error: { class: EtcdAuthenticationFailedError.name, message: '3 INVALID_ARGUMENT: etcdserver: authentication failed, invalid user ID or password' } };
    expect(etcd).to.deep.include({ wrongPassword: failed, unknownUser: failed, oldPassword: failed, newPassword: { ok: 'v' }, anonymousAfter: { ok: 'v' } });
    expect(etcd.watchOutside).to.deep.equal({ error: { class: EtcdPermissionDeniedError.name, message: 'Watcher canceled: rpc error: code = PermissionDenied desc = etcdserver: permission denied' } });
  });
});
