import { expect } from 'chai';
import { Permission_Type, type Permission, type Role } from '../../proto/gen/authpb/auth.js';
import { KeyPermissions } from './permissions.js';

const b = (text: string): Buffer => Buffer.from(text);
const fromKey = Buffer.from([0]);

function role(name: string, ...permissions: Array<[Permission_Type, string, string | Buffer]>): Role {
  const keyPermission: Permission[] = permissions.map(([permType, key, rangeEnd]) => ({ permType, key: b(key), rangeEnd: typeof rangeEnd === 'string' ? b(rangeEnd) : rangeEnd }));
  return { name: b(name), keyPermission };
}

describe('KeyPermissions: merged key intervals of a user\'s roles', () => {
  // The worked example of permissions.ts.
  const permissions = KeyPermissions.merge([
    role('a', [Permission_Type.READ, 'foo', 'fop']),
    role('b', [Permission_Type.READ, 'fop', ''], [Permission_Type.READWRITE, 'g', fromKey]),
  ]);

  it('allows a key inside a granted range, and the single key a permission without range_end names', () => {
    expect(permissions.canRead(b('foo1'))).to.equal(true);
    expect(permissions.canRead(b('fop'))).to.equal(true);
    expect(permissions.canRead(b('fop0'))).to.equal(false);
    expect(permissions.canRead(b('fo'))).to.equal(false);
  });

  it('allows a range only when the granted intervals cover all of it, together', () => {
    expect(permissions.canRead(b('foo'), b('fop\0'))).to.equal(true);
    expect(permissions.canRead(b('foo'), b('fop'))).to.equal(true);
    expect(permissions.canRead(b('foo'), b('g'))).to.equal(false);
    expect(permissions.canRead(b('fo'), b('fop'))).to.equal(false);
  });

  it('"\\0" as range_end is open-ended, in a grant and in a request', () => {
    expect(permissions.canRead(b('g'), fromKey)).to.equal(true);
    expect(permissions.canRead(b('zzz'))).to.equal(true);
    expect(permissions.canRead(b('foo'), fromKey)).to.equal(false);
    expect(permissions.canWrite(b('h'), fromKey)).to.equal(true);
  });

  it('keeps read and write apart: READ grants no write, WRITE no read, READWRITE both', () => {
    expect(permissions.canWrite(b('foo1'))).to.equal(false);
    const writeOnly = KeyPermissions.merge([role('w', [Permission_Type.WRITE, 'k', ''])]);
    expect(writeOnly.canWrite(b('k'))).to.equal(true);
    expect(writeOnly.canRead(b('k'))).to.equal(false);
  });

  it('allows nothing without roles, and nothing for an empty or inverted range', () => {
    const none = KeyPermissions.merge([]);
    expect(none.canRead(b('a'))).to.equal(false);
    expect(none.canWrite(b(''), fromKey)).to.equal(false);
    expect(permissions.canRead(b('fop'), b('foo'))).to.equal(false);
  });

  it('a grant of every key ("" to "\\0") covers every request', () => {
    const all = KeyPermissions.merge([role('all', [Permission_Type.READWRITE, '', fromKey])]);
    expect(all.canRead(b(''), fromKey)).to.equal(true);
    expect(all.canWrite(b('\u00ff\u00ff'))).to.equal(true);
  });
});
