// A user's key permissions, merged from all its roles into two sets of key
// intervals (read, write), as etcd's range permission cache does
// (auth/range_perm_cache.go). A permission or a request names a key, or a
// range [key, rangeEnd), where rangeEnd "\0" means "every key from key on".
//
// Worked example. Role a grants READ on [foo, fop) (prefix "foo"), role b
// READ on the key "fop" alone and READWRITE on [g, "\0"):
//
//   read:  [foo, fop)  [fop, fop\0)  [g, ∞)
//   write: [g, ∞)
//
// Reading the key "foo1" is allowed (a point inside [foo, fop)); reading
// the range [foo, fop\0) is allowed too: the intervals [foo, fop) and
// [fop, fop\0) meet, so together they cover it. Reading [foo, g) is not:
// nothing covers the keys after "fop\0" and before "g". Writing "h" is.
import { Permission_Type, type Permission, type Role } from '../../proto/gen/authpb/auth.js';

/** A half-open interval of keys; `end` undefined means no end (every key from `begin` on). */
interface KeyInterval {
  begin: Buffer;
  end: Buffer | undefined;
}

export class KeyPermissions {
  private constructor(private readonly read: readonly KeyInterval[], private readonly write: readonly KeyInterval[]) {}

  /** The permissions the roles grant together (roles the store does not hold are skipped by the caller). */
  static merge(roles: readonly Role[]): KeyPermissions {
    const read: KeyInterval[] = [];
    const write: KeyInterval[] = [];
    for (const role of roles) {
      for (const permission of role.keyPermission) {
        const interval = permissionInterval(permission);
        if (permission.permType !== Permission_Type.WRITE) read.push(interval);
        if (permission.permType !== Permission_Type.READ) write.push(interval);
      }
    }
    return new KeyPermissions(sorted(read), sorted(write));
  }

  /** Whether the user may read the key, or every key of [key, rangeEnd) when rangeEnd is given. */
  canRead(key: Uint8Array, rangeEnd: Uint8Array = Buffer.alloc(0)): boolean {
    return covers(this.read, key, rangeEnd);
  }

  /** Whether the user may write the key, or every key of [key, rangeEnd). */
  canWrite(key: Uint8Array, rangeEnd: Uint8Array = Buffer.alloc(0)): boolean {
    return covers(this.write, key, rangeEnd);
  }
}

/** A permission with no range_end grants its key alone: [key, key + "\0"). */
function permissionInterval(permission: Permission): KeyInterval {
  const begin = Buffer.from(permission.key);
  if (permission.rangeEnd.length === 0) return { begin, end: successor(begin) };
  return { begin, end: isFromKey(permission.rangeEnd) ? undefined : Buffer.from(permission.rangeEnd) };
}

function sorted(intervals: KeyInterval[]): KeyInterval[] {
  return intervals.sort((a, b) => Buffer.compare(a.begin, b.begin));
}

/**
 * Whether the union of `intervals` (sorted by begin) holds the key, or all
 * of [key, rangeEnd): walks the intervals from the key on, moving a cursor
 * to the end of each interval that reaches it, until the cursor passes the
 * range's end or a gap shows.
 */
function covers(intervals: readonly KeyInterval[], key: Uint8Array, rangeEnd: Uint8Array): boolean {
  const begin = Buffer.from(key);
  const end = rangeEnd.length === 0 ? successor(begin) : isFromKey(rangeEnd) ? undefined : Buffer.from(rangeEnd);
  if (end !== undefined && Buffer.compare(begin, end) >= 0) return false;
  let cursor: Buffer = begin;
  for (const interval of intervals) {
    if (Buffer.compare(interval.begin, cursor) > 0) return false;
    if (interval.end === undefined) return true;
    if (Buffer.compare(interval.end, cursor) > 0) cursor = interval.end;
    if (end !== undefined && Buffer.compare(cursor, end) >= 0) return true;
  }
  return false;
}

/** The smallest key after `key`: key + "\0". */
function successor(key: Buffer): Buffer {
  return Buffer.concat([key, Buffer.from([0])]);
}

function isFromKey(rangeEnd: Uint8Array): boolean {
  return rangeEnd.length === 1 && rangeEnd[0] === 0;
}
