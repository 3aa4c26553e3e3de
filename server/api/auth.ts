// etcdserverpb.Auth, for a server without authentication: it says so the
// way etcd does with auth disabled, so clients configured with credentials
// get etcd's answer. Users, roles and enabling auth are not implemented:
// those methods answer UNIMPLEMENTED rather than pretend.
import { status, type sendUnaryData, type ServerUnaryCall, type UntypedHandleCall } from '@grpc/grpc-js';
import type { AuthDisableRequest, AuthDisableResponse, AuthServer, AuthStatusRequest, AuthStatusResponse } from '../../proto/gen/etcdserverpb/rpc.js';
import { fillHeader, type ServiceContext } from './context.js';
import { RequestError } from '../grpc/errors.js';
import { unary } from '../grpc/unary.js';

const notEnabled = (): RequestError => new RequestError(status.FAILED_PRECONDITION, 'etcdserver: authentication is not enabled');

export function authService(context: ServiceContext): Partial<AuthServer> & Record<string, UntypedHandleCall> {
  return {
    authenticate: unary(() => {
      throw notEnabled();
    }),
    authStatus: (_call: ServerUnaryCall<AuthStatusRequest, AuthStatusResponse>, callback: sendUnaryData<AuthStatusResponse>) =>
      callback(null, { header: fillHeader(context, undefined), enabled: false, authRevision: 0n }),
    // Disabling auth that is not enabled succeeds in etcd too.
    authDisable: (_call: ServerUnaryCall<AuthDisableRequest, AuthDisableResponse>, callback: sendUnaryData<AuthDisableResponse>) =>
      callback(null, { header: fillHeader(context, undefined) }),
  };
}
