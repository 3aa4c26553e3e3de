import { expect } from 'chai';
import { emptySettingsFrame, FrameFlag, FrameReader, frameBytes, frameSizeDefault, FrameType, headerBlockFrames, headersParts } from './http2-frames.js';

const frameBytesMax = 65_536;

describe('HTTP/2 frames', () => {
  it('FrameReader: frames cut anywhere come out whole, in order, with what is left kept', () => {
    const ping = frameBytes(FrameType.ping, 0, 0, Buffer.alloc(8, 7));
    const data = frameBytes(FrameType.data, FrameFlag.endStream, 3, Buffer.from('hello'));
    const bytes = Buffer.concat([emptySettingsFrame(), ping, data]);
    for (let cut = 0; cut <= bytes.length; cut += 1) {
      const reader = new FrameReader(frameBytesMax);
      const frames = [...reader.push(bytes.subarray(0, cut)), ...reader.push(bytes.subarray(cut))];
      expect(frames.map((frame) => [frame.type, frame.flags, frame.streamId, frame.payload.length]), `cut at ${cut}`).to.deep.equal([
        [FrameType.settings, 0, 0, 0],
        [FrameType.ping, 0, 0, 8],
        [FrameType.data, FrameFlag.endStream, 3, 5],
      ]);
      expect(Buffer.concat(frames.map((frame) => frame.bytes)).equals(bytes)).to.equal(true);
      expect(reader.pendingBytes).to.equal(0);
    }
    const reader = new FrameReader(frameBytesMax);
    reader.push(data.subarray(0, 11));
    expect(reader.pendingBytes).to.equal(11);
    expect(reader.takePending().equals(data.subarray(0, 11))).to.equal(true);
    expect(reader.pendingBytes).to.equal(0);
  });

  it('FrameReader: refuses a frame longer than its bound as soon as the header says so', () => {
    const header = frameBytes(FrameType.data, 0, 1, Buffer.alloc(101)).subarray(0, 9);
    expect(() => new FrameReader(100).push(header)).to.throw('HTTP/2 frame of 101 bytes, longer than 100');
    expect(new FrameReader(101).push(header)).to.deep.equal([]);
  });

  it('headersParts: takes padding off and priority fields out', () => {
    const block = Buffer.from('block');
    const priority = Buffer.from([0, 0, 0, 1, 15]);
    const padded = Buffer.concat([Buffer.from([3]), priority, block, Buffer.alloc(3)]);
    const [frame] = new FrameReader(frameBytesMax).push(frameBytes(FrameType.headers, FrameFlag.padded | FrameFlag.priority | FrameFlag.endHeaders, 1, padded));
    const parts = headersParts(frame!);
    expect(parts.fragment.toString()).to.equal('block');
    expect(parts.priority?.equals(priority)).to.equal(true);
    const [bad] = new FrameReader(frameBytesMax).push(frameBytes(FrameType.headers, FrameFlag.padded, 1, Buffer.from([9, 1, 2])));
    expect(() => headersParts(bad!)).to.throw('padding longer than the payload');
  });

  it('headerBlockFrames: one HEADERS frame when the block fits, CONTINUATION frames after it when not', () => {
    const small = new FrameReader(frameBytesMax).push(headerBlockFrames(5, Buffer.from('abc'), true, undefined));
    expect(small.map((frame) => [frame.type, frame.flags, frame.streamId])).to.deep.equal([[FrameType.headers, FrameFlag.endStream | FrameFlag.endHeaders, 5]]);
    const block = Buffer.alloc(frameSizeDefault * 2 + 10, 1);
    const priority = Buffer.from([0, 0, 0, 0, 16]);
    const large = new FrameReader(frameBytesMax).push(headerBlockFrames(7, block, false, priority));
    expect(large.map((frame) => [frame.type, frame.flags, frame.payload.length])).to.deep.equal([
      [FrameType.headers, FrameFlag.priority, frameSizeDefault],
      [FrameType.continuation, 0, frameSizeDefault],
      [FrameType.continuation, FrameFlag.endHeaders, 15],
    ]);
    const joined = Buffer.concat(large.map((frame, index) => (index === 0 ? headersParts(frame).fragment : frame.payload)));
    expect(joined.equals(block)).to.equal(true);
  });
});
