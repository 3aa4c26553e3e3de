// The one gRPC client of the peer service (peer-service.ts is its server
// side): how this member reaches another. The transport streams Raft messages
// and snapshots through it, the leader forwarder asks the leader what only the
// leader answers, and a joining member asks a member for the membership.
// Channel credentials and options are chosen here alone, so that peer TLS has
// one place to go.
//
// Nothing here reads the time: a call's deadline (ms since the Unix epoch, as
// gRPC takes it) comes from its caller.
import { credentials, Metadata, type ClientWritableStream, type ServiceError } from '@grpc/grpc-js';
import { PeerClient as PeerStub, type MessageBatch, type MembersResponse, type SnapshotChunk } from '../../proto/gen/cairnpb/peer.js';
import type {
  LeaseKeepAliveRequest,
  LeaseKeepAliveResponse,
  LeaseTimeToLiveRequest,
  LeaseTimeToLiveResponse,
  MemberPromoteRequest,
  MemberPromoteResponse,
} from '../../proto/gen/etcdserverpb/rpc.js';

/** Options of every peer channel: messages of any size, and pings that find a dead peer in seconds. */
const peerChannelOptions = {
  'grpc.max_send_message_length': -1,
  'grpc.max_receive_message_length': -1,
  'grpc.keepalive_time_ms': 2_000,
  'grpc.keepalive_timeout_ms': 2_000,
  'grpc.keepalive_permit_without_calls': 1,
  'grpc.enable_channelz': 0,
  'grpc.initial_reconnect_backoff_ms': 100,
  'grpc.max_reconnect_backoff_ms': 1_000,
};

/** How a finished call reports: `error` null when the peer answered OK. */
export type CallEnded = (error: ServiceError | null) => void;

/**
 * A channel to the peer service of the member at `address` (host:port). It
 * connects lazily and reconnects by itself until closed. A unary call rejects with the peer's ServiceError (its code and details
 * as the peer answered them, or gRPC's own for a deadline or an unreachable peer).
 */
export class PeerClient {
  private readonly stub: PeerStub;

  constructor(readonly address: string) {
    this.stub = new PeerStub(address, credentials.createInsecure(), peerChannelOptions);
  }

  /** Opens the stream that carries batches of Raft messages, in order. `ended` is called once, when the peer ends it. */
  messageStream(ended: CallEnded): ClientWritableStream<MessageBatch> {
    return this.stub.stream((error) => ended(error));
  }

  /** Opens a stream for one snapshot: its MsgSnap, the backend image in chunks, then size and SHA-256. */
  snapshotStream(ended: CallEnded): ClientWritableStream<SnapshotChunk> {
    return this.stub.snapshot((error) => ended(error));
  }

  /** Renews a lease on the leader (which keeps the deadlines). */
  leaseRenew(request: LeaseKeepAliveRequest, deadlineWallMs: number): Promise<LeaseKeepAliveResponse> {
    return new Promise((resolve, reject) => this.stub.leaseRenew(request, new Metadata(), { deadline: deadlineWallMs }, settle(resolve, reject)));
  }

  /** A lease's time to live, as the leader knows it. */
  leaseTimeToLive(request: LeaseTimeToLiveRequest, deadlineWallMs: number): Promise<LeaseTimeToLiveResponse> {
    return new Promise((resolve, reject) => this.stub.leaseTimeToLive(request, new Metadata(), { deadline: deadlineWallMs }, settle(resolve, reject)));
  }

  /** Promotes a learner on the leader; resolves once the change is applied there. */
  memberPromote(request: MemberPromoteRequest, deadlineWallMs: number): Promise<MemberPromoteResponse> {
    return new Promise((resolve, reject) => this.stub.memberPromote(request, new Metadata(), { deadline: deadlineWallMs }, settle(resolve, reject)));
  }

  /** The cluster ID and the members as the peer knows them (what a joining member asks). */
  members(deadlineWallMs: number): Promise<MembersResponse> {
    return new Promise((resolve, reject) => this.stub.members({}, new Metadata(), { deadline: deadlineWallMs }, settle(resolve, reject)));
  }

  /** Closes the channel. */
  close(): void {
    this.stub.close();
  }
}

function settle<T>(resolve: (response: T) => void, reject: (error: ServiceError) => void): (error: ServiceError | null, response: T) => void {
  return (error, response) => {
    if (error === null) resolve(response);
    else reject(error);
  };
}
