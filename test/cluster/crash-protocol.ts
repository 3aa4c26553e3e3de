// What the crash test and its writer processes share: the key layout, the value
// every key must hold, and the IPC messages.
//
// Every key is written once, and its value is a function of the key, so the
// checker can judge any key it finds without knowing whether its put was
// acknowledged: an acknowledged key must be there; an unacknowledged one may be
// (the server may have applied it before dying) but must hold the right value.
import { createHash } from 'node:crypto';

export interface WriterConfig {
  endpoint: string;
  /** Unique per writer and cycle, e.g. `crash/<run>/c2/w1`. */
  keyPrefix: string;
  connections: number;
  clientsPerConnection: number;
  /** Puts this writer starts at most. */
  putsMax: number;
  /** Deadline of a single put. */
  requestTimeoutMs: number;
}

/** An acknowledged put: the key and the revision of the header of its PutResponse. */
export type Ack = [key: string, revision: bigint];

export interface WriterReport {
  acks: Ack[];
  /** Puts started, acknowledged or not. */
  attempted: number;
  /** Distinct `code: details` of failed puts (after the kill they are expected). */
  errors: string[];
}

export type ToWriter = { type: 'go' } | { type: 'stop' };
export type FromWriter = { type: 'ready' } | { type: 'report'; report: WriterReport } | { type: 'failed'; message: string };

const valueBytesMin = 64;

/**
 * The only value `key` may ever hold: the key, then its SHA-256 in hex repeated
 * to a length between 64 and 1084 bytes, so WAL records vary in size and a torn
 * or misplaced record cannot pass for another key's value.
 */
export function valueFor(key: string): Buffer {
  const digest = createHash('sha256').update(key).digest();
  const length = valueBytesMin + digest.readUInt8(0) * 4;
  const hex = digest.toString('hex');
  return Buffer.from(`${key}|${hex.repeat(Math.ceil(length / hex.length))}`.slice(0, Math.max(length, key.length + 1)));
}
