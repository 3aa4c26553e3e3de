import { expect } from 'chai';
import {
  decodeRecord,
  encodeRecord,
  recordBytes,
  recordBytesMax,
  recordHeaderBytes,
  RecordType,
  writeRecord,
  type DecodeOutcome,
} from './record.js';

/** CRC-32C (Castagnoli, reflected, poly 0x82F63B78), bit by bit: an independent check of the framing. */
function referenceCrc32c(bytes: Uint8Array): number {
  let crc = 0xffffffff;
  for (const byte of bytes) {
    crc ^= byte;
    for (let bit = 0; bit < 8; bit++) crc = crc & 1 ? (crc >>> 1) ^ 0x82f63b78 : crc >>> 1;
  }
  return (crc ^ 0xffffffff) >>> 0;
}

/** XORs the byte at `offset` with `mask` (readUInt8 throws if offset is outside the buffer). */
function flipBits(bytes: Buffer, offset: number, mask: number): void {
  bytes.writeUInt8(bytes.readUInt8(offset) ^ mask, offset);
}

function decodedPayload(outcome: DecodeOutcome): string {
  if (outcome.kind !== 'record') throw new Error(`expected a record, got ${JSON.stringify(outcome)}`);
  return outcome.record.payload.toString();
}

describe('WAL record framing', () => {
  it('the reference CRC-32C matches the standard check value', () => {
    expect(referenceCrc32c(Buffer.from('123456789'))).to.equal(0xe3069283);
  });

  it('lays a record out as length | CRC-32C of (type + payload) | type | payload', () => {
    const bytes = encodeRecord(RecordType.hardState, Buffer.from('abc'));
    expect(bytes.length).to.equal(recordHeaderBytes + 4);
    expect(bytes.readUInt32LE(0)).to.equal(4);
    expect(bytes.readUInt32LE(4)).to.equal(referenceCrc32c(Buffer.from([RecordType.hardState, 0x61, 0x62, 0x63])));
    expect(bytes[8]).to.equal(RecordType.hardState);
    expect(bytes.subarray(9).toString()).to.equal('abc');
  });

  it('round-trips records of each type, back to back, then reports the end', () => {
    const bytes = Buffer.concat([
      encodeRecord(RecordType.entry, Buffer.from('first')),
      encodeRecord(RecordType.hardState, Buffer.alloc(0)),
      encodeRecord(RecordType.entry, Buffer.from('third')),
    ]);
    const first = decodeRecord(bytes, 0);
    expect(first).to.deep.include({ kind: 'record', next: 14 });
    expect(first.kind === 'record' && first.record.type).to.equal(RecordType.entry);
    expect(decodedPayload(first)).to.equal('first');
    const second = decodeRecord(bytes, 14);
    expect(second).to.deep.include({ kind: 'record', next: 23 });
    expect(second.kind === 'record' && second.record.type).to.equal(RecordType.hardState);
    expect(decodedPayload(second)).to.equal('');
    const third = decodeRecord(bytes, 23);
    expect(decodedPayload(third)).to.equal('third');
    expect(third).to.deep.include({ next: bytes.length });
    expect(decodeRecord(bytes, bytes.length)).to.deep.equal({ kind: 'end' });
  });

  it('frames records in place at an offset, byte for byte as encodeRecord does', () => {
    const first = Buffer.from('first');
    const second = Buffer.from('second!');
    expect(recordBytes(first)).to.equal(recordHeaderBytes + 1 + first.length);
    const target = Buffer.alloc(3 + recordBytes(first) + recordBytes(second), 0xee);
    const middle = writeRecord(target, 3, RecordType.entry, first);
    expect(middle).to.equal(3 + recordBytes(first));
    expect(writeRecord(target, middle, RecordType.hardState, second)).to.equal(target.length);
    expect(target.subarray(0, 3)).to.deep.equal(Buffer.alloc(3, 0xee));
    expect(target.subarray(3, middle)).to.deep.equal(encodeRecord(RecordType.entry, first));
    expect(target.subarray(middle)).to.deep.equal(encodeRecord(RecordType.hardState, second));
    expect(decodedPayload(decodeRecord(target, middle))).to.equal('second!');
  });

  it('round-trips a payload of every byte value', () => {
    const payload = Buffer.from(Array.from({ length: 256 }, (_, i) => i));
    const outcome = decodeRecord(encodeRecord(RecordType.entry, payload), 0);
    expect(outcome.kind === 'record' && outcome.record.payload).to.deep.equal(payload);
  });

  describe('on read', () => {
    const record = (): Buffer => encodeRecord(RecordType.entry, Buffer.from('payload'));

    it('reports a flipped payload byte as corrupt', () => {
      const bytes = record();
      flipBits(bytes, recordHeaderBytes + 3, 0x01);
      expect(decodeRecord(bytes, 0)).to.deep.equal({ kind: 'corrupt', offset: 0, reason: 'crc mismatch' });
    });

    it('reports a flipped type byte or CRC byte as corrupt', () => {
      const typeFlipped = record();
      typeFlipped[recordHeaderBytes] = RecordType.hardState;
      expect(decodeRecord(typeFlipped, 0)).to.deep.equal({ kind: 'corrupt', offset: 0, reason: 'crc mismatch' });
      const crcFlipped = record();
      flipBits(crcFlipped, 5, 0x80);
      expect(decodeRecord(crcFlipped, 0)).to.deep.equal({ kind: 'corrupt', offset: 0, reason: 'crc mismatch' });
    });

    it('reports the offset of a corrupt record after good ones', () => {
      const bad = record();
      flipBits(bad, bad.length - 1, 0xff);
      const bytes = Buffer.concat([record(), bad]);
      expect(decodeRecord(bytes, bad.length)).to.deep.equal({ kind: 'corrupt', offset: bad.length, reason: 'crc mismatch' });
    });

    it('reports an unknown record type with a good CRC as corrupt', () => {
      const bytes = encodeRecord(7 as RecordType, Buffer.from('x'));
      expect(decodeRecord(bytes, 0)).to.deep.equal({ kind: 'corrupt', offset: 0, reason: 'unknown record type 7' });
    });

    it('reports a partial header as torn', () => {
      const bytes = record().subarray(0, recordHeaderBytes - 1);
      expect(decodeRecord(bytes, 0)).to.deep.equal({ kind: 'torn', offset: 0 });
    });

    it('reports a record cut short as torn', () => {
      const whole = record();
      const bytes = Buffer.concat([whole, whole.subarray(0, whole.length - 1)]);
      expect(decodeRecord(bytes, whole.length)).to.deep.equal({ kind: 'torn', offset: whole.length });
    });

    it('reports zeros to the end as torn, but a zero length before other bytes as corrupt', () => {
      expect(decodeRecord(Buffer.alloc(64), 0)).to.deep.equal({ kind: 'torn', offset: 0 });
      const bytes = Buffer.alloc(64);
      bytes[40] = 1;
      expect(decodeRecord(bytes, 0)).to.deep.equal({ kind: 'corrupt', offset: 0, reason: 'bad record length 0' });
    });

    it('reports a length beyond the record limit as corrupt', () => {
      const bytes = record();
      bytes.writeUInt32LE(recordBytesMax + 1, 0);
      expect(decodeRecord(bytes, 0)).to.deep.equal({ kind: 'corrupt', offset: 0, reason: `bad record length ${recordBytesMax + 1}` });
    });
  });

  it('refuses to encode a record beyond the limit', () => {
    const payload = Buffer.allocUnsafe(recordBytesMax);
    expect(() => encodeRecord(RecordType.entry, payload)).to.throw(
      `wal: record of ${recordBytesMax + 1} bytes exceeds ${recordBytesMax}`,
    );
  });
});
