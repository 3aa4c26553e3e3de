import { expect } from 'chai';
import bcrypt from 'bcryptjs';
import { InternalRequest, type RequestAuth } from '../../proto/gen/cairnpb/internal.js';
import { Permission_Type } from '../../proto/gen/authpb/auth.js';
import { keptTokens, type KeptTokens } from '../testing/auth.js';
import { openTempStore, type TempStore } from '../testing/temp-store.js';
import {
  AuthFailedError, AuthNotEnabledError, AuthOldRevisionError, InvalidAuthManagementError, NoPasswordUserError, PermissionDeniedError,
  PermissionNotGrantedError, RoleAlreadyExistsError, RoleEmptyError, RoleNotFoundError, RoleNotGrantedError, RootRoleNotExistError, RootUserNotExistError,
  UserAlreadyExistsError, UserEmptyError, UserNotFoundError,
} from './errors.js';
import { AuthStore } from './store.js';

describe('AuthStore', () => {
  let temp: TempStore;
  let tokens: KeptTokens;
  let store: AuthStore;
  let index = 0;
  const root: RequestAuth = { username: 'root', authRevision: 0n };

  /** Applies `request` as `auth` inside a backend transaction, as the applier does. */
  const apply = (request: Partial<InternalRequest>, auth?: RequestAuth): string | undefined =>
    temp.backend.transaction(() => store.apply(InternalRequest.fromPartial(request), auth, ++index));
  const as = (username: string): RequestAuth => ({ username, authRevision: store.revision });
  const hash = bcrypt.hashSync('secret', 4);

  /** root (with the root role) and alice (role app: readwrite on the prefix app/), auth enabled. */
  const enableWithAlice = (): void => {
    apply({ authUserAdd: { name: 'root', password: '', hashedPassword: hash, options: { noPassword: false } } });
    apply({ authUserGrantRole: { user: 'root', role: 'root' } });
    apply({ authRoleAdd: { name: 'app' } });
    apply({ authRoleGrantPermission: { name: 'app', perm: { permType: Permission_Type.READWRITE, key: Buffer.from('app/'), rangeEnd: Buffer.from('app0') } } });
    apply({ authUserAdd: { name: 'alice', password: '', hashedPassword: hash, options: { noPassword: false } } });
    apply({ authUserGrantRole: { user: 'alice', role: 'app' } });
    apply({ authEnable: {} });
  };

  beforeEach(() => {
    temp = openTempStore();
    tokens = keptTokens();
    store = new AuthStore(temp.backend, tokens);
  });
  afterEach(async () => {
    await temp.remove();
  });

  it('starts disabled at revision 1, and enabling needs a root user with the root role', () => {
    expect([store.enabled, store.revision]).to.deep.equal([false, 1n]);
    expect(() => apply({ authEnable: {} })).to.throw(RootUserNotExistError);
    apply({ authUserAdd: { name: 'root', password: '', hashedPassword: hash, options: { noPassword: false } } });
    expect(() => apply({ authEnable: {} })).to.throw(RootRoleNotExistError);
    apply({ authUserGrantRole: { user: 'root', role: 'root' } });
    const revision = store.revision;
    apply({ authEnable: {} });
    expect([store.enabled, store.revision]).to.deep.equal([true, revision]);
  });

  it('raises the revision on every change, and keeps it across a restart', async () => {
    enableWithAlice();
    expect(store.revision).to.equal(7n);
    await temp.restart();
    const reopened = new AuthStore(temp.backend, keptTokens());
    expect([reopened.enabled, reopened.revision, reopened.userNames(), reopened.roleNames()]).to.deep.equal([true, 7n, ['alice', 'root'], ['app']]);
    expect(reopened.userRoles('alice')).to.deep.equal(['app']);
  });

  it('answers etcd\'s errors for users and roles', () => {
    enableWithAlice();
    const asRoot = as('root');
    expect(() => apply({ authUserAdd: { name: '', password: '', hashedPassword: hash, options: undefined } }, asRoot)).to.throw(UserEmptyError);
    expect(() => apply({ authUserAdd: { name: 'alice', password: '', hashedPassword: hash, options: undefined } }, asRoot)).to.throw(UserAlreadyExistsError);
    expect(() => apply({ authUserDelete: { name: 'bob' } }, asRoot)).to.throw(UserNotFoundError);
    expect(() => apply({ authUserDelete: { name: 'root' } }, asRoot)).to.throw(InvalidAuthManagementError);
    expect(() => apply({ authUserRevokeRole: { name: 'root', role: 'root' } }, asRoot)).to.throw(InvalidAuthManagementError);
    expect(() => apply({ authRoleDelete: { role: 'root' } }, asRoot)).to.throw(InvalidAuthManagementError);
    expect(() => apply({ authUserGrantRole: { user: 'alice', role: 'nope' } }, asRoot)).to.throw(RoleNotFoundError);
    expect(() => apply({ authUserRevokeRole: { name: 'alice', role: 'other' } }, asRoot)).to.throw(RoleNotGrantedError);
    expect(() => apply({ authRoleAdd: { name: 'app' } }, asRoot)).to.throw(RoleAlreadyExistsError);
    expect(() => apply({ authRoleAdd: { name: '' } }, asRoot)).to.throw(RoleEmptyError);
    expect(() => apply({ authRoleRevokePermission: { role: 'app', key: Buffer.from('x'), rangeEnd: Buffer.alloc(0) } }, asRoot)).to.throw(PermissionNotGrantedError);
  });

  it('lets only root change the store while enabled; without credentials the user name is empty', () => {
    enableWithAlice();
    expect(() => apply({ authRoleAdd: { name: 'x' } }, as('alice'))).to.throw(PermissionDeniedError);
    expect(() => apply({ authRoleAdd: { name: 'x' } }, { username: '', authRevision: 0n })).to.throw(UserEmptyError);
    expect(() => apply({ authRoleAdd: { name: 'x' } }, as('ghost'))).to.throw(UserNotFoundError);
    apply({ authRoleAdd: { name: 'x' } }, as('root'));
    expect(store.roleNames()).to.deep.equal(['app', 'x']);
  });

  it('checks keys against the user\'s roles, and refuses a request checked against an older store', () => {
    enableWithAlice();
    const alice = as('alice');
    store.checkRead(alice, Buffer.from('app/1'));
    store.checkWrite(alice, Buffer.from('app/'), Buffer.from('app0'));
    expect(() => store.checkRead(alice, Buffer.from('other'))).to.throw(PermissionDeniedError);
    expect(() => store.checkRead(alice, Buffer.from('app/'), Buffer.from([0]))).to.throw(PermissionDeniedError);
    store.checkWrite(as('root'), Buffer.from('anything'));
    expect(() => store.checkRead({ username: '', authRevision: 0n }, Buffer.from('app/1'))).to.throw(UserEmptyError);
    apply({ authRoleRevokePermission: { role: 'app', key: Buffer.from('app/'), rangeEnd: Buffer.from('app0') } }, root);
    expect(() => store.checkRead(alice, Buffer.from('app/1'))).to.throw(AuthOldRevisionError);
    expect(() => store.checkRead(as('alice'), Buffer.from('app/1'))).to.throw(PermissionDeniedError);
  });

  it('grants a permission again by replacing its type, and deleting a role takes it from its users', () => {
    enableWithAlice();
    apply({ authRoleGrantPermission: { name: 'app', perm: { permType: Permission_Type.READ, key: Buffer.from('app/'), rangeEnd: Buffer.from('app0') } } }, root);
    expect(store.rolePermissions('app').map((permission) => permission.permType)).to.deep.equal([Permission_Type.READ]);
    expect(() => store.checkWrite(as('alice'), Buffer.from('app/1'))).to.throw(PermissionDeniedError);
    apply({ authRoleDelete: { role: 'app' } }, root);
    expect(store.userRoles('alice')).to.deep.equal([]);
  });

  it('checks passwords with bcrypt and assigns tokens when Authenticate is applied', async () => {
    expect(await store.checkPassword('alice', 'secret').catch((error: Error) => error)).to.be.instanceOf(AuthNotEnabledError);
    enableWithAlice();
    expect(await store.checkPassword('alice', 'secret')).to.equal(store.revision);
    expect(await store.checkPassword('alice', 'wrong').catch((error: Error) => error)).to.be.instanceOf(AuthFailedError);
    expect(await store.checkPassword('bob', 'secret').catch((error: Error) => error)).to.be.instanceOf(AuthFailedError);
    apply({ authUserAdd: { name: 'svc', password: '', hashedPassword: '', options: { noPassword: true } } }, root);
    expect(await store.checkPassword('svc', '').catch((error: Error) => error)).to.be.instanceOf(NoPasswordUserError);
    const token = apply({ authenticate: { name: 'alice', simpleToken: 'abcdefghijklmnop' } });
    expect(token).to.equal(`abcdefghijklmnop.${index}`);
    expect(tokens.tokens.get(token ?? '')).to.equal('alice');
    apply({ authUserChangePassword: { name: 'alice', password: '', hashedPassword: hash } }, root);
    expect(tokens.tokens.size).to.equal(0);
    expect(() => apply({ authenticate: { name: 'svc', simpleToken: 'abcdefghijklmnop' } })).to.throw(AuthFailedError);
  });

  it('disabling forgets every token', () => {
    enableWithAlice();
    apply({ authenticate: { name: 'alice', simpleToken: 'abcdefghijklmnop' } });
    apply({ authDisable: {} }, root);
    expect([store.enabled, tokens.tokens.size]).to.deep.equal([false, 0]);
    expect(() => apply({ authenticate: { name: 'alice', simpleToken: 'abcdefghijklmnop' } })).to.throw(AuthNotEnabledError);
  });
});
