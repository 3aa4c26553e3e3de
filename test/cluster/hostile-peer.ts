// A peer that sends whatever a test tells it to a member's peer port: Raft
// message batches and snapshot streams built by hand with the generated
// PeerClient, and a raw HTTP/2 gRPC frame that only announces its size. Each
// call opens its own channel and closes it, so a refused stream leaves
// nothing behind.
import { connect } from 'node:http2';
import { credentials, Metadata, status, type CallOptions, type ChannelCredentials, type ClientWritableStream, type ServiceError } from '@grpc/grpc-js';
import { PeerClient, type MessageBatch, type SnapshotChunk } from '../../proto/gen/cairnpb/peer.js';
import { MessageType, Message as PbMessage, type Entry as PbEntry } from '../../proto/gen/raftpb/raft.js';

/** How a peer call ended: 'ok', or the gRPC code and details it was refused with. */
export interface PeerAnswer {
  code: status | 'ok';
  details: string;
}

/** How long a call to the member may take before the test gives up on an answer. */
const answerTimeoutMs = 10_000;

function answerOf(error: ServiceError | null): PeerAnswer {
  return error === null ? { code: 'ok', details: '' } : { code: error.code, details: error.details };
}

type Opened<T> = ClientWritableStream<T>;
type Done = (error: ServiceError | null) => void;

/** Writes `items` on one client-streaming call that `open` starts, ends it, and resolves with the member's answer. */
function sendAll<T>(peerHost: string, open: (client: PeerClient, options: CallOptions, done: Done) => Opened<T>, items: T[], channel: ChannelCredentials): Promise<PeerAnswer> {
  const client = new PeerClient(peerHost, channel, { 'grpc.max_send_message_length': -1 });
  return new Promise<PeerAnswer>((resolve) => {
    const call = open(client, { deadline: Date.now() + answerTimeoutMs }, (error) => resolve(answerOf(error)));
    call.on('error', () => undefined);
    for (const item of items) call.write(item);
    call.end();
  }).finally(() => client.close());
}

/** Sends `batches` on one Stream call, then ends it; over TLS when `channel` says so (a peer port with peer TLS). */
export function sendBatches(peerHost: string, batches: MessageBatch[], channel: ChannelCredentials = credentials.createInsecure()): Promise<PeerAnswer> {
  return sendAll(peerHost, (client, options, done) => client.stream(new Metadata(), options, done), batches, channel);
}

/** Sends the chunks of one Snapshot call, then ends it. */
export function sendSnapshot(peerHost: string, chunks: SnapshotChunk[]): Promise<PeerAnswer> {
  return sendAll(peerHost, (client, options, done) => client.snapshot(new Metadata(), options, done), chunks, credentials.createInsecure());
}

/**
 * Opens a Stream call over raw HTTP/2 and writes a gRPC frame header that
 * announces a message of `announcedBytes`, then a little of it. Resolves with
 * the grpc-status the member answers with, or undefined when it says nothing
 * within waitMs (it is waiting for the rest of the message).
 */
export function announceOversizedMessage(peerHost: string, announcedBytes: number, waitMs: number): Promise<number | undefined> {
  const session = connect(`http://${peerHost}`);
  session.on('error', () => undefined);
  return new Promise<number | undefined>((resolve) => {
    const timer = setTimeout(() => resolve(undefined), waitMs);
    const request = session.request({ ':method': 'POST', ':path': '/cairnpb.Peer/Stream', 'content-type': 'application/grpc', te: 'trailers' });
    const settle = (headers: Record<string, unknown>): void => {
      const grpcStatus = headers['grpc-status'];
      if (grpcStatus === undefined) return;
      clearTimeout(timer);
      resolve(Number(grpcStatus));
    };
    request.on('response', settle);
    request.on('trailers', settle);
    request.on('error', () => undefined);
    const frameHeader = Buffer.alloc(5);
    frameHeader.writeUInt32BE(announcedBytes, 1);
    request.write(frameHeader);
    request.write(Buffer.alloc(64 * 1024));
  }).finally(() => session.destroy());
}

export interface MessageFields {
  type: MessageType;
  from: bigint;
  to: bigint;
  term?: bigint;
  logTerm?: bigint;
  index?: bigint;
  commit?: bigint;
  entries?: PbEntry[];
  snapshot?: PbMessage['snapshot'];
}

export function message(fields: MessageFields): PbMessage {
  return PbMessage.fromPartial({ ...fields });
}

export function batch(clusterId: bigint, from: bigint, messages: PbMessage[]): MessageBatch {
  return { clusterId, from, messages };
}

export { MessageType };
