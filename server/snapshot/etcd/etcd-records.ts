// The records of etcd 3.4's backend, decoded from the bytes a bbolt bucket
// holds, each checked (facts from etcd's mvcc/kvstore.go, mvcc/revision.go,
// lease/leasepb/lease.proto; the code is ours):
//
//   bucket "key":   revision key (17 bytes, 18 with the tombstone mark 't') → mvccpb.KeyValue
//   bucket "lease": lease ID, 8 bytes big-endian → leasepb.Lease {ID = 1, TTL = 2, RemainingTTL = 3}
//   bucket "meta":  "consistent_index" → 8 bytes big-endian;
//                   "scheduledCompactRev", "finishedCompactRev" → a revision key
//
// A revision key lays out main and sub as cairn's backend does (server/mvcc/revision.ts).
import { StoredLease } from '../../../proto/gen/cairnpb/internal.js';
import { KeyValue } from '../../../proto/gen/mvccpb/kv.js';
import { isTombstoneBytes, revisionBytesLength, tombstoneBytesLength, type Revision } from '../../mvcc/revision.js';
import { EtcdSnapshotLayoutError } from './errors.js';

const separator = 0x5f; // '_'

/** A record's revision key, decoded. */
export interface RevisionKey {
  readonly revision: Revision;
  /** The key was deleted at this revision (the 18th byte 't'). */
  readonly tombstone: boolean;
}

/** A lease as etcd stores it. RemainingTTL (a checkpoint of the time left) is not read: a restore grants the full TTL, as etcd does. */
export interface EtcdLease {
  readonly id: bigint;
  readonly ttlSeconds: bigint;
}

/** Decodes a key of bucket "key" (or a compaction revision of "meta"); `what` names it in errors. */
export function decodeRevisionKey(bytes: Buffer, what: string): RevisionKey {
  const tombstone = isTombstoneBytes(bytes);
  if ((bytes.length !== revisionBytesLength && !tombstone) || bytes[8] !== separator) {
    throw new EtcdSnapshotLayoutError(`${what}: ${bytes.toString('hex')} is no revision key (8 bytes, '_', 8 bytes[, 't'])`);
  }
  return { revision: { main: safeRevision(bytes, 0, what), sub: safeRevision(bytes, 9, what) }, tombstone };
}

/** Decodes a value of bucket "key"; `revision` names it in errors. A tombstone's KeyValue carries only its key, as etcd writes it. */
export function decodeKeyValue(bytes: Buffer, revision: Revision): KeyValue {
  const kv = decodeOrThrow(() => KeyValue.decode(bytes), `revision ${revision.main}.${revision.sub}`);
  if (kv.key.length === 0) throw new EtcdSnapshotLayoutError(`revision ${revision.main}.${revision.sub}: the KeyValue has an empty key`);
  return kv;
}

/** Decodes an entry of bucket "lease": leasepb.Lease shares fields 1 and 2 with cairn's StoredLease, which skips field 3. */
export function decodeLease(key: Buffer, value: Buffer): EtcdLease {
  if (key.length !== 8) throw new EtcdSnapshotLayoutError(`lease key ${key.toString('hex')} is not 8 bytes`);
  const stored = decodeOrThrow(() => StoredLease.decode(value), `lease ${key.toString('hex')}`);
  if (stored.ID !== key.readBigInt64BE(0)) {
    throw new EtcdSnapshotLayoutError(`lease ${key.toString('hex')}: the record holds ID ${stored.ID}`);
  }
  return { id: stored.ID, ttlSeconds: stored.TTL };
}

/** Decodes meta "consistent_index": the Raft index of the last entry applied to the backend. */
export function decodeConsistentIndex(bytes: Buffer): number {
  if (bytes.length !== 8) throw new EtcdSnapshotLayoutError(`consistent_index has ${bytes.length} bytes, not 8`);
  const index = bytes.readBigUInt64BE(0);
  if (index > BigInt(Number.MAX_SAFE_INTEGER)) throw new EtcdSnapshotLayoutError(`consistent_index ${index} is past 2^53`);
  return Number(index);
}

/** The signed 64-bit revision at `offset`: positive and exact as a number (cairn keeps revisions as numbers). */
function safeRevision(bytes: Buffer, offset: number, what: string): number {
  const value = bytes.readBigInt64BE(offset);
  if (value < 0n || value > BigInt(Number.MAX_SAFE_INTEGER)) {
    throw new EtcdSnapshotLayoutError(`${what}: revision ${value} is outside [0, 2^53)`);
  }
  return Number(value);
}

function decodeOrThrow<T>(decode: () => T, what: string): T {
  try {
    return decode();
  } catch (error) {
    throw new EtcdSnapshotLayoutError(`${what}: cannot decode the record: ${(error as Error).message}`, { cause: error });
  }
}
