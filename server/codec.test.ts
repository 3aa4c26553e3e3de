import { expect } from 'chai';
import { encodeMessage, lendEncoded, lendEncodedOne } from './codec.js';
import { KeyValue } from '../proto/gen/mvccpb/kv.js';
import { Entry, EntryType } from '../proto/gen/raftpb/raft.js';

function keyValue(key: string, valueBytes: number, modRevision: bigint): KeyValue {
  return { key: Buffer.from(key), value: Buffer.alloc(valueBytes, 7), createRevision: 2n, modRevision, version: 3n, lease: 0x7fn };
}

/** ts-proto's own encoding, with a writer of its own: what every path of the codec must give. */
function generated(kv: KeyValue): Buffer {
  return Buffer.from(KeyValue.encode(kv).finish());
}

describe('codec', () => {
  it('encodeMessage gives ts-proto\'s bytes, in a buffer later encodes leave alone', () => {
    const first = keyValue('a', 10, 5n);
    const bytes = encodeMessage(KeyValue, first);
    encodeMessage(KeyValue, keyValue('b', 300, 6n));
    lendEncodedOne(KeyValue, keyValue('c', 20, 7n));
    expect(bytes.equals(generated(first))).to.equal(true);
    expect(bytes.byteLength).to.equal(bytes.buffer.byteLength, 'an owned buffer has its memory to itself');
  });

  it('lendEncodedOne gives ts-proto\'s bytes, lent until the next encode overwrites them', () => {
    const kv = keyValue('lent', 40, 9n);
    const lent = lendEncodedOne(KeyValue, kv);
    expect(Buffer.from(lent).equals(generated(kv))).to.equal(true);
    lendEncodedOne(KeyValue, keyValue('next', 40, 10n));
    expect(Buffer.from(lent).equals(generated(kv))).to.equal(false, 'the view is of the shared writer: the next encode writes over it');
  });

  it('lendEncoded lays messages out one after another, each ending where `ends` says', () => {
    const entries = [1n, 2n, 200n].map((index) => Entry.fromPartial({ term: 4n, index, type: EntryType.EntryNormal, data: Buffer.alloc(Number(index), 1) }));
    const { bytes, ends } = lendEncoded(Entry, entries);
    expect(ends).to.have.length(3);
    entries.forEach((entry, i) => {
      const own = Buffer.from(bytes.subarray(ends[i - 1] ?? 0, ends[i]));
      expect(own.equals(Buffer.from(Entry.encode(entry).finish()))).to.equal(true, `entry ${i}`);
    });
    expect(lendEncoded(Entry, []).bytes.length).to.equal(0);
  });

  it('keeps working after an encode that throws, and after a message past the shared writer\'s bound', () => {
    expect(() => encodeMessage(KeyValue, { ...keyValue('bad', 1, 1n), version: 1n << 70n })).to.throw();
    const large = keyValue('large', 5 * 1024 * 1024, 11n);
    expect(encodeMessage(KeyValue, large).equals(generated(large))).to.equal(true);
    const small = keyValue('small', 3, 12n);
    expect(Buffer.from(lendEncodedOne(KeyValue, small)).equals(generated(small))).to.equal(true);
    expect(encodeMessage(KeyValue, small).equals(generated(small))).to.equal(true);
  });
});
