import { expect } from 'chai';
import { status } from '@grpc/grpc-js';
import { gzipSync } from 'node:zlib';
import { CallStatusError, frameLent, frameMessage, MessageReader, messageBytes, timeoutMsOf } from './framing.js';

const bytes = (length: number, fill: number): Buffer => Buffer.alloc(length, fill);

describe('gRPC framing (serving/framing.ts)', () => {
  it('reassembles messages cut anywhere: several in one chunk, one over many chunks, a prefix split in two', () => {
    const messages = [bytes(3, 1), bytes(0, 0), bytes(70_000, 2), bytes(10, 3)];
    const stream = Buffer.concat(messages.map(frameMessage));
    for (const cut of [1, 2, 4, 5, 7, 1_000, 16_384, stream.length]) {
      const reader = new MessageReader(100_000);
      const read: Buffer[] = [];
      for (let offset = 0; offset < stream.length; offset += cut) read.push(...reader.push(stream.subarray(offset, offset + cut)).map((message) => Buffer.from(message.bytes)));
      expect(read.map((message) => message.length), `cut every ${cut} bytes`).to.deep.equal([3, 0, 70_000, 10]);
      expect(read.every((message, i) => message.equals(messages[i] as Buffer))).to.equal(true);
      expect(reader.partial).to.equal(false);
    }
  });

  it('frames lent messages into the bytes frameMessage gives each, concatenated', () => {
    const messages = [bytes(3, 1), bytes(0, 0), bytes(300, 2), bytes(70_000, 3)];
    const laidOut = Buffer.concat(messages);
    let end = 0;
    const ends = messages.map((message) => (end += message.length));
    expect(frameLent(laidOut, ends).equals(Buffer.concat(messages.map(frameMessage)))).to.equal(true);
    expect(frameLent(laidOut.subarray(0, 3), [3]).equals(frameMessage(bytes(3, 1)))).to.equal(true);
    expect(frameLent(Buffer.alloc(0), []).length).to.equal(0);
  });

  it('refuses a message over the limit as soon as its prefix is read, with grpc-js’s details', () => {
    const reader = new MessageReader(10);
    const framed = frameMessage(bytes(11, 1));
    expect(reader.push(framed.subarray(0, 3))).to.deep.equal([]);
    expect(() => reader.push(framed.subarray(3, 6))).to.throw(CallStatusError, 'Received message larger than max (11 vs 10)').with.property('code', status.RESOURCE_EXHAUSTED);
  });

  it('a compressed message is inflated with the call’s encoding, bounded by the limit; an unknown encoding is UNIMPLEMENTED', () => {
    const zipped = { compressed: true, bytes: gzipSync(bytes(500, 7)) };
    expect(messageBytes(zipped, 'gzip', 1_000).equals(bytes(500, 7))).to.equal(true);
    expect(() => messageBytes(zipped, 'gzip', 100)).to.throw('Received message that decompresses to a size larger than 100');
    expect(() => messageBytes(zipped, 'snappy', 1_000)).to.throw('Received message compressed with unsupported encoding "snappy"');
    expect(() => messageBytes({ compressed: true, bytes: bytes(5, 1) }, 'deflate', 1_000)).to.throw('Failed to decompress message');
  });

  it('grpc-timeout in every unit; an unreadable one is INTERNAL as grpc-js says it', () => {
    expect([timeoutMsOf('2H'), timeoutMsOf('3M'), timeoutMsOf('4S'), timeoutMsOf('5m'), timeoutMsOf('6000u'), timeoutMsOf('7000000n')]).to.deep.equal([7_200_000, 180_000, 4_000, 5, 6, 7]);
    expect(() => timeoutMsOf('soon')).to.throw('Invalid grpc-timeout value "soon"');
  });
});
