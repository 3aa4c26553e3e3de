// How large a gRPC message may be, as etcd sizes it (etcdserver/api/v3rpc/grpc.go).

/** gRPC may carry this much more than --max-request-bytes, as etcd allows, so the server can answer "request is too large" itself. */
export const grpcOverheadBytes = 512 * 1024;

/** The largest message the server takes, and the size past which a fragmenting watch splits a revision (etcd's sendFragments). */
export function grpcMessageBytesMax(maxRequestBytes: number): number {
  return maxRequestBytes + grpcOverheadBytes;
}
