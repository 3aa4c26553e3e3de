// Receives one snapshot on the peer Snapshot stream: the first chunk carries
// the MsgSnap (checked as any peer message: sender, recipient, bounds), the
// following ones the backend image, the last one its size and SHA-256. The
// image goes to a file of its own in the snapshot directory; the node gets it
// only once it is complete, fsynced and matches its checksum. Any failure
// fails this transfer alone: the file is removed, the sender told why (it
// reports the snapshot failed, and the leader tries again later).
import type { Log } from '../log.js';
import { status, type sendUnaryData, type ServerReadableStream } from '@grpc/grpc-js';
import { createHash } from 'node:crypto';
import { closeSync, fsyncSync, openSync, rmSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import type { SnapshotChunk, SnapshotReceived } from '../../proto/gen/cairnpb/peer.js';
import type { Message } from '../raft/index.js';
import { UndecodableRequest } from '../grpc/request-streams.js';
import { snapshotMessageTypes } from './peer-checks.js';
import type { Refusal } from './peer-service.js';
import type { PbMessage } from './wire.js';

/** Largest snapshot accepted, in bytes: more is a broken or hostile peer. */
const snapshotBytesMax = 64 * 1024 * 1024 * 1024;

export interface SnapshotReceiverParts {
  /** Where images are received (the backend installs them from there). */
  dir: string;
  /** Why a stream from `from` claiming cluster `clusterId` is refused, or undefined. */
  senderRefusal(clusterId: bigint, from: bigint): Refusal | undefined;
  /** The message if it passes the peer checks for `allowed` types, or undefined (logged). */
  admit(pb: PbMessage, from: bigint, allowed: ReadonlySet<string>): Message | undefined;
  /** The image at `path` is complete and verified; it is the node's from now on. */
  deliver(m: Message, path: string): void;
  log: Log;
}

/** Images received by this process: each gets a file name of its own. */
let received = 0;

export function receiveSnapshot(call: ServerReadableStream<SnapshotChunk, SnapshotReceived>, callback: sendUnaryData<SnapshotReceived>, parts: SnapshotReceiverParts): void {
  let message: Message | undefined;
  let fd = -1;
  let path = '';
  let bytes = 0;
  let done = false;
  const sha256 = createHash('sha256');

  const fail = (code: status, details: string): void => {
    if (done) return;
    done = true;
    try {
      if (fd >= 0) closeSync(fd);
      if (path !== '') rmSync(path, { force: true });
    } catch (error) {
      parts.log.warn(`could not remove the partial snapshot ${path}: ${(error as Error).message}`);
    }
    if (message !== undefined) parts.log.warn(`refused a snapshot from ${message.from.toString(16)}: ${details}`);
    callback({ code, details });
  };

  /** The first chunk: who sends what. Returns false when the transfer was refused. */
  const start = (chunk: SnapshotChunk): boolean => {
    if (chunk.message === undefined) {
      fail(status.INVALID_ARGUMENT, 'the first chunk of a snapshot carries its MsgSnap');
      return false;
    }
    const refusal = parts.senderRefusal(chunk.clusterId, chunk.message.from);
    if (refusal !== undefined) {
      fail(refusal.code, refusal.details);
      return false;
    }
    const m = parts.admit(chunk.message, chunk.message.from, snapshotMessageTypes);
    if (m === undefined) {
      fail(status.INVALID_ARGUMENT, 'the MsgSnap was refused by the peer checks');
      return false;
    }
    message = m;
    path = join(parts.dir, `incoming-${m.from.toString(16)}-${m.snapshot?.metadata.index ?? 0}-${++received}.mdb`);
    fd = openSync(path, 'wx');
    return true;
  };

  const finish = (chunk: SnapshotChunk, m: Message): void => {
    if (Number(chunk.totalBytes) !== bytes) return fail(status.DATA_LOSS, `snapshot of ${bytes} bytes, sender says ${chunk.totalBytes}`);
    const digest = sha256.digest();
    if (!digest.equals(chunk.sha256)) return fail(status.DATA_LOSS, `snapshot checksum mismatch: received SHA-256 ${digest.toString('hex')}, sender says ${Buffer.from(chunk.sha256).toString('hex')}`);
    fsyncSync(fd);
    closeSync(fd);
    fd = -1;
    try {
      parts.deliver(m, path);
    } catch (error) {
      return fail(status.INTERNAL, `the node could not take the snapshot: ${(error as Error).message}`);
    }
    done = true;
    callback(null, {});
  };

  call.on('data', (chunk: SnapshotChunk | UndecodableRequest) => {
    if (done) return;
    if (chunk instanceof UndecodableRequest) return fail(status.INTERNAL, `a snapshot chunk does not decode (${chunk.reason})`);
    try {
      if (message === undefined && !start(chunk)) return;
      const m = message!;
      if (chunk.data.length > 0) {
        bytes += chunk.data.length;
        if (bytes > snapshotBytesMax) return fail(status.RESOURCE_EXHAUSTED, 'snapshot too large');
        sha256.update(chunk.data);
        let written = 0;
        while (written < chunk.data.length) written += writeSync(fd, chunk.data, written);
      }
      if (chunk.last) finish(chunk, m);
    } catch (error) {
      fail(status.INTERNAL, (error as Error).message);
    }
  });
  call.on('end', () => fail(status.DATA_LOSS, 'snapshot stream ended early'));
  call.on('error', () => fail(status.CANCELLED, 'snapshot stream broke'));
}
