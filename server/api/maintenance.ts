// etcdserverpb.Maintenance: status, hashes, alarms and defragmentation.
import { status, type ServerWritableStream } from '@grpc/grpc-js';
import { AlarmType, type AlarmResponse, type MaintenanceServer, type SnapshotRequest, type SnapshotResponse } from '../../proto/gen/etcdserverpb/rpc.js';
import { describeAlarm } from '../alarm/alarms.js';
import { etcdApiVersion } from '../version.js';
import { fillHeader, type ServiceContext } from './context.js';
import { RequestError, requestErrors, toServiceError } from '../grpc/errors.js';
import { unary, type CallState } from '../grpc/unary.js';
import { callerAuth } from './caller.js';
import { InvalidAuthTokenError, PermissionDeniedError, UserEmptyError, UserNotFoundError } from '../auth/errors.js';

export function maintenanceService(context: ServiceContext): MaintenanceServer {
  return {
    // Every action goes through the log, GET too (a linearizable read), as in etcd. etcd 3.4 answers
    // without a header; so does cairn (server/alarm/alarms.ts).
    alarm: unary(async (request, call) => (await context.node.propose({ alarm: request }, { gaveUp: () => call.cancelled })) as AlarmResponse),
    status: unary(() => ({
      header: fillHeader(context, undefined),
      version: etcdApiVersion,
      dbSize: BigInt(context.backend.sizeBytes()),
      leader: context.node.leaderId,
      raftIndex: BigInt(context.node.committedIndex),
      raftTerm: context.node.term,
      raftAppliedIndex: BigInt(context.node.appliedIndexValue),
      // As etcd: each raised alarm, in Go's protobuf text (`memberID:… alarm:NOSPACE `).
      errors: context.alarms.list(AlarmType.NONE).map(describeAlarm),
      dbSizeInUse: BigInt(context.backend.sizeInUseBytes()),
      isLearner: context.node.isLearner,
    })),
    defragment: unary(async (_request, call) => {
      await requireRoot(context, call);
      // Applying is held off meanwhile, so no compaction starts removing records while the copy is made.
      await context.node.exclusive(async () => {
        await context.store.compacted();
        await context.backend.defragment();
      });
      return { header: fillHeader(context, undefined) };
    }),
    hash: unary(async (_request, call) => {
      await requireRoot(context, call);
      const { hash, currentRevision } = await context.store.hashKV(0);
      return { header: fillHeader(context, undefined, currentRevision), hash };
    }),
    hashKv: unary(async (request, call) => {
      await requireRoot(context, call);
      const { hash, currentRevision, compactRevision } = await context.store.hashKV(Number(request.revision));
      return {
        header: fillHeader(context, undefined, currentRevision),
        hash,
        compactRevision: BigInt(compactRevision),
        // etcd 3.4 leaves hash_revision (a 3.6 field) unset; so does cairn.
        hashRevision: 0n,
      };
    }),
    // Snapshots over the wire are not implemented yet. Refuse with UNIMPLEMENTED: clients retry
    // UNAVAILABLE ("not capable") forever, and a stream left open would hang them.
    snapshot: (call: ServerWritableStream<SnapshotRequest, SnapshotResponse>) => {
      call.emit('error', toServiceError(new RequestError(status.UNIMPLEMENTED, 'cairn: Maintenance.Snapshot is not implemented yet')));
    },
    moveLeader: unary(async (request) => {
      await context.node.transferLeadership(request.targetID);
      return { header: fillHeader(context, undefined) };
    }),
    downgrade: unary(() => {
      throw requestErrors.notCapable();
    }),
  };
}

/**
 * Defragment and the hashes need the root role while auth is enabled, as in
 * etcd, whose authMaintenanceServer returns the auth package's own errors:
 * clients get code Unknown and "auth: …" rather than the usual
 * "etcdserver: …" (observed with etcd 3.4.23).
 */
async function requireRoot(context: ServiceContext, call: CallState): Promise<void> {
  try {
    context.auth.checkAdmin(await callerAuth(context, call));
  } catch (error) {
    const message = authPackageMessages.find(([type]) => error instanceof type)?.[1];
    throw message === undefined ? error : new RequestError(status.UNKNOWN, message);
  }
}

const authPackageMessages: Array<[new () => Error, string]> = [
  [PermissionDeniedError, 'auth: permission denied'],
  [UserEmptyError, 'auth: user name is empty'],
  [UserNotFoundError, 'auth: user not found'],
  [InvalidAuthTokenError, 'auth: invalid auth token'],
];
