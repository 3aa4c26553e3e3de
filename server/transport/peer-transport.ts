// Sends Raft messages to the other members over gRPC: one client stream per
// peer carries batches of messages in order; snapshots go on a stream of
// their own. Everything is bounded: a peer that is slow or gone has its
// messages dropped (Raft retransmits what matters) and is reconnected with
// backoff, so it never holds up the others or the node's loop. Batches stay
// within the bounds receivers check (peer-checks.ts), and every snapshot
// image carries its SHA-256.
import type { Log } from '../log.js';
import type { ClientWritableStream } from '@grpc/grpc-js';
import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import type { MessageBatch } from '../../proto/gen/cairnpb/peer.js';
import type { Message as PbMessage } from '../../proto/gen/raftpb/raft.js';
import type { Clock, Timer } from '../clock.js';
import { MessageType, type Message } from '../raft/index.js';
import { batchBytes, batchBytesTarget } from './peer-checks.js';
import { messageToPb } from './wire.js';
import { raftNodeId } from '../membership/ids.js';
import type { PeerClient, PeerDialer } from './peer-client.js';
import { removedMemberMessage } from './peer-service.js';

export interface TransportLimits {
  /** Messages waiting for one peer; more are dropped. */
  outboxMessagesMax: number;
  /** Messages written to a peer in one batch. */
  batchMessagesMax: number;
  /** A batch is closed once it holds this many bytes (see batchBytes); it always holds one message. */
  batchBytesTarget: number;
  reconnectDelayMsMin: number;
  reconnectDelayMsMax: number;
  /** Bytes of backend image per snapshot chunk. */
  snapshotChunkBytes: number;
}

export const defaultTransportLimits: TransportLimits = {
  outboxMessagesMax: 4_096,
  batchMessagesMax: 512,
  batchBytesTarget,
  reconnectDelayMsMin: 50,
  reconnectDelayMsMax: 1_000,
  snapshotChunkBytes: 256 * 1024,
};

/** A consistent copy of the backend for a snapshot; `release` removes it. */
export interface BackendImage {
  path: string;
  release(): void;
}

export interface TransportEvents {
  /** A peer could not be reached: the leader stops streaming to it and probes. */
  unreachable(id: number): void;
  /** A snapshot was delivered (or not). */
  snapshotSent(id: number, failed: boolean): void;
  /** A peer refused our messages because this member was removed from the cluster. */
  removed(): void;
  /** A copy of the backend at or after the snapshot's index. */
  backendImage(): Promise<BackendImage>;
  /** A probe of peer `id` came back after `durationMs` (etcd_network_peer_round_trip_time_seconds). */
  roundTrip(id: number, durationMs: number): void;
  log: Log;
}

const unreachableLogIntervalMs = 30_000;
/**
 * How often each peer's round trip is measured, and how long a probe may
 * take: etcd probes every 4 s (its read timeout of 5 s less a second). A
 * probe is one small unary call (Members) on the peer's channel.
 */
const probeIntervalMs = 4_000;
const probeTimeoutMs = 5_000;

export class PeerTransport {
  /** Peers by Raft node ID (ids.ts raftNodeId). */
  private readonly peers = new Map<number, Peer>();
  private closed = false;
  private readonly prober: Timer;
  private readonly selfId: number;

  constructor(
    private readonly selfMemberId: bigint,
    private readonly clusterId: bigint,
    private readonly clock: Clock,
    private readonly dialer: PeerDialer,
    private readonly events: TransportEvents,
    private readonly limits: TransportLimits = defaultTransportLimits,
  ) {
    this.selfId = raftNodeId(selfMemberId);
    this.prober = clock.every(probeIntervalMs, () => {
      for (const peer of this.peers.values()) peer.probe();
    });
  }

  /** Sets the peer URLs of member `id` (reconnecting if they changed). */
  setPeer(id: number, peerUrls: readonly string[]): void {
    const peerUrl = peerUrls[0];
    if (id === this.selfId || this.closed || peerUrl === undefined) return;
    const existing = this.peers.get(id);
    if (existing !== undefined && existing.origin === new URL(peerUrl).origin) return;
    existing?.close();
    this.peers.set(id, new Peer(id, this.dialer.dial(peerUrl), this.selfMemberId, this.clusterId, this.clock, this.events, this.limits));
  }

  /** Forgets a removed member; late messages to it are dropped. */
  removePeer(id: number): void {
    this.peers.get(id)?.close();
    this.peers.delete(id);
  }

  peerIds(): number[] {
    return [...this.peers.keys()];
  }

  send(messages: readonly Message[]): void {
    for (const m of messages) {
      const peer = this.peers.get(m.to);
      if (peer === undefined) continue;
      if (m.type === MessageType.Snap) peer.sendSnapshot(m);
      else peer.send(m);
    }
  }

  close(): void {
    this.closed = true;
    this.prober.cancel();
    for (const peer of this.peers.values()) peer.close();
    this.peers.clear();
  }
}

class Peer {
  private outbox: PbMessage[] = [];
  private stream: ClientWritableStream<MessageBatch> | undefined;
  /** The stream's buffer is full: wait for 'drain'. */
  private congested = false;
  private flushScheduled = false;
  private retryAtMs = 0;
  private reconnectDelayMs: number;
  private sendingSnapshot = false;
  private probing = false;
  private closed = false;
  /** When this peer's failure was last logged: once per outage, then at most every unreachableLogIntervalMs. */
  private loggedAtMs = -Infinity;

  constructor(
    readonly id: number,
    private readonly client: PeerClient,
    private readonly selfMemberId: bigint,
    private readonly clusterId: bigint,
    private readonly clock: Clock,
    private readonly events: TransportEvents,
    private readonly limits: TransportLimits,
  ) {
    this.reconnectDelayMs = limits.reconnectDelayMsMin;
  }

  /** The peer URL this peer is reached at, without a path. */
  get origin(): string {
    return this.client.origin;
  }

  send(m: Message): void {
    if (this.closed) return;
    if (this.clock.nowMs() < this.retryAtMs) return; // backing off: Raft will send again
    if (this.outbox.length >= this.limits.outboxMessagesMax) {
      this.events.unreachable(this.id);
      return;
    }
    this.outbox.push(messageToPb(m));
    if (!this.flushScheduled) {
      this.flushScheduled = true;
      this.clock.soon(() => this.flush());
    }
  }

  private flush(): void {
    this.flushScheduled = false;
    if (this.closed || this.congested) return;
    const stream = this.stream ?? this.open();
    while (this.outbox.length > 0 && !this.congested) {
      const messages = this.nextBatch();
      const accepted = stream.write({ clusterId: this.clusterId, from: this.selfMemberId, messages });
      if (!accepted) {
        this.congested = true;
        stream.once('drain', () => {
          this.congested = false;
          this.flush();
        });
      }
    }
  }

  /** The messages of the next batch: as many as fit batchMessagesMax and batchBytesTarget, at least one. */
  private nextBatch(): PbMessage[] {
    let bytes = 0;
    let count = 0;
    for (; count < this.outbox.length && count < this.limits.batchMessagesMax; count++) {
      const m = this.outbox[count];
      if (m === undefined) break;
      bytes += batchBytes(m.entries, m.context.length);
      if (count > 0 && bytes > this.limits.batchBytesTarget) break;
    }
    return this.outbox.splice(0, count);
  }

  private open(): ClientWritableStream<MessageBatch> {
    const stream = this.client.messageStream((error) => {
      if (error?.details === removedMemberMessage) this.events.removed();
      if (this.stream === stream) this.broken(error?.message ?? 'closed by the peer');
    });
    stream.on('error', () => undefined);
    this.stream = stream;
    return stream;
  }

  private broken(reason: string): void {
    this.stream = undefined;
    this.congested = false;
    this.outbox = [];
    const now = this.clock.nowMs();
    this.retryAtMs = now + this.reconnectDelayMs;
    this.reconnectDelayMs = Math.min(this.reconnectDelayMs * 2, this.limits.reconnectDelayMsMax);
    if (!this.closed) {
      if (now - this.loggedAtMs > unreachableLogIntervalMs) {
        this.loggedAtMs = now;
        this.events.log.warn(`peer ${this.id.toString(16)} at ${this.origin} unreachable: ${reason}`);
      }
      this.events.unreachable(this.id);
    }
  }

  /** Measures one round trip to the peer, unless one is under way (a peer that does not answer is not probed twice at once). */
  probe(): void {
    if (this.closed || this.probing) return;
    this.probing = true;
    const startMs = this.clock.nowMs();
    this.client.members(this.clock.wallMs() + probeTimeoutMs).then(
      () => this.events.roundTrip(this.id, this.clock.nowMs() - startMs),
      () => undefined,
    ).finally(() => (this.probing = false));
  }

  /** Streams a snapshot: the MsgSnap first, then the backend image in chunks, then its size and SHA-256. One at a time. */
  sendSnapshot(m: Message): void {
    if (this.closed || this.sendingSnapshot) return;
    this.sendingSnapshot = true;
    void this.streamSnapshot(m).then(
      () => {
        this.events.log.info('sent database snapshot to member', { 'remote-peer-id': this.id.toString(16), 'snapshot-index': m.snapshot?.metadata.index });
        this.events.snapshotSent(this.id, false);
      },
      (error: Error) => {
        this.events.log.warn(`snapshot to ${this.id.toString(16)} failed: ${error.message}`);
        this.events.snapshotSent(this.id, true);
      },
    ).finally(() => (this.sendingSnapshot = false));
  }

  private async streamSnapshot(m: Message): Promise<void> {
    const image = await this.events.backendImage();
    try {
      await new Promise<void>((resolve, reject) => {
        const call = this.client.snapshotStream((error) => (error === null ? resolve() : reject(error)));
        call.on('error', () => undefined);
        call.write({ clusterId: this.clusterId, message: messageToPb(m), data: Buffer.alloc(0), totalBytes: 0n, last: false, sha256: Buffer.alloc(0) });
        const file = createReadStream(image.path, { highWaterMark: this.limits.snapshotChunkBytes });
        const sha256 = createHash('sha256');
        let total = 0;
        file.on('data', (chunk) => {
          const data = chunk as Buffer;
          total += data.length;
          sha256.update(data);
          if (!call.write({ clusterId: this.clusterId, message: undefined, data, totalBytes: 0n, last: false, sha256: Buffer.alloc(0) })) {
            file.pause();
            call.once('drain', () => file.resume());
          }
        });
        file.on('error', (error) => {
          call.cancel();
          reject(error);
        });
        file.on('end', () => {
          call.write({ clusterId: this.clusterId, message: undefined, data: Buffer.alloc(0), totalBytes: BigInt(total), last: true, sha256: sha256.digest() });
          call.end();
        });
      });
    } finally {
      image.release();
    }
  }

  close(): void {
    this.closed = true;
    this.stream?.end();
    this.stream = undefined;
    this.client.close();
  }
}
