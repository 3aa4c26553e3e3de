// The auth store, as etcd's (auth/store.go): users with bcrypt-hashed
// passwords and roles, roles with key permissions, a flag saying whether
// auth is enabled, and the auth revision, which every change raises. It
// changes only by applying requests committed through the log, and lives in
// the backend (meta "auth") in the same transaction as the log index that
// changed it, so every member holds the same store and snapshots carry it.
//
// Applying reads no clock and hashes nothing: passwords arrive hashed by the
// member that took the request (api/auth.ts), and tokens are kept by a
// member-local TokenIssuer (tokens.ts).
import bcrypt from 'bcryptjs';
import type { InternalRequest, RequestAuth } from '../../proto/gen/cairnpb/internal.js';
import { StoredAuth } from '../../proto/gen/cairnpb/internal.js';
import type { Permission, Role, User } from '../../proto/gen/authpb/auth.js';
import { encodeMessage } from '../codec.js';
import type { Backend } from '../mvcc/backend.js';
import {
  AuthFailedError,
  AuthNotEnabledError,
  AuthOldRevisionError,
  InvalidAuthManagementError,
  NoPasswordUserError,
  PermissionDeniedError,
  PermissionNotGrantedError,
  RoleAlreadyExistsError,
  RoleEmptyError,
  RoleNotFoundError,
  RoleNotGrantedError,
  RootRoleNotExistError,
  RootUserNotExistError,
  UserAlreadyExistsError,
  UserEmptyError,
  UserNotFoundError,
} from './errors.js';
import { KeyPermissions } from './permissions.js';

/** The backend meta record that holds the auth store (a StoredAuth). */
export const metaAuth = 'auth';
export const rootUser = 'root';
export const rootRole = 'root';

/** The member-local keeper of tokens the store hands out (tokens.ts). */
export interface TokenIssuer {
  /** A token for `username`, made from the prefix the proposer drew and the entry's index. */
  assign(username: string, prefix: string, index: number, revision: bigint): string;
  /** Forgets every token of `username` (deleted, or its password changed). */
  invalidateUser(username: string): void;
  /** Forgets every token (auth disabled). */
  clear(): void;
}

/** The auth requests the log carries, each answered with an empty response or a token. */
export const authRequestKinds = [
  'authEnable', 'authDisable', 'authenticate', 'authUserAdd', 'authUserDelete', 'authUserChangePassword', 'authUserGrantRole',
  'authUserRevokeRole', 'authRoleAdd', 'authRoleDelete', 'authRoleGrantPermission', 'authRoleRevokePermission',
] as const satisfies ReadonlyArray<keyof InternalRequest>;

/** Which of them only a user with the root role may ask (all but Authenticate, as etcd's needAdminPermission). */
const adminKinds: ReadonlySet<string> = new Set(authRequestKinds.filter((kind) => kind !== 'authenticate'));

export function isAuthRequest(request: InternalRequest): boolean {
  return authRequestKinds.some((kind) => request[kind] !== undefined);
}

export class AuthStore {
  private enabledFlag = false;
  private revisionValue = 1n;
  /** By name; each user's roles sorted. */
  private users = new Map<string, User>();
  /** By name; each role's permissions sorted by key. */
  private roles = new Map<string, Role>();
  /** Each user's permissions merged from its roles; rebuilt on every change. */
  private permissions = new Map<string, KeyPermissions>();

  constructor(private readonly backend: Backend, private readonly tokens: TokenIssuer) {
    this.reload();
  }

  /** Reads the store the backend holds (after a restart or a snapshot). A new store has revision 1, as etcd's. */
  reload(): void {
    const stored = this.backend.getMeta(metaAuth);
    const decoded = stored === undefined ? undefined : StoredAuth.decode(stored);
    this.enabledFlag = decoded?.enabled ?? false;
    this.revisionValue = decoded?.revision ?? 1n;
    this.users = new Map((decoded?.users ?? []).map((user) => [Buffer.from(user.name).toString(), user]));
    this.roles = new Map((decoded?.roles ?? []).map((role) => [Buffer.from(role.name).toString(), role]));
    this.rebuildPermissions();
    if (!this.enabledFlag) this.tokens.clear();
  }

  get enabled(): boolean {
    return this.enabledFlag;
  }

  get revision(): bigint {
    return this.revisionValue;
  }

  /**
   * Applies an auth request committed at log index `index`, as `auth` (absent:
   * the member itself). Must run inside a backend transaction. Returns the
   * token for Authenticate, nothing for the others. Throws the typed errors.
   */
  apply(request: InternalRequest, auth: RequestAuth | undefined, index: number): string | undefined {
    if (adminKinds.has(authRequestKinds.find((kind) => request[kind] !== undefined) ?? '')) this.checkAdmin(auth);
    if (request.authEnable !== undefined) return this.enable();
    if (request.authDisable !== undefined) return this.change(() => {
      this.enabledFlag = false;
      this.tokens.clear();
    });
    if (request.authenticate !== undefined) return this.authenticate(request.authenticate.name, request.authenticate.simpleToken, index);
    if (request.authUserAdd !== undefined) return this.userAdd(request.authUserAdd.name, request.authUserAdd.hashedPassword, request.authUserAdd.options?.noPassword === true);
    if (request.authUserDelete !== undefined) return this.userDelete(request.authUserDelete.name);
    if (request.authUserChangePassword !== undefined) return this.userChangePassword(request.authUserChangePassword.name, request.authUserChangePassword.hashedPassword);
    if (request.authUserGrantRole !== undefined) return this.userGrantRole(request.authUserGrantRole.user, request.authUserGrantRole.role);
    if (request.authUserRevokeRole !== undefined) return this.userRevokeRole(request.authUserRevokeRole.name, request.authUserRevokeRole.role);
    if (request.authRoleAdd !== undefined) return this.roleAdd(request.authRoleAdd.name);
    if (request.authRoleDelete !== undefined) return this.roleDelete(request.authRoleDelete.role);
    if (request.authRoleGrantPermission !== undefined) return this.roleGrantPermission(request.authRoleGrantPermission.name, request.authRoleGrantPermission.perm);
    if (request.authRoleRevokePermission !== undefined) {
      const { role, key, rangeEnd } = request.authRoleRevokePermission;
      return this.roleRevokePermission(role, key, rangeEnd);
    }
    throw new Error('auth store: not an auth request');
  }

  // ---- checks (etcd's isOpPermitted and IsAdminPermitted) ----

  /** Throws unless `auth` may read the key, or every key of [key, rangeEnd). */
  checkRead(auth: RequestAuth | undefined, key: Uint8Array, rangeEnd?: Uint8Array): void {
    const permissions = this.permitted(auth);
    if (permissions !== undefined && !permissions.canRead(key, rangeEnd)) throw new PermissionDeniedError();
  }

  /** Throws unless `auth` may write the key, or every key of [key, rangeEnd). */
  checkWrite(auth: RequestAuth | undefined, key: Uint8Array, rangeEnd?: Uint8Array): void {
    const permissions = this.permitted(auth);
    if (permissions !== undefined && !permissions.canWrite(key, rangeEnd)) throw new PermissionDeniedError();
  }

  /** Throws unless auth is off, `auth` is the member itself, or its user has the root role. Not bound to a revision, as etcd's. */
  checkAdmin(auth: RequestAuth | undefined): void {
    if (!this.enabledFlag || auth === undefined) return;
    if (auth.username === '') throw new UserEmptyError();
    const user = this.users.get(auth.username);
    if (user === undefined) throw new UserNotFoundError();
    if (!hasRole(user, rootRole)) throw new PermissionDeniedError();
  }

  /** Whether `username` exists and has `role`. */
  hasRole(username: string, role: string): boolean {
    const user = this.users.get(username);
    return user !== undefined && hasRole(user, role);
  }

  /**
   * The permissions to check `auth` against, or undefined when everything is
   * allowed (auth off, the member itself, a root user). Throws when the
   * request carries no user, or was checked against an older store.
   */
  private permitted(auth: RequestAuth | undefined): KeyPermissions | undefined {
    if (!this.enabledFlag || auth === undefined) return undefined;
    if (auth.authRevision === 0n) throw new UserEmptyError();
    if (auth.authRevision < this.revisionValue) throw new AuthOldRevisionError();
    const user = this.users.get(auth.username);
    if (user === undefined) throw new PermissionDeniedError();
    if (hasRole(user, rootRole)) return undefined;
    return this.permissions.get(auth.username) ?? KeyPermissions.merge([]);
  }

  // ---- reads (served by the API after a read barrier) ----

  /** Checks a password, slowly (bcrypt); resolves with the store's revision at the check. */
  async checkPassword(name: string, password: string): Promise<bigint> {
    if (!this.enabledFlag) throw new AuthNotEnabledError();
    const user = this.users.get(name);
    if (user === undefined) throw new AuthFailedError();
    if (user.options?.noPassword === true) throw new NoPasswordUserError();
    const revision = this.revisionValue;
    if (!(await bcrypt.compare(password, Buffer.from(user.password).toString()))) throw new AuthFailedError();
    return revision;
  }

  userRoles(name: string): string[] {
    const user = this.users.get(name);
    if (user === undefined) throw new UserNotFoundError();
    return [...user.roles];
  }

  userNames(): string[] {
    return [...this.users.keys()].sort(compareNames);
  }

  rolePermissions(name: string): Permission[] {
    const role = this.roles.get(name);
    if (role === undefined) throw new RoleNotFoundError();
    return role.keyPermission.map((permission) => ({ ...permission }));
  }

  roleNames(): string[] {
    return [...this.roles.keys()].sort(compareNames);
  }

  // ---- changes ----

  private enable(): undefined {
    if (this.enabledFlag) return undefined;
    const root = this.users.get(rootUser);
    if (root === undefined) throw new RootUserNotExistError();
    if (!hasRole(root, rootRole)) throw new RootRoleNotExistError();
    // As etcd, enabling keeps the revision: tokens checked before stay good.
    this.enabledFlag = true;
    this.save();
    return undefined;
  }

  private authenticate(name: string, prefix: string, index: number): string {
    if (!this.enabledFlag) throw new AuthNotEnabledError();
    const user = this.users.get(name);
    if (user === undefined || user.options?.noPassword === true) throw new AuthFailedError();
    return this.tokens.assign(name, prefix, index, this.revisionValue);
  }

  private userAdd(name: string, hashedPassword: string, noPassword: boolean): undefined {
    if (name === '') throw new UserEmptyError();
    if (this.users.has(name)) throw new UserAlreadyExistsError();
    return this.change(() => {
      this.users.set(name, { name: Buffer.from(name), password: noPassword ? Buffer.alloc(0) : Buffer.from(hashedPassword), roles: [], options: { noPassword } });
    });
  }

  private userDelete(name: string): undefined {
    if (this.enabledFlag && name === rootUser) throw new InvalidAuthManagementError();
    if (!this.users.has(name)) throw new UserNotFoundError();
    return this.change(() => {
      this.users.delete(name);
      this.tokens.invalidateUser(name);
    });
  }

  private userChangePassword(name: string, hashedPassword: string): undefined {
    const user = this.users.get(name);
    if (user === undefined) throw new UserNotFoundError();
    return this.change(() => {
      user.password = Buffer.from(hashedPassword);
      this.tokens.invalidateUser(name);
    });
  }

  private userGrantRole(name: string, role: string): undefined {
    const user = this.users.get(name);
    if (user === undefined) throw new UserNotFoundError();
    // The root role need not exist to be granted (etcd).
    if (role !== rootRole && !this.roles.has(role)) throw new RoleNotFoundError();
    if (hasRole(user, role)) return undefined;
    return this.change(() => {
      user.roles = [...user.roles, role].sort(compareNames);
    });
  }

  private userRevokeRole(name: string, role: string): undefined {
    if (this.enabledFlag && name === rootUser && role === rootRole) throw new InvalidAuthManagementError();
    const user = this.users.get(name);
    if (user === undefined) throw new UserNotFoundError();
    if (!hasRole(user, role)) throw new RoleNotGrantedError();
    return this.change(() => {
      user.roles = user.roles.filter((granted) => granted !== role);
    });
  }

  private roleAdd(name: string): undefined {
    if (name === '') throw new RoleEmptyError();
    if (this.roles.has(name)) throw new RoleAlreadyExistsError();
    return this.change(() => {
      this.roles.set(name, { name: Buffer.from(name), keyPermission: [] });
    });
  }

  private roleDelete(name: string): undefined {
    if (this.enabledFlag && name === rootRole) throw new InvalidAuthManagementError();
    if (!this.roles.has(name)) throw new RoleNotFoundError();
    return this.change(() => {
      this.roles.delete(name);
      for (const user of this.users.values()) user.roles = user.roles.filter((granted) => granted !== name);
    });
  }

  private roleGrantPermission(name: string, permission: Permission | undefined): undefined {
    const role = this.roles.get(name);
    if (role === undefined) throw new RoleNotFoundError();
    const granted: Permission = { permType: permission?.permType ?? 0, key: Buffer.from(permission?.key ?? []), rangeEnd: Buffer.from(permission?.rangeEnd ?? []) };
    return this.change(() => {
      const same = role.keyPermission.find((held) => sameRange(held, granted.key, granted.rangeEnd));
      if (same !== undefined) same.permType = granted.permType;
      else role.keyPermission = [...role.keyPermission, granted].sort((a, b) => Buffer.compare(a.key, b.key));
    });
  }

  private roleRevokePermission(name: string, key: Uint8Array, rangeEnd: Uint8Array): undefined {
    const role = this.roles.get(name);
    if (role === undefined) throw new RoleNotFoundError();
    const kept = role.keyPermission.filter((held) => !sameRange(held, key, rangeEnd));
    if (kept.length === role.keyPermission.length) throw new PermissionNotGrantedError();
    return this.change(() => {
      role.keyPermission = kept;
    });
  }

  /** Makes a change, raises the revision, rebuilds the permissions, and writes the store. */
  private change(make: () => void): undefined {
    make();
    this.revisionValue += 1n;
    this.rebuildPermissions();
    this.save();
    return undefined;
  }

  private rebuildPermissions(): void {
    this.permissions = new Map();
    for (const [name, user] of this.users) {
      const roles = user.roles.flatMap((role) => this.roles.get(role) ?? []);
      this.permissions.set(name, KeyPermissions.merge(roles));
    }
  }

  private save(): void {
    const users = [...this.users.keys()].sort(compareNames).flatMap((name) => this.users.get(name) ?? []);
    const roles = [...this.roles.keys()].sort(compareNames).flatMap((name) => this.roles.get(name) ?? []);
    this.backend.putMeta(metaAuth, encodeMessage(StoredAuth, { enabled: this.enabledFlag, revision: this.revisionValue, users, roles }));
  }
}

function hasRole(user: User, role: string): boolean {
  return user.roles.includes(role);
}

function sameRange(permission: Permission, key: Uint8Array, rangeEnd: Uint8Array): boolean {
  return Buffer.compare(permission.key, key) === 0 && Buffer.compare(permission.rangeEnd, rangeEnd) === 0;
}

/** Names in byte order, as etcd lists them (bbolt's key order). */
function compareNames(a: string, b: string): number {
  return Buffer.compare(Buffer.from(a), Buffer.from(b));
}
