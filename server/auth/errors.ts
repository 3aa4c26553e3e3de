// The auth store's operating errors, one class per condition. The gRPC
// code and etcd's message of each are in the one error table
// (server/grpc/errors.ts).

/** AuthEnable without a user named root. */
export class RootUserNotExistError extends Error {
  override readonly name = 'RootUserNotExistError';
}

/** AuthEnable while the root user lacks the root role. */
export class RootRoleNotExistError extends Error {
  override readonly name = 'RootRoleNotExistError';
}

export class UserAlreadyExistsError extends Error {
  override readonly name = 'UserAlreadyExistsError';
}

/** A user name that is empty, or a request without credentials while auth is enabled. */
export class UserEmptyError extends Error {
  override readonly name = 'UserEmptyError';
}

export class UserNotFoundError extends Error {
  override readonly name = 'UserNotFoundError';
}

export class RoleAlreadyExistsError extends Error {
  override readonly name = 'RoleAlreadyExistsError';
}

export class RoleNotFoundError extends Error {
  override readonly name = 'RoleNotFoundError';
}

export class RoleEmptyError extends Error {
  override readonly name = 'RoleEmptyError';
}

/** Authenticate with an unknown user, a wrong password, or a user that has no password. */
export class AuthFailedError extends Error {
  override readonly name = 'AuthFailedError';
}

/** Authenticate with a password for a user added with no_password (etcd answers it with code Unknown). */
export class NoPasswordUserError extends Error {
  override readonly name = 'NoPasswordUserError';
}

export class PermissionDeniedError extends Error {
  override readonly name = 'PermissionDeniedError';
}

/** UserRevokeRole of a role the user does not have. */
export class RoleNotGrantedError extends Error {
  override readonly name = 'RoleNotGrantedError';
}

/** RoleRevokePermission of a permission the role does not have. */
export class PermissionNotGrantedError extends Error {
  override readonly name = 'PermissionNotGrantedError';
}

export class AuthNotEnabledError extends Error {
  override readonly name = 'AuthNotEnabledError';
}

/** A token this member does not know (never issued, expired, or revoked). */
export class InvalidAuthTokenError extends Error {
  override readonly name = 'InvalidAuthTokenError';
}

/** Deleting root, its role, or revoking root from root while auth is enabled. */
export class InvalidAuthManagementError extends Error {
  override readonly name = 'InvalidAuthManagementError';
}

/** The auth store changed after the request's token was checked: the client retries (with a new token for JWT). */
export class AuthOldRevisionError extends Error {
  override readonly name = 'AuthOldRevisionError';
}
