// The snapshot trailer check: the last 32 bytes must be the SHA-256 of the
// bytes before them, however the stream was cut into messages.
import { expect } from 'chai';
import { createHash } from 'node:crypto';
import { SnapshotChecksumError } from './errors.js';
import { SnapshotVerifier } from './snapshot.js';

function stream(body: Buffer): Buffer {
  return Buffer.concat([body, createHash('sha256').update(body).digest()]);
}

function feed(bytes: Buffer, cuts: number[]): SnapshotVerifier {
  const verifier = new SnapshotVerifier();
  let from = 0;
  for (const cut of [...cuts, bytes.length]) {
    verifier.update(bytes.subarray(from, cut));
    from = cut;
  }
  return verifier;
}

describe('client snapshot verifier', () => {
  const body = Buffer.from('lmdb or bbolt pages '.repeat(100));
  const whole = stream(body);

  it('accepts a stream whose trailer matches, however it is cut', () => {
    for (const cuts of [[], [body.length], [10, 11, body.length + 5], [whole.length - 1], [1, 2, 3]]) {
      const verifier = feed(whole, cuts);
      verifier.finish();
      expect(verifier.info()).to.deep.equal({ sizeBytes: whole.length, sha256: whole.subarray(body.length) });
    }
  });

  it('refuses a corrupted byte, a cut-off stream and one shorter than the trailer', () => {
    const corrupted = Buffer.from(whole);
    corrupted.writeUInt8(corrupted.readUInt8(5) ^ 1, 5);
    expect(() => feed(corrupted, [100]).finish()).to.throw(SnapshotChecksumError, /mismatch/);
    expect(() => feed(whole.subarray(0, whole.length - 1), []).finish()).to.throw(SnapshotChecksumError);
    expect(() => feed(Buffer.alloc(31), []).finish()).to.throw(SnapshotChecksumError, /too short/);
    expect(() => feed(Buffer.alloc(0), []).info()).to.throw(Error);
  });
});
