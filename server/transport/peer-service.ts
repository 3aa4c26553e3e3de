// The peer gRPC service: what other members send to this one. Nothing here is
// trusted. Every stream's sender must be a member of this cluster (other than
// this one); every message must come from that sender, be addressed to this
// member, be of a type a peer may send, and stay within the bounds of
// peer-checks.ts. What passes is stepped into the node in order, which checks
// what needs its own state. A snapshot's backend image is received into a
// file first (snapshot-receiver.ts) and handed to the node only once complete
// and verified.
import type { Log } from '../log.js';
import { status, type sendUnaryData, type ServerReadableStream } from '@grpc/grpc-js';
import type { MessageBatch, MembersRequest, MembersResponse, PeerServer, SnapshotChunk, SnapshotReceived, StreamClosed } from '../../proto/gen/cairnpb/peer.js';
import type {
  LeaseKeepAliveRequest,
  LeaseKeepAliveResponse,
  LeaseTimeToLiveRequest,
  LeaseTimeToLiveResponse,
  MemberPromoteRequest,
  MemberPromoteResponse,
} from '../../proto/gen/etcdserverpb/rpc.js';
import { unary } from '../grpc/unary.js';
import type { Clock } from '../clock.js';
import { LogThrottle } from '../log-throttle.js';
import { UndecodableRequest, undecodableStatus } from '../grpc/request-streams.js';
import type { Message } from '../raft/index.js';
import { raftNodeId } from '../membership/ids.js';
import { messageRefusal, streamMessageTypes } from './peer-checks.js';
import { receiveSnapshot } from './snapshot-receiver.js';
import { messageFromPb, type PbMessage } from './wire.js';

/** What a removed member is told when it still sends messages; it then stops (as etcd's members do). */
export const removedMemberMessage = 'the member has been permanently removed from the cluster';

export interface PeerHandlers {
  /** This member's ID. */
  memberId: bigint;
  clusterId(): bigint;
  /** Whether `id` was removed from the cluster: its messages are refused. */
  isRemoved(id: bigint): boolean;
  /**
   * Whether `id` is a member as this member knows the membership: a member
   * added moments ago is refused until this member applies its addition (it
   * reconnects with backoff meanwhile).
   */
  isMember(id: bigint): boolean;
  /**
   * The ID of the member (present, removed or booting) the Raft core knows
   * as `nodeId` (membership/ids.ts raftNodeId), or `nodeId` itself: a
   * snapshot names its sender only by the MsgSnap's node ID.
   */
  memberIdOfNode(nodeId: bigint): bigint;
  /** A message from a peer, checked here. The node checks what needs its state, and logs what it drops. */
  step(m: Message): void;
  /** A complete, verified snapshot: `m` is its MsgSnap, `path` the backend image, now the node's. */
  receiveSnapshot(m: Message, path: string): void;
  leaseRenew(request: LeaseKeepAliveRequest): Promise<LeaseKeepAliveResponse>;
  leaseTimeToLive(request: LeaseTimeToLiveRequest): Promise<LeaseTimeToLiveResponse>;
  memberPromote(request: MemberPromoteRequest): Promise<MemberPromoteResponse>;
  members(): MembersResponse;
  log: Log;
}

/** Why a stream is refused: its gRPC code and the details the sender sees. */
export interface Refusal {
  code: status;
  details: string;
}

/** Refusals and dropped messages of one kind from one sender are logged at most this often. */
const refusalLogIntervalMs = 5_000;

export function peerService(handlers: PeerHandlers, snapshotDir: string, clock: Clock): PeerServer {
  const throttle = new LogThrottle((line) => handlers.log.warn(line), refusalLogIntervalMs, clock);
  const self = raftNodeId(handlers.memberId);

  /** Why a stream from `from` claiming cluster `clusterId` is refused, or undefined. */
  const senderRefusal = (clusterId: bigint, from: bigint): Refusal | undefined => {
    let refusal: Refusal | undefined;
    if (clusterId !== handlers.clusterId()) refusal = { code: status.FAILED_PRECONDITION, details: `cluster ID ${clusterId.toString(16)} is not this cluster's` };
    else if (handlers.isRemoved(from)) refusal = { code: status.FAILED_PRECONDITION, details: removedMemberMessage };
    else if (from === handlers.memberId) refusal = { code: status.FAILED_PRECONDITION, details: `${from.toString(16)} is this member's own ID` };
    else if (!handlers.isMember(from)) refusal = { code: status.FAILED_PRECONDITION, details: `${from.toString(16)} is not a member of this cluster (as this member knows it)` };
    if (refusal !== undefined) throttle.line(`refused ${from}`, `refused a stream from ${from.toString(16)}: ${refusal.details}`);
    return refusal;
  };

  /** The message, or undefined when it must not reach the node (logged). */
  const admit = (pb: PbMessage, from: bigint, allowed: ReadonlySet<string>): Message | undefined => {
    let m: Message;
    try {
      m = messageFromPb(pb);
    } catch (error) {
      throttle.line(`malformed ${from}`, `dropped a malformed message from ${from.toString(16)}: ${(error as Error).message}`);
      return undefined;
    }
    const refused = messageRefusal(m, self, raftNodeId(from), allowed);
    if (refused === undefined) return m;
    throttle.line(`dropped ${from} ${m.type}`, `dropped ${m.type} from ${from.toString(16)}: ${refused}`);
    return undefined;
  };

  return {
    stream(call: ServerReadableStream<MessageBatch, StreamClosed>, callback: sendUnaryData<StreamClosed>) {
      let failed = false;
      call.on('data', (batch: MessageBatch | UndecodableRequest) => {
        if (failed) return;
        if (batch instanceof UndecodableRequest) {
          failed = true;
          handlers.log.warn(`ended a peer stream: a message batch does not decode (${batch.reason})`);
          callback(undecodableStatus());
          return;
        }
        const refusal = senderRefusal(batch.clusterId, batch.from);
        if (refusal !== undefined) {
          failed = true;
          callback(refusal);
          return;
        }
        for (const pb of batch.messages) {
          const m = admit(pb, batch.from, streamMessageTypes);
          if (m !== undefined) handlers.step(m);
        }
      });
      call.on('end', () => {
        if (!failed) callback(null, {});
      });
      call.on('error', () => undefined);
    },

    snapshot(call: ServerReadableStream<SnapshotChunk, SnapshotReceived>, callback: sendUnaryData<SnapshotReceived>) {
      receiveSnapshot(call, callback, {
        dir: snapshotDir,
        senderRefusal: (clusterId, from) => senderRefusal(clusterId, handlers.memberIdOfNode(from)),
        admit,
        deliver: (m, path) => handlers.receiveSnapshot(m, path),
        log: handlers.log,
      });
    },

    leaseRenew: unary<LeaseKeepAliveRequest, LeaseKeepAliveResponse>((request) => handlers.leaseRenew(request)),
    leaseTimeToLive: unary<LeaseTimeToLiveRequest, LeaseTimeToLiveResponse>((request) => handlers.leaseTimeToLive(request)),
    memberPromote: unary<MemberPromoteRequest, MemberPromoteResponse>((request) => handlers.memberPromote(request)),
    members: unary<MembersRequest, MembersResponse>(() => handlers.members()),
  };
}
