import { silentLog } from '../log.js';
import { expect } from 'chai';
import { status, type sendUnaryData, type ServerReadableStream, type ServiceError } from '@grpc/grpc-js';
import { createHash, randomBytes } from 'node:crypto';
import { EventEmitter } from 'node:events';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { SnapshotChunk, SnapshotReceived } from '../../proto/gen/cairnpb/peer.js';
import { MessageType as PbMessageType, type Message as PbMessage } from '../../proto/gen/raftpb/raft.js';
import type { Message } from '../raft/index.js';
import { messageRefusal } from './peer-checks.js';
import { receiveSnapshot, type SnapshotReceiverParts } from './snapshot-receiver.js';
import type { Refusal } from './peer-service.js';
import { messageFromPb } from './wire.js';

const clusterId = 7n;
const self = 1;
const leader = 2n;

const snapMessage: PbMessage = {
  type: PbMessageType.MsgSnap, to: BigInt(self), from: leader, term: 5n, logTerm: 0n, index: 0n, entries: [], commit: 0n,
  snapshot: { data: Buffer.alloc(0), metadata: { index: 100n, term: 5n, confState: { voters: [1n, 2n, 3n], learners: [] } } },
  reject: false, rejectHint: 0n, context: Buffer.alloc(0),
};

function chunk(fields: Partial<SnapshotChunk>): SnapshotChunk {
  return { clusterId, message: undefined, data: Buffer.alloc(0), totalBytes: 0n, last: false, sha256: Buffer.alloc(0), ...fields };
}

interface Outcome {
  error: Partial<ServiceError> | null;
  delivered: Array<{ m: Message; path: string; image: Buffer }>;
  filesLeft: string[];
}

/** Feeds `chunks` to a receiver over a fake stream; resolves with its answer. */
async function receive(chunks: SnapshotChunk[], senderRefusal: (clusterId: bigint, from: bigint) => Refusal | undefined = () => undefined): Promise<Outcome> {
  const dir = mkdtempSync(join(tmpdir(), 'snapshot-receiver-'));
  const delivered: Outcome['delivered'] = [];
  const call = new EventEmitter() as unknown as ServerReadableStream<SnapshotChunk, SnapshotReceived>;
  const parts: SnapshotReceiverParts = {
    dir,
    senderRefusal,
    admit: (pb, from, allowed) => {
      const m = messageFromPb(pb);
      return messageRefusal(m, self, Number(from), allowed) === undefined ? m : undefined;
    },
    deliver: (m, path) => delivered.push({ m, path, image: readFileSync(path) }),
    log: silentLog,
  };
  try {
    const error = await new Promise<Partial<ServiceError> | null>((resolve) => {
      const callback: sendUnaryData<SnapshotReceived> = (answer) => resolve(answer as Partial<ServiceError> | null);
      receiveSnapshot(call, callback, parts);
      for (const each of chunks) call.emit('data', each);
      call.emit('end');
    });
    return { error, delivered, filesLeft: readdirSync(dir).filter((name) => !delivered.some((d) => d.path.endsWith(name))) };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

function transfer(image: Buffer, sha256: Buffer): SnapshotChunk[] {
  return [
    chunk({ message: snapMessage }),
    chunk({ data: image.subarray(0, image.length / 2) }),
    chunk({ data: image.subarray(image.length / 2) }),
    chunk({ totalBytes: BigInt(image.length), last: true, sha256 }),
  ];
}

describe('snapshot receiver', () => {
  const image = randomBytes(64 * 1024);
  const sha256 = createHash('sha256').update(image).digest();

  it('hands a complete image whose checksum matches to the node', async () => {
    const outcome = await receive(transfer(image, sha256));
    expect(outcome.error).to.equal(null);
    expect(outcome.delivered).to.have.length(1);
    const [delivered] = outcome.delivered;
    expect(delivered?.image.equals(image)).to.equal(true);
    expect(delivered?.m.snapshot?.metadata.index).to.equal(100);
  });

  it('refuses an image whose checksum does not match (DATA_LOSS) and removes the file', async () => {
    const wrong = createHash('sha256').update(image).update('x').digest();
    for (const claimed of [wrong, Buffer.alloc(0)]) {
      const outcome = await receive(transfer(image, claimed));
      expect(outcome.error?.code).to.equal(status.DATA_LOSS);
      expect(outcome.error?.details).to.match(/checksum mismatch/);
      expect(outcome.delivered).to.have.length(0);
      expect(outcome.filesLeft).to.deep.equal([]);
    }
  });

  it('refuses an image of another size than the sender says, or a stream that ends early', async () => {
    const short = transfer(image, sha256);
    short[3] = chunk({ totalBytes: BigInt(image.length + 1), last: true, sha256 });
    expect((await receive(short)).error?.code).to.equal(status.DATA_LOSS);
    const cut = await receive(transfer(image, sha256).slice(0, 2));
    expect(cut.error?.details).to.match(/ended early/);
    expect(cut.filesLeft).to.deep.equal([]);
  });

  it('refuses a stream whose sender is refused, or whose first chunk is not a MsgSnap to this member', async () => {
    const refused = await receive(transfer(image, sha256), () => ({ code: status.FAILED_PRECONDITION, details: 'not a member' }));
    expect(refused.error?.code).to.equal(status.FAILED_PRECONDITION);
    const heartbeat = await receive([chunk({ message: { ...snapMessage, type: PbMessageType.MsgHeartbeat, snapshot: undefined } })]);
    expect(heartbeat.error?.code).to.equal(status.INVALID_ARGUMENT);
    const elsewhere = await receive([chunk({ message: { ...snapMessage, to: 3n } })]);
    expect(elsewhere.error?.code).to.equal(status.INVALID_ARGUMENT);
    const bare = await receive([chunk({ data: image })]);
    expect(bare.error?.code).to.equal(status.INVALID_ARGUMENT);
  });
});
