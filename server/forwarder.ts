// Requests only the leader can answer (lease keep-alives and time-to-live:
// it keeps the deadlines) are forwarded to it over the peer service.
import { credentials, Metadata, type ServiceError } from '@grpc/grpc-js';
import { PeerClient } from '../proto/gen/cairnpb/peer.js';
import type { Member } from '../proto/gen/etcdserverpb/rpc.js';
import type {
  LeaseKeepAliveRequest,
  LeaseKeepAliveResponse,
  LeaseTimeToLiveRequest,
  LeaseTimeToLiveResponse,
  MemberPromoteRequest,
  MemberPromoteResponse,
} from '../proto/gen/etcdserverpb/rpc.js';
import type { Clock } from './clock.js';
import { peerChannelOptions } from './transport/peer-transport.js';
import { NoLeaderError, RequestTimeoutError } from './node/errors.js';
import { RequestError } from './grpc/errors.js';

/** A forwarded request's deadline. */
const forwardTimeoutMs = 3_000;
/** A promotion waits for its membership change to apply on the leader. */
const promoteTimeoutMs = 10_000;

export class LeaderForwarder {
  private client: PeerClient | undefined;
  private clientAddress = '';

  constructor(
    private readonly leader: () => Member | undefined,
    private readonly clock: Clock,
  ) {}

  leaseRenew(request: LeaseKeepAliveRequest): Promise<LeaseKeepAliveResponse> {
    return this.call((client, deadline, done) => client.leaseRenew(request, new Metadata(), { deadline }, done));
  }

  leaseTimeToLive(request: LeaseTimeToLiveRequest): Promise<LeaseTimeToLiveResponse> {
    return this.call((client, deadline, done) => client.leaseTimeToLive(request, new Metadata(), { deadline }, done));
  }

  memberPromote(request: MemberPromoteRequest): Promise<MemberPromoteResponse> {
    return this.call((client, deadline, done) => client.memberPromote(request, new Metadata(), { deadline }, done), promoteTimeoutMs);
  }

  close(): void {
    this.client?.close();
    this.client = undefined;
  }

  private call<T>(send: (client: PeerClient, deadline: number, done: (error: ServiceError | null, response: T) => void) => void, timeoutMs = forwardTimeoutMs): Promise<T> {
    const leader = this.leader();
    if (leader === undefined || leader.peerURLs.length === 0) return Promise.reject(new NoLeaderError());
    const address = new URL(leader.peerURLs[0]).host;
    if (this.client === undefined || this.clientAddress !== address) {
      this.client?.close();
      this.client = new PeerClient(address, credentials.createInsecure(), peerChannelOptions);
      this.clientAddress = address;
    }
    const client = this.client;
    return new Promise<T>((resolve, reject) => {
      // gRPC deadlines are wall-clock times.
      send(client, this.clock.wallMs() + timeoutMs, (error, response) => {
        if (error === null) resolve(response);
        else if (error.code === 4 /* DEADLINE_EXCEEDED */ || error.code === 14 /* UNAVAILABLE */) reject(error.code === 4 ? new RequestTimeoutError() : new NoLeaderError());
        else reject(new RequestError(error.code, error.details));
      });
    });
  }
}
