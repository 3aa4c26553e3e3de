// etcdserverpb.Maintenance: status, hashes, alarms and defragmentation.
import { status as grpcStatus, type ServerWritableStream } from '@grpc/grpc-js';
import type { MaintenanceServer, SnapshotRequest, SnapshotResponse } from '../../proto/gen/etcdserverpb/rpc.js';
import { etcdApiVersion } from '../version.js';
import { fillHeader, type ServiceContext } from './context.js';
import { requestErrors } from './errors.js';
import { unary } from './unary.js';

export function maintenanceService(context: ServiceContext): MaintenanceServer {
  return {
    alarm: unary(() => ({ header: fillHeader(context, undefined), alarms: [] })),
    status: unary(() => ({
      header: fillHeader(context, undefined),
      version: etcdApiVersion,
      dbSize: BigInt(context.backend.sizeBytes()),
      leader: context.memberId,
      raftIndex: BigInt(context.node.committedIndex),
      raftTerm: context.node.term,
      raftAppliedIndex: BigInt(context.node.appliedIndex),
      errors: [],
      dbSizeInUse: BigInt(context.backend.sizeInUseBytes()),
      isLearner: false,
    })),
    // lmdb reuses freed pages in place, so there is no fragmented file to rewrite;
    // the call is accepted as etcd accepts it.
    defragment: unary(() => ({ header: fillHeader(context, undefined) })),
    hash: unary(() => {
      const { hash, currentRevision } = context.store.hashKV(0);
      return { header: fillHeader(context, undefined, currentRevision), hash };
    }),
    hashKv: unary((request) => {
      const { hash, currentRevision, compactRevision } = context.store.hashKV(Number(request.revision));
      return {
        header: fillHeader(context, undefined, currentRevision),
        hash,
        compactRevision: BigInt(compactRevision),
        hashRevision: request.revision === 0n ? BigInt(currentRevision) : request.revision,
      };
    }),
    snapshot: (call: ServerWritableStream<SnapshotRequest, SnapshotResponse>) => {
      call.destroy(Object.assign(new Error('etcdserver: not capable'), { code: grpcStatus.UNIMPLEMENTED }));
    },
    moveLeader: unary(() => {
      throw requestErrors.notCapable();
    }),
    downgrade: unary(() => {
      throw requestErrors.notCapable();
    }),
  };
}
