// etcdserverpb.Maintenance: status, hashes, alarms and defragmentation.
import { status, type ServerWritableStream } from '@grpc/grpc-js';
import { AlarmType, type AlarmResponse, type MaintenanceServer, type SnapshotRequest, type SnapshotResponse } from '../../proto/gen/etcdserverpb/rpc.js';
import { describeAlarm } from '../alarm/alarms.js';
import { etcdApiVersion } from '../version.js';
import { fillHeader, type ServiceContext } from './context.js';
import { RequestError, requestErrors, toServiceError } from '../grpc/errors.js';
import { unary, type CallState } from '../grpc/unary.js';
import { createHash, randomBytes } from 'node:crypto';
import { createReadStream, rmSync, statSync } from 'node:fs';
import { once } from 'node:events';
import { join } from 'node:path';
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
      // etcd 3.4 answers an empty DefragmentResponse: no header.
      return { header: undefined };
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
    snapshot: (call: ServerWritableStream<SnapshotRequest, SnapshotResponse>) => {
      streamSnapshot(context, call).then(
        () => call.end(),
        (error: unknown) => call.emit('error', toServiceError(error)),
      );
    },
    moveLeader: unary(async (request) => {
      await context.node.transferLeadership(request.targetID);
      // etcd 3.4 answers an empty MoveLeaderResponse: no header.
      return { header: undefined };
    }),
    // etcd 3.5's cluster downgrade; cairn is at etcd 3.4's API level and answers as 3.4, which has
    // no such method. (3.5's UNAVAILABLE "not capable" makes clients retry a call that cannot succeed.)
    downgrade: unary(() => {
      throw requestErrors.downgradeUnknown();
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

/** etcd's chunk size for Snapshot (snapshotSendBufferSize). */
const snapshotChunkBytes = 32 * 1024;

/**
 * Snapshot as etcd 3.4 streams it: a consistent copy of the backend in 32 KiB
 * chunks, each with the bytes still to come, then one last message whose
 * blob is the SHA-256 of everything sent (what `etcdctl snapshot save`
 * checks: a file of size % 512 == 32). No header, as etcd 3.4. The copy is
 * lmdb's data file, compacted; it is taken while the member keeps serving
 * and removed once sent.
 */
async function streamSnapshot(context: ServiceContext, call: ServerWritableStream<SnapshotRequest, SnapshotResponse>): Promise<void> {
  await requireRoot(context, call);
  const dir = join(context.backend.dir, `outgoing-${context.clock.wallMs()}-${randomBytes(4).toString('hex')}`);
  try {
    const path = await context.backend.copyTo(dir);
    const totalBytes = statSync(path).size;
    const sha256 = createHash('sha256');
    let remaining = totalBytes;
    for await (const chunk of createReadStream(path, { highWaterMark: snapshotChunkBytes })) {
      if (call.cancelled) return;
      const blob = chunk as Buffer;
      remaining -= blob.length;
      sha256.update(blob);
      if (!call.write({ header: undefined, remainingBytes: BigInt(remaining), blob, version: '' })) await once(call, 'drain');
    }
    call.write({ header: undefined, remainingBytes: 0n, blob: sha256.digest(), version: '' });
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
