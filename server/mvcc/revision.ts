// A revision names one change in the store: `main` is the store revision the
// change belongs to (one per Put / DeleteRange / Txn), `sub` orders the
// changes inside it (a Txn touching three keys makes subs 0, 1, 2).
//
// In the backend a revision is the key of its record, laid out as etcd lays
// it out so that byte order equals revision order and HashKV matches etcd:
//
//   8 bytes main (big-endian) | '_' | 8 bytes sub (big-endian) [| 't']
//
// The trailing 't' marks a tombstone (the key was deleted at this revision).

export interface Revision {
  readonly main: number;
  readonly sub: number;
}

export const revisionBytesLength = 17;
export const tombstoneBytesLength = 18;
const separator = 0x5f; // '_'
const tombstoneMark = 0x74; // 't'

export function compareRevisions(a: Revision, b: Revision): number {
  return a.main !== b.main ? a.main - b.main : a.sub - b.sub;
}

export function revisionToBytes(revision: Revision, tombstone = false): Buffer {
  assertSafe(revision.main);
  const bytes = Buffer.allocUnsafe(tombstone ? tombstoneBytesLength : revisionBytesLength);
  bytes.writeBigUInt64BE(BigInt(revision.main), 0);
  bytes[8] = separator;
  bytes.writeBigUInt64BE(BigInt(revision.sub), 9);
  if (tombstone) bytes[17] = tombstoneMark;
  return bytes;
}

export function bytesToRevision(bytes: Uint8Array): Revision {
  if (bytes.length !== revisionBytesLength && bytes.length !== tombstoneBytesLength) {
    throw new Error(`revision bytes have length ${bytes.length}`);
  }
  const view = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.length);
  return { main: Number(view.readBigUInt64BE(0)), sub: Number(view.readBigUInt64BE(9)) };
}

export function isTombstoneBytes(bytes: Uint8Array): boolean {
  return bytes.length === tombstoneBytesLength && bytes[17] === tombstoneMark;
}

/** Revisions are numbers inside the server; they must stay exact. */
export function assertSafe(value: number): void {
  if (!Number.isSafeInteger(value)) throw new Error(`revision ${value} is not a safe integer`);
}
