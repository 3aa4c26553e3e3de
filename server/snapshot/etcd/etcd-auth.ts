// etcd 3.4's auth store, read from its three buckets (facts from etcd's
// auth/store.go; the code is ours) into cairn's StoredAuth:
//
//   bucket "auth":      "authEnabled" → 1 byte (1 on, 0 off; absent: never enabled)
//                       "authRevision" → 8 bytes big-endian
//   bucket "authUsers": user name → authpb.User
//   bucket "authRoles": role name → authpb.Role
//
// etcd and cairn keep users and roles as the same authpb messages, passwords
// as the same bcrypt hashes, users' roles sorted and roles' permissions
// sorted by key, and list both in byte order of their names (bbolt's key
// order here, compareNames in server/auth/store.ts): they carry over as they
// are, and users log in with the passwords they had.
import type { StoredAuth } from '../../../proto/gen/cairnpb/internal.js';
import { Role, User } from '../../../proto/gen/authpb/auth.js';
import type { BoltBucket } from './bbolt.js';
import { EtcdSnapshotLayoutError } from './errors.js';

/** The auth store of etcd backend `root`; undefined when it has no bucket "auth" (etcd creates it on first start). */
export function readEtcdAuth(root: BoltBucket): StoredAuth | undefined {
  const auth = root.bucket('auth');
  if (auth === undefined) return undefined;
  return {
    enabled: enabledFlag(auth.value('authEnabled')),
    revision: authRevision(auth.value('authRevision')),
    users: named(root.bucket('authUsers'), 'authUsers', (bytes) => User.decode(bytes)),
    roles: named(root.bucket('authRoles'), 'authRoles', (bytes) => Role.decode(bytes)),
  };
}

function enabledFlag(bytes: Buffer | undefined): boolean {
  if (bytes === undefined) return false;
  if (bytes.length !== 1 || (bytes[0] !== 0 && bytes[0] !== 1)) {
    throw new EtcdSnapshotLayoutError(`auth "authEnabled" is ${bytes.toString('hex')}, not 00 or 01`);
  }
  return bytes[0] === 1;
}

/** etcd writes revision 1 when it creates the store; a missing record reads as that. */
function authRevision(bytes: Buffer | undefined): bigint {
  if (bytes === undefined) return 1n;
  if (bytes.length !== 8) throw new EtcdSnapshotLayoutError(`auth "authRevision" has ${bytes.length} bytes, not 8`);
  return bytes.readBigUInt64BE(0);
}

/** Every record of `bucket` (none when etcd never created it), each checked to be stored under its own name. */
function named<T extends { name: Uint8Array }>(bucket: BoltBucket | undefined, what: string, decode: (bytes: Buffer) => T): T[] {
  const records: T[] = [];
  for (const entry of bucket?.entries() ?? []) {
    if (entry.kind !== 'value') throw new EtcdSnapshotLayoutError(`bucket "${what}" holds a bucket ${entry.key.toString('hex')}`);
    let record: T;
    try {
      record = decode(entry.value);
    } catch (error) {
      throw new EtcdSnapshotLayoutError(`${what} ${JSON.stringify(entry.key.toString())}: cannot decode the record: ${(error as Error).message}`, { cause: error });
    }
    if (!Buffer.from(record.name).equals(entry.key)) {
      throw new EtcdSnapshotLayoutError(`${what} ${JSON.stringify(entry.key.toString())}: the record is named ${JSON.stringify(Buffer.from(record.name).toString())}`);
    }
    records.push(record);
  }
  return records;
}
