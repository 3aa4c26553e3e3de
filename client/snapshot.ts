// The integrity check of a snapshot stream: etcd sends the backend's bytes
// and then, as the last 32 bytes, their SHA-256 (etcd's maintenance.go; the
// trailer `etcdctl snapshot save` keeps in the file and restore verifies).
//
// The trailer is recognised by position, not by message: the last 32 bytes
// seen are held back from the hash until more bytes push them out, so the
// check does not depend on how the server cut the stream into messages.
//   chunks "abcd", "ef" + 32-byte trailer T:
//   after "abcd": hash nothing yet, hold "abcd" (fewer than 32 bytes held)
//   after "ef…T": hash "abcdef", hold T → finish(): sha256("abcdef") = T?
import { createHash, type Hash } from 'node:crypto';
import { SnapshotChecksumError } from './errors.js';

/** Length of the SHA-256 trailer. */
const trailerBytes = 32;

/** What was saved. */
export interface SnapshotInfo {
  /** Bytes written: the backend's and the 32-byte trailer. */
  sizeBytes: number;
  /** The SHA-256 of the backend's bytes (the trailer), checked. */
  sha256: Buffer;
}

/** Hashes a snapshot stream as it passes and checks its trailer at the end. */
export class SnapshotVerifier {
  private readonly hash: Hash = createHash('sha256');
  private held: Buffer = Buffer.alloc(0);
  private sizeBytes = 0;
  private trailer: Buffer | undefined;

  /** Takes the next bytes of the stream. */
  update(chunk: Buffer): void {
    this.sizeBytes += chunk.length;
    const joined = this.held.length === 0 ? chunk : Buffer.concat([this.held, chunk]);
    const hashable = joined.length - trailerBytes;
    if (hashable <= 0) {
      this.held = Buffer.from(joined);
      return;
    }
    this.hash.update(joined.subarray(0, hashable));
    this.held = Buffer.from(joined.subarray(hashable));
  }

  /** Checks the trailer once the stream ended; throws `SnapshotChecksumError` when it does not match. */
  finish(): void {
    if (this.held.length < trailerBytes) throw new SnapshotChecksumError(`snapshot of ${this.sizeBytes} bytes is too short for its SHA-256 trailer`);
    const digest = this.hash.digest();
    if (!digest.equals(this.held)) {
      throw new SnapshotChecksumError(`snapshot SHA-256 mismatch: the stream's trailer is ${this.held.toString('hex')}, its bytes hash to ${digest.toString('hex')}`);
    }
    this.trailer = this.held;
  }

  /** What `finish` checked. */
  info(): SnapshotInfo {
    if (this.trailer === undefined) throw new Error('snapshot: info() before a successful finish()');
    return { sizeBytes: this.sizeBytes, sha256: this.trailer };
  }
}
