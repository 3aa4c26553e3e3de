import { expect } from 'chai';
import { MessageBatch } from '../../proto/gen/cairnpb/peer.js';
import { Message } from '../../proto/gen/raftpb/raft.js';
import { encodeMessage } from '../codec.js';
import { serializeBatch } from './peer-client.js';

/** A batch as a leader sends it: an append with entries, and a heartbeat. */
function batchOf(entries: number, dataBytes: number): MessageBatch {
  const append = Message.fromPartial({
    type: 3, to: 2n, from: 1n, term: 4n, logTerm: 4n, index: 100n, commit: 99n,
    entries: Array.from({ length: entries }, (_, i) => ({ type: 0, term: 4n, index: BigInt(101 + i), data: Buffer.alloc(dataBytes, i) })),
  });
  const heartbeat = Message.fromPartial({ type: 8, to: 3n, from: 1n, term: 4n, commit: 99n, context: Buffer.from('ctx') });
  return { clusterId: 0xdead_beef_0000_0001n, from: 1n, messages: [append, heartbeat] };
}

describe('peer client: serializing a batch of Raft messages', () => {
  it('gives the generated encoder\'s bytes, small and large batches alike', () => {
    for (const [entries, dataBytes] of [[0, 0], [1, 300], [64, 1024], [3, 5 * 1024 * 1024]] as const) {
      const batch = batchOf(entries, dataBytes);
      expect(serializeBatch(batch).equals(Buffer.from(MessageBatch.encode(batch).finish())), `${entries} entries of ${dataBytes} B`).to.equal(true);
    }
  });

  it('hands out bytes of their own: a later encode does not change them', () => {
    const batch = batchOf(2, 300);
    const serialized = serializeBatch(batch);
    const copy = Buffer.from(serialized);
    encodeMessage(MessageBatch, batchOf(5, 700));
    serializeBatch(batchOf(1, 64));
    expect(serialized.equals(copy)).to.equal(true);
    expect(MessageBatch.decode(serialized)).to.deep.equal(MessageBatch.decode(copy));
  });
});
