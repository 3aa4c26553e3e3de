// The one gRPC client of the peer service (peer-service.ts is its server
// side): how this member reaches another. The transport streams Raft messages
// and snapshots through it, the leader forwarder asks the leader what only the
// leader answers, and a joining member asks a member for the membership.
// Channel credentials and options are chosen here alone: a PeerDialer, built
// once from the peer TLS settings, opens every PeerClient, and a peer URL's
// scheme decides between TLS (https://) and plaintext (http://), as in etcd.
//
// Nothing here reads the time: a call's deadline (ms since the Unix epoch, as
// gRPC takes it) comes from its caller.
import { credentials, makeGenericClientConstructor, Metadata, type ChannelCredentials, type ClientOptions, type ClientWritableStream, type ServiceError } from '@grpc/grpc-js';
import { createSecureContext } from 'node:tls';
import { secureContextOptions, type TlsMaterial } from '../tls/tls-material.js';
import type { TlsProtocolOptions } from '../tls/cipher-suites.js';
import { MessageBatch, PeerService, type PeerClient as GeneratedStub, type MembersResponse, type SnapshotChunk } from '../../proto/gen/cairnpb/peer.js';
import { encodeMessage } from '../codec.js';
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

/**
 * The generated client, but for how a batch of Raft messages is serialized:
 * through the codec's shared writer (codec.ts) instead of a fresh writer that
 * grows by copying for every batch — on a leader the generated encoder's
 * growing was ~2 % of its CPU under a steady write load. The bytes are the
 * generated encoder's, in a Buffer of their own (grpc-js frames them later).
 */
export function serializeBatch(batch: MessageBatch): Buffer {
  return encodeMessage(MessageBatch, batch);
}

const PeerStub = makeGenericClientConstructor(
  { ...PeerService, stream: { ...PeerService.stream, requestSerialize: serializeBatch } },
  'cairnpb.Peer',
) as unknown as new (address: string, channelCredentials: ChannelCredentials, options?: Partial<ClientOptions>) => GeneratedStub;
type PeerStub = GeneratedStub;

/**
 * Opens channels to other members with this member's peer TLS settings.
 * Over https:// it presents --peer-cert-file (when given) and verifies the
 * peer's certificate against --peer-trusted-ca-file (the system's roots
 * without it) and the URL's host; with --peer-auto-tls it verifies nothing,
 * as etcd. Over http:// it sends plaintext.
 */
export class PeerDialer {
  private readonly insecure = credentials.createInsecure();
  private secure: ChannelCredentials;
  /** Raised each time the certificate is replaced: channels opened before it are opened again, with the new one. */
  private generation = 0;

  /** `tls` undefined: this member has no peer certificate (it can still dial https:// peers that do not ask for one). */
  constructor(tls: TlsMaterial | undefined, private readonly protocol: TlsProtocolOptions) {
    this.secure = secureCredentials(tls, protocol);
  }

  /** Dials with `tls` from now on (its files changed, tls/tls-reload.ts): each channel is opened again at its next call. */
  replace(tls: TlsMaterial): void {
    this.secure = secureCredentials(tls, this.protocol);
    this.generation++;
  }

  /** A channel to the member at `peerUrl` (http:// or https://, host:port). */
  dial(peerUrl: string): PeerClient {
    const url = new URL(peerUrl);
    const tls = url.protocol === 'https:';
    return new PeerClient(url.origin, url.host, () => (tls ? { credentials: this.secure, generation: this.generation } : { credentials: this.insecure, generation: 0 }));
  }
}

function secureCredentials(tls: TlsMaterial | undefined, protocol: TlsProtocolOptions): ChannelCredentials {
  const context = tls === undefined
    ? createSecureContext({ ...protocol })
    : createSecureContext(secureContextOptions(tls));
  return credentials.createFromSecureContext(context, { rejectUnauthorized: tls?.verifyServer ?? true });
}

/** The credentials a PeerClient dials with now, and their generation. */
type CredentialsSource = () => { credentials: ChannelCredentials; generation: number };

/** How a finished call reports: `error` null when the peer answered OK. */
export type CallEnded = (error: ServiceError | null) => void;

/**
 * A channel to the peer service of the member at `origin` (scheme://host:port;
 * PeerDialer.dial opens it). It connects lazily and reconnects by itself
 * until closed. A unary call rejects with the peer's ServiceError (its code
 * and details as the peer answered them, or gRPC's own for a deadline, an
 * unreachable peer or a TLS handshake that failed).
 */
export class PeerClient {
  private current: PeerStub;
  private generation: number;

  constructor(
    /** The peer URL without a path: a channel is reused only for the same scheme, host and port. */
    readonly origin: string,
    private readonly address: string,
    private readonly source: CredentialsSource,
  ) {
    const { credentials: channelCredentials, generation } = source();
    this.current = new PeerStub(address, channelCredentials, peerChannelOptions);
    this.generation = generation;
  }

  /** The channel to call on: opened again when the dialer's certificate was replaced since it was opened. */
  private get stub(): PeerStub {
    const { credentials: channelCredentials, generation } = this.source();
    if (generation !== this.generation) {
      this.current.close();
      this.current = new PeerStub(this.address, channelCredentials, peerChannelOptions);
      this.generation = generation;
    }
    return this.current;
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
    this.current.close();
  }
}

function settle<T>(resolve: (response: T) => void, reject: (error: ServiceError) => void): (error: ServiceError | null, response: T) => void {
  return (error, response) => {
    if (error === null) resolve(response);
    else reject(error);
  };
}
