// The peer gRPC service: what other members send to this one. Raft message
// batches are stepped into the node in order; a snapshot's backend image is
// written to a file first and handed to the node only once complete.
import { status, type sendUnaryData, type ServerReadableStream } from '@grpc/grpc-js';
import { closeSync, fsyncSync, openSync, rmSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import type { MessageBatch, MembersRequest, MembersResponse, PeerServer, SnapshotChunk, SnapshotReceived, StreamClosed } from '../../proto/gen/cairnpb/peer.js';
import type {
  LeaseKeepAliveRequest,
  LeaseKeepAliveResponse,
  LeaseTimeToLiveRequest,
  LeaseTimeToLiveResponse,
  MemberPromoteRequest,
  MemberPromoteResponse,
} from '../../proto/gen/etcdserverpb/rpc.js';
import { unary } from '../api/unary.js';
import type { Message } from '../raft/index.js';
import { messageFromPb } from './wire.js';

/** What a removed member is told when it still sends messages; it then stops (as etcd's members do). */
export const removedMemberMessage = 'the member has been permanently removed from the cluster';

export interface PeerHandlers {
  clusterId(): bigint;
  /** Whether `id` was removed from the cluster: its messages are refused. */
  isRemoved(id: bigint): boolean;
  /** A message from a peer. Errors are the node's to log; the stream goes on. */
  step(m: Message): void;
  /** A complete snapshot: `m` is its MsgSnap, `path` the backend image. */
  receiveSnapshot(m: Message, path: string): void;
  leaseRenew(request: LeaseKeepAliveRequest): Promise<LeaseKeepAliveResponse>;
  leaseTimeToLive(request: LeaseTimeToLiveRequest): Promise<LeaseTimeToLiveResponse>;
  memberPromote(request: MemberPromoteRequest): Promise<MemberPromoteResponse>;
  members(): MembersResponse;
  log(line: string): void;
}

/** Largest snapshot accepted, in bytes: more is a broken or hostile peer. */
const snapshotBytesMax = 64 * 1024 * 1024 * 1024;

export function peerService(handlers: PeerHandlers, snapshotDir: string): PeerServer {
  let received = 0;
  return {
    stream(call: ServerReadableStream<MessageBatch, StreamClosed>, callback: sendUnaryData<StreamClosed>) {
      let failed = false;
      call.on('data', (batch: MessageBatch) => {
        if (failed) return;
        if (batch.clusterId !== handlers.clusterId()) {
          failed = true;
          handlers.log(`rejected messages from ${batch.from.toString(16)}: cluster ID ${batch.clusterId.toString(16)} is not ours`);
          callback({ code: status.FAILED_PRECONDITION, details: 'cluster ID mismatch' });
          return;
        }
        if (handlers.isRemoved(batch.from)) {
          failed = true;
          callback({ code: status.FAILED_PRECONDITION, details: removedMemberMessage });
          return;
        }
        for (const pb of batch.messages) {
          let m: Message;
          try {
            m = messageFromPb(pb);
          } catch (error) {
            handlers.log(`dropped a malformed message from ${batch.from.toString(16)}: ${(error as Error).message}`);
            continue;
          }
          handlers.step(m);
        }
      });
      call.on('end', () => {
        if (!failed) callback(null, {});
      });
      call.on('error', () => undefined);
    },

    snapshot(call: ServerReadableStream<SnapshotChunk, SnapshotReceived>, callback: sendUnaryData<SnapshotReceived>) {
      let message: Message | undefined;
      let fd = -1;
      let path = '';
      let bytes = 0;
      let done = false;
      const fail = (code: status, details: string): void => {
        if (done) return;
        done = true;
        if (fd >= 0) closeSync(fd);
        if (path !== '') rmSync(path, { force: true });
        callback({ code, details });
      };
      call.on('data', (chunk: SnapshotChunk) => {
        if (done) return;
        try {
          if (message === undefined) {
            if (chunk.clusterId !== handlers.clusterId() || chunk.message === undefined) return fail(status.FAILED_PRECONDITION, 'cluster ID mismatch or no message');
            message = messageFromPb(chunk.message);
            path = join(snapshotDir, `incoming-${message.from.toString(16)}-${message.snapshot?.metadata.index ?? 0}-${++received}.mdb`);
            fd = openSync(path, 'w');
          }
          if (chunk.data.length > 0) {
            bytes += chunk.data.length;
            if (bytes > snapshotBytesMax) return fail(status.RESOURCE_EXHAUSTED, 'snapshot too large');
            let written = 0;
            while (written < chunk.data.length) written += writeSync(fd, chunk.data, written);
          }
          if (chunk.last) {
            if (Number(chunk.totalBytes) !== bytes) return fail(status.DATA_LOSS, `snapshot of ${bytes} bytes, sender says ${chunk.totalBytes}`);
            fsyncSync(fd);
            closeSync(fd);
            fd = -1;
            done = true;
            handlers.receiveSnapshot(message, path);
            callback(null, {});
          }
        } catch (error) {
          fail(status.INTERNAL, (error as Error).message);
        }
      });
      call.on('end', () => fail(status.DATA_LOSS, 'snapshot stream ended early'));
      call.on('error', () => fail(status.CANCELLED, 'snapshot stream broke'));
    },

    leaseRenew: unary<LeaseKeepAliveRequest, LeaseKeepAliveResponse>((request) => handlers.leaseRenew(request)),
    leaseTimeToLive: unary<LeaseTimeToLiveRequest, LeaseTimeToLiveResponse>((request) => handlers.leaseTimeToLive(request)),
    memberPromote: unary<MemberPromoteRequest, MemberPromoteResponse>((request) => handlers.memberPromote(request)),
    members: unary<MembersRequest, MembersResponse>(() => handlers.members()),
  };
}
