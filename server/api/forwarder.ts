// Client requests only the leader can answer (lease keep-alives and
// time-to-live: it keeps the deadlines; a learner's promotion) are forwarded
// to it over the peer service. What is decided here is which member is the
// leader and what its answer means to the client: its own error passes on
// with its code and message. The call itself goes through the one peer client
// (transport/peer-client.ts).
import type { ServiceError } from '@grpc/grpc-js';
import type { Member } from '../../proto/gen/etcdserverpb/rpc.js';
import type {
  LeaseKeepAliveRequest,
  LeaseKeepAliveResponse,
  LeaseTimeToLiveRequest,
  LeaseTimeToLiveResponse,
  MemberPromoteRequest,
  MemberPromoteResponse,
} from '../../proto/gen/etcdserverpb/rpc.js';
import type { Clock } from '../clock.js';
import type { PeerClient, PeerDialer } from '../transport/peer-client.js';
import { NoLeaderError, RequestTimeoutError } from '../node/errors.js';
import { RequestError } from '../grpc/errors.js';

/** A forwarded request's deadline. */
const forwardTimeoutMs = 3_000;
/** A promotion waits for its membership change to apply on the leader. */
const promoteTimeoutMs = 10_000;

export class LeaderForwarder {
  private client: PeerClient | undefined;

  constructor(
    private readonly leader: () => Member | undefined,
    private readonly dialer: PeerDialer,
    private readonly clock: Clock,
  ) {}

  leaseRenew(request: LeaseKeepAliveRequest): Promise<LeaseKeepAliveResponse> {
    return this.call((client, deadline) => client.leaseRenew(request, deadline));
  }

  leaseTimeToLive(request: LeaseTimeToLiveRequest): Promise<LeaseTimeToLiveResponse> {
    return this.call((client, deadline) => client.leaseTimeToLive(request, deadline));
  }

  memberPromote(request: MemberPromoteRequest): Promise<MemberPromoteResponse> {
    return this.call((client, deadline) => client.memberPromote(request, deadline), promoteTimeoutMs);
  }

  close(): void {
    this.client?.close();
    this.client = undefined;
  }

  private call<T>(send: (client: PeerClient, deadline: number) => Promise<T>, timeoutMs = forwardTimeoutMs): Promise<T> {
    const leader = this.leader();
    const peerUrl = leader?.peerURLs[0];
    if (peerUrl === undefined) return Promise.reject(new NoLeaderError());
    if (this.client?.origin !== new URL(peerUrl).origin) {
      this.client?.close();
      this.client = this.dialer.dial(peerUrl);
    }
    const client = this.client;
    // gRPC deadlines are wall-clock times.
    return send(client, this.clock.wallMs() + timeoutMs).catch((error: ServiceError) => {
      if (error.code === 4 /* DEADLINE_EXCEEDED */ || error.code === 14 /* UNAVAILABLE */) throw error.code === 4 ? new RequestTimeoutError() : new NoLeaderError();
      throw new RequestError(error.code, error.details);
    });
  }
}
