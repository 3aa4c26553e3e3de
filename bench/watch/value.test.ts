import { expect } from 'chai';
import { prefixEnd } from '../../client/keys.js';
import { putKey } from './keys.js';
import { readStamp, stampValue, valueHeaderBytes } from './value.js';

describe('watch bench values and keys', () => {
  it('encodes the worked example byte for byte and reads it back', () => {
    const value = stampValue(Buffer.alloc(20, 0xaa), { sequence: 7, measured: true, sendUs: 1234.5 });
    expect(value.subarray(0, valueHeaderBytes).toString('hex')).to.equal('01000000074093' + '4a0000000000');
    expect(value[valueHeaderBytes]).to.equal(0xaa); // the filler is kept
    expect(readStamp(value)).to.deep.equal({ sequence: 7, measured: true, sendUs: 1234.5 });
  });

  it('reads a stamp from a view into a larger buffer', () => {
    const backing = Buffer.alloc(64);
    const value = backing.subarray(10, 10 + valueHeaderBytes);
    stampValue(value, { sequence: 3, measured: false, sendUs: 9 });
    // Buffers from the pool (and protobuf-decoded bytes) are views at an offset into a larger ArrayBuffer.
    expect(readStamp(value)).to.deep.equal({ sequence: 3, measured: false, sendUs: 9 });
    expect(readStamp(new Uint8Array(backing.buffer, backing.byteOffset + 10, valueHeaderBytes))).to.deep.equal({ sequence: 3, measured: false, sendUs: 9 });
  });

  it('refuses values the writer did not write', () => {
    expect(readStamp(Buffer.alloc(valueHeaderBytes - 1))).to.equal(undefined);
    expect(readStamp(Buffer.alloc(valueHeaderBytes, 7))).to.equal(undefined);
    expect(() => stampValue(Buffer.alloc(4), { sequence: 0, measured: true, sendUs: 0 })).to.throw('value must have at least 13 bytes');
  });

  it('computes prefix range ends as etcd clients do, and keys that sort in put order', () => {
    expect(prefixEnd(Buffer.from('a/')).toString()).to.equal('a0');
    expect(prefixEnd(Buffer.from([0x61, 0xff]))).to.deep.equal(Buffer.from([0x62]));
    expect(prefixEnd(Buffer.from([0xff, 0xff]))).to.deep.equal(Buffer.from([0]));
    expect(putKey('p/', 9).toString() < putKey('p/', 10).toString()).to.equal(true);
  });
});
