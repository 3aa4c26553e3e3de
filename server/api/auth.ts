// etcdserverpb.Auth: users, roles and their permissions (server/auth/store.ts).
// Changes go through the log; a password is hashed here, by the member that
// took the request (bcrypt at --bcrypt-cost), so neither the log nor the
// other members ever see it in the clear. Reads (UserGet, UserList, RoleGet,
// RoleList) are answered from this member's store after a read barrier, so
// they are linearizable as etcd's, which sends them through its log.
import bcrypt from 'bcryptjs';
import type {
  AuthDisableResponse,
  AuthEnableResponse,
  AuthenticateResponse,
  AuthRoleAddResponse,
  AuthRoleDeleteResponse,
  AuthRoleGrantPermissionResponse,
  AuthRoleRevokePermissionResponse,
  AuthServer,
  AuthUserAddResponse,
  AuthUserChangePasswordResponse,
  AuthUserDeleteResponse,
  AuthUserGrantRoleResponse,
  AuthUserRevokeRoleResponse,
} from '../../proto/gen/etcdserverpb/rpc.js';
import { AuthOldRevisionError } from '../auth/errors.js';
import { unary, type CallState } from '../grpc/unary.js';
import { callerAuth } from './caller.js';
import { fillHeader, proposeAs, proposeFor, type ServiceContext } from './context.js';

/** Authenticate tries again when the store changed while the password was checked; this many times at most. */
const authenticateAttemptsMax = 5;

export function authService(context: ServiceContext): AuthServer {
  return {
    authEnable: unary((_request, call) => proposeFor<AuthEnableResponse>(context, { authEnable: {} }, call)),
    authDisable: unary((_request, call) => proposeFor<AuthDisableResponse>(context, { authDisable: {} }, call)),
    authStatus: unary(() => ({ header: fillHeader(context, undefined), enabled: context.auth.enabled, authRevision: context.auth.revision })),
    authenticate: unary(async (request) => {
      await context.node.readBarrier();
      for (let attempt = 1; attempt <= authenticateAttemptsMax; attempt++) {
        const checkedRevision = await context.auth.checkPassword(request.name, request.password);
        // A JWT is signed here and names the revision it was checked at: no log entry needed.
        const signed = context.tokens.sign(request.name, checkedRevision);
        if (signed !== undefined) return { header: fillHeader(context, undefined), token: await signed };
        // The password is not proposed: the entry says whose token to make, and its first part.
        const authenticate = { name: request.name, simpleToken: context.tokens.prefix() };
        const response = await proposeAs<AuthenticateResponse>(context, { authenticate }, undefined);
        if (checkedRevision === context.auth.revision) return response;
      }
      throw new AuthOldRevisionError();
    }),
    userAdd: unary(async (request, call) => {
      // A user without a password keeps none.
      const hashed = request.options?.noPassword === true ? '' : await hashedPassword(context, request);
      const authUserAdd = { ...request, password: '', hashedPassword: hashed };
      return proposeFor<AuthUserAddResponse>(context, { authUserAdd }, call);
    }),
    userGet: unary(async (request, call) => {
      const auth = await readerAuth(context, call);
      // As etcd: a user may read itself without the root role.
      if (request.name !== auth.username) context.auth.checkAdmin(auth);
      return { header: fillHeader(context, undefined), roles: context.auth.userRoles(request.name) };
    }),
    userList: unary(async (_request, call) => {
      context.auth.checkAdmin(await readerAuth(context, call));
      return { header: fillHeader(context, undefined), users: context.auth.userNames() };
    }),
    userDelete: unary((request, call) => proposeFor<AuthUserDeleteResponse>(context, { authUserDelete: request }, call)),
    userChangePassword: unary(async (request, call) => {
      const authUserChangePassword = { name: request.name, password: '', hashedPassword: await hashedPassword(context, request) };
      return proposeFor<AuthUserChangePasswordResponse>(context, { authUserChangePassword }, call);
    }),
    userGrantRole: unary((request, call) => proposeFor<AuthUserGrantRoleResponse>(context, { authUserGrantRole: request }, call)),
    userRevokeRole: unary((request, call) => proposeFor<AuthUserRevokeRoleResponse>(context, { authUserRevokeRole: request }, call)),
    roleAdd: unary((request, call) => proposeFor<AuthRoleAddResponse>(context, { authRoleAdd: request }, call)),
    roleGet: unary(async (request, call) => {
      const auth = await readerAuth(context, call);
      // As etcd: a user may read a role it has without the root role.
      if (!context.auth.hasRole(auth.username, request.role)) context.auth.checkAdmin(auth);
      return { header: fillHeader(context, undefined), perm: context.auth.rolePermissions(request.role) };
    }),
    roleList: unary(async (_request, call) => {
      context.auth.checkAdmin(await readerAuth(context, call));
      return { header: fillHeader(context, undefined), roles: context.auth.roleNames() };
    }),
    roleDelete: unary((request, call) => proposeFor<AuthRoleDeleteResponse>(context, { authRoleDelete: request }, call)),
    roleGrantPermission: unary((request, call) => proposeFor<AuthRoleGrantPermissionResponse>(context, { authRoleGrantPermission: request }, call)),
    roleRevokePermission: unary((request, call) => proposeFor<AuthRoleRevokePermissionResponse>(context, { authRoleRevokePermission: request }, call)),
  };
}

/** The caller of an auth read, once this member applied everything committed before it. */
async function readerAuth(context: ServiceContext, call: CallState) {
  const auth = await callerAuth(context, call);
  await context.node.readBarrier();
  return auth;
}

/**
 * The hash UserAdd and UserChangePassword store: the one the client sent
 * (etcd 3.5 lets clients hash), or the password hashed here.
 */
async function hashedPassword(context: ServiceContext, request: { password: string; hashedPassword: string }): Promise<string> {
  if (request.hashedPassword !== '') return request.hashedPassword;
  return bcrypt.hash(request.password, context.config.auth.bcryptCost);
}
