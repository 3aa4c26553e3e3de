import { expect } from 'chai';
import { Role, User, Permission_Type } from '../../../proto/gen/authpb/auth.js';
import type { LeafEntry } from './bolt-fixture.js';
import { EtcdSnapshotLayoutError } from './errors.js';
import { backend, inlineBucket, put, withTrailer } from './etcd-fixture.js';
import { EtcdSnapshot } from './etcd-snapshot.js';

const root = User.fromPartial({ name: Buffer.from('root'), password: Buffer.from('$2a$10$rootHash'), roles: ['root'] });
const alice = User.fromPartial({ name: Buffer.from('alice'), password: Buffer.from('$2a$10$aliceHash'), roles: ['reader', 'root'] });
const reader = Role.fromPartial({
  name: Buffer.from('reader'),
  keyPermission: [{ permType: Permission_Type.READ, key: Buffer.from('app/'), rangeEnd: Buffer.from('app0') }],
});
const rootRole = Role.fromPartial({ name: Buffer.from('root') });

const record = (name: string, bytes: Uint8Array): LeafEntry => ({ key: name, value: Buffer.from(bytes) });
const revisionBytes = (revision: bigint): Buffer => {
  const bytes = Buffer.alloc(8);
  bytes.writeBigUInt64BE(revision);
  return bytes;
};

/** An etcd backend whose auth buckets hold `auth`, `users` and `roles` records. */
function withAuth(auth: LeafEntry[], users: LeafEntry[] = [], roles: LeafEntry[] = []): EtcdSnapshot {
  const others = [inlineBucket('auth', auth), inlineBucket('authUsers', users), inlineBucket('authRoles', roles)];
  return EtcdSnapshot.fromBuffer(withTrailer(backend([put(2, 'a', '1', 2, 1)], [], [], others)));
}

describe('etcd snapshot reader: the auth store', () => {
  it('reads auth enabled, its revision, the users and the roles in name order, as etcd stored them', () => {
    const snapshot = withAuth(
      [{ key: 'authEnabled', value: Buffer.from([1]) }, { key: 'authRevision', value: revisionBytes(9n) }],
      [record('alice', User.encode(alice).finish()), record('root', User.encode(root).finish())],
      [record('reader', Role.encode(reader).finish()), record('root', Role.encode(rootRole).finish())],
    );
    expect(snapshot.auth()).to.deep.equal({ enabled: true, revision: 9n, users: [alice, root], roles: [reader, rootRole] });
  });

  it('reads a store that was never enabled as disabled, at etcd\'s first revision when none is stored; none without bucket "auth"', () => {
    expect(withAuth([{ key: 'authEnabled', value: Buffer.from([0]) }]).auth()).to.deep.equal({ enabled: false, revision: 1n, users: [], roles: [] });
    expect(withAuth([]).auth()).to.include({ enabled: false, revision: 1n });
    expect(EtcdSnapshot.fromBuffer(withTrailer(backend([], []))).auth()).to.equal(undefined);
  });

  it('refuses records that are not etcd\'s', () => {
    const cases: Array<[EtcdSnapshot, RegExp]> = [
      [withAuth([{ key: 'authEnabled', value: Buffer.from([2]) }]), /auth "authEnabled" is 02, not 00 or 01/],
      [withAuth([{ key: 'authRevision', value: Buffer.from([1]) }]), /auth "authRevision" has 1 bytes, not 8/],
      [withAuth([], [record('bob', User.encode(alice).finish())]), /authUsers "bob": the record is named "alice"/],
      [withAuth([], [], [record('reader', Buffer.from([0x0a, 0x09]))]), /authRoles "reader": cannot decode the record/],
    ];
    for (const [snapshot, message] of cases) expect(() => snapshot.auth()).to.throw(EtcdSnapshotLayoutError, message);
  });
});
