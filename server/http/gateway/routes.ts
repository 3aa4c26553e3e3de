// Where etcd 3.4's gateway serves each RPC: POST paths under /v3/ (and the
// same under /v3beta/, which 3.4 still serves; /v3alpha/ is gone), from the
// google.api.http options of etcd's protos. Three lease RPCs also answer
// under /v3/kv/lease/…; /v3/maintenance/hash reaches Hash (3.4's proto gives
// HashKV the same path, and Hash wins, so HashKV has no gateway path).
import type protobuf from 'protobufjs';
import { gatewayProtos } from './json-codec.js';

export type CallKind = 'unary' | 'server-stream' | 'bidi-stream';

export interface GatewayRoute {
  /** The gRPC method path: /etcdserverpb.KV/Range. */
  readonly grpcPath: string;
  readonly kind: CallKind;
  readonly requestType: protobuf.Type;
  readonly responseType: protobuf.Type;
}

/** [path under /v3/, service, method]. */
const table: ReadonlyArray<readonly [string, string, string]> = [
  ['kv/range', 'etcdserverpb.KV', 'Range'],
  ['kv/put', 'etcdserverpb.KV', 'Put'],
  ['kv/deleterange', 'etcdserverpb.KV', 'DeleteRange'],
  ['kv/txn', 'etcdserverpb.KV', 'Txn'],
  ['kv/compaction', 'etcdserverpb.KV', 'Compact'],
  ['watch', 'etcdserverpb.Watch', 'Watch'],
  ['lease/grant', 'etcdserverpb.Lease', 'LeaseGrant'],
  ['lease/revoke', 'etcdserverpb.Lease', 'LeaseRevoke'],
  ['kv/lease/revoke', 'etcdserverpb.Lease', 'LeaseRevoke'],
  ['lease/keepalive', 'etcdserverpb.Lease', 'LeaseKeepAlive'],
  ['lease/timetolive', 'etcdserverpb.Lease', 'LeaseTimeToLive'],
  ['kv/lease/timetolive', 'etcdserverpb.Lease', 'LeaseTimeToLive'],
  ['lease/leases', 'etcdserverpb.Lease', 'LeaseLeases'],
  ['kv/lease/leases', 'etcdserverpb.Lease', 'LeaseLeases'],
  ['cluster/member/add', 'etcdserverpb.Cluster', 'MemberAdd'],
  ['cluster/member/remove', 'etcdserverpb.Cluster', 'MemberRemove'],
  ['cluster/member/update', 'etcdserverpb.Cluster', 'MemberUpdate'],
  ['cluster/member/list', 'etcdserverpb.Cluster', 'MemberList'],
  ['cluster/member/promote', 'etcdserverpb.Cluster', 'MemberPromote'],
  ['maintenance/alarm', 'etcdserverpb.Maintenance', 'Alarm'],
  ['maintenance/status', 'etcdserverpb.Maintenance', 'Status'],
  ['maintenance/defragment', 'etcdserverpb.Maintenance', 'Defragment'],
  ['maintenance/hash', 'etcdserverpb.Maintenance', 'Hash'],
  ['maintenance/snapshot', 'etcdserverpb.Maintenance', 'Snapshot'],
  ['maintenance/transfer-leadership', 'etcdserverpb.Maintenance', 'MoveLeader'],
  ['auth/enable', 'etcdserverpb.Auth', 'AuthEnable'],
  ['auth/disable', 'etcdserverpb.Auth', 'AuthDisable'],
  ['auth/authenticate', 'etcdserverpb.Auth', 'Authenticate'],
  ['auth/user/add', 'etcdserverpb.Auth', 'UserAdd'],
  ['auth/user/get', 'etcdserverpb.Auth', 'UserGet'],
  ['auth/user/list', 'etcdserverpb.Auth', 'UserList'],
  ['auth/user/delete', 'etcdserverpb.Auth', 'UserDelete'],
  ['auth/user/changepw', 'etcdserverpb.Auth', 'UserChangePassword'],
  ['auth/user/grant', 'etcdserverpb.Auth', 'UserGrantRole'],
  ['auth/user/revoke', 'etcdserverpb.Auth', 'UserRevokeRole'],
  ['auth/role/add', 'etcdserverpb.Auth', 'RoleAdd'],
  ['auth/role/get', 'etcdserverpb.Auth', 'RoleGet'],
  ['auth/role/list', 'etcdserverpb.Auth', 'RoleList'],
  ['auth/role/delete', 'etcdserverpb.Auth', 'RoleDelete'],
  ['auth/role/grant', 'etcdserverpb.Auth', 'RoleGrantPermission'],
  ['auth/role/revoke', 'etcdserverpb.Auth', 'RoleRevokePermission'],
  ['lock/lock', 'v3lockpb.Lock', 'Lock'],
  ['lock/unlock', 'v3lockpb.Lock', 'Unlock'],
  ['election/campaign', 'v3electionpb.Election', 'Campaign'],
  ['election/proclaim', 'v3electionpb.Election', 'Proclaim'],
  ['election/leader', 'v3electionpb.Election', 'Leader'],
  ['election/observe', 'v3electionpb.Election', 'Observe'],
  ['election/resign', 'v3electionpb.Election', 'Resign'],
];

/** The prefixes etcd 3.4 serves the gateway under. */
export const gatewayPrefixes = ['/v3/', '/v3beta/'] as const;

/** Every gateway path (both prefixes) and what it calls. */
export function gatewayRoutes(): Map<string, GatewayRoute> {
  const protos = gatewayProtos();
  const routes = new Map<string, GatewayRoute>();
  for (const [path, service, name] of table) {
    const method = protos.lookupService(service).methods[name];
    if (method === undefined) throw new Error(`gateway: ${service} has no method ${name}`);
    const route: GatewayRoute = {
      grpcPath: `/${service}/${name}`,
      kind: method.requestStream === true ? 'bidi-stream' : method.responseStream === true ? 'server-stream' : 'unary',
      requestType: protos.lookupType(method.resolvedRequestType?.fullName ?? method.requestType),
      responseType: protos.lookupType(method.resolvedResponseType?.fullName ?? method.responseType),
    };
    for (const prefix of gatewayPrefixes) routes.set(`${prefix}${path}`, route);
  }
  return routes;
}
