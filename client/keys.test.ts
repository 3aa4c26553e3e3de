import { expect } from 'chai';
import { EmptyKeyError, InvalidOptionError } from './errors.js';
import { Namespace, prefixEnd } from './keys.js';

const text = (bytes: Buffer) => bytes.toString('latin1');

describe('client keys', () => {
  it('computes the end of a prefix as etcd does', () => {
    expect(text(prefixEnd(Buffer.from('aa')))).to.equal('ab');
    expect(prefixEnd(Buffer.from([0x61, 0xff]))).to.deep.equal(Buffer.from('b'));
    expect(prefixEnd(Buffer.from([0xff, 0xff]))).to.deep.equal(Buffer.from([0]));
  });

  it('maps selectors to wire ranges without a namespace', () => {
    const plain = new Namespace();
    expect(plain.range('k')).to.deep.equal({ key: Buffer.from('k'), rangeEnd: Buffer.alloc(0) });
    expect(plain.range({ prefix: 'a' })).to.deep.equal({ key: Buffer.from('a'), rangeEnd: Buffer.from('b') });
    expect(plain.range({ prefix: '' })).to.deep.equal({ key: Buffer.from([0]), rangeEnd: Buffer.from([0]) });
    expect(plain.range({ range: { start: 'a' } })).to.deep.equal({ key: Buffer.from('a'), rangeEnd: Buffer.from([0]) });
    expect(plain.range({ range: { start: 'a', end: 'c' } })).to.deep.equal({ key: Buffer.from('a'), rangeEnd: Buffer.from('c') });
    expect(() => plain.key('')).to.throw(EmptyKeyError);
    expect(() => plain.range({ range: { start: 'c', end: 'a' } })).to.throw(InvalidOptionError);
  });

  it('adds the namespace to every selector and strips it from keys', () => {
    const spaced = new Namespace('app/');
    expect(text(spaced.key('a'))).to.equal('app/a');
    expect(spaced.range({ prefix: 'a' })).to.deep.equal({ key: Buffer.from('app/a'), rangeEnd: Buffer.from('app/b') });
    expect(spaced.range({ prefix: '' })).to.deep.equal({ key: Buffer.from('app/'), rangeEnd: Buffer.from('app0') });
    expect(spaced.range({ range: { start: 'a' } })).to.deep.equal({ key: Buffer.from('app/a'), rangeEnd: Buffer.from('app0') });
    expect(text(spaced.strip(Buffer.from('app/x')))).to.equal('x');
    expect(text(spaced.strip(Buffer.from('other')))).to.equal('other');
  });

  it('composes nested namespaces, outermost first', () => {
    const nested = new Namespace('app/').child('tenant-1/');
    expect(text(nested.prefix)).to.equal('app/tenant-1/');
    expect(text(nested.key('a'))).to.equal('app/tenant-1/a');
    expect(nested.range({ prefix: '' })).to.deep.equal({ key: Buffer.from('app/tenant-1/'), rangeEnd: Buffer.from('app/tenant-10') });
    expect(text(nested.strip(Buffer.from('app/tenant-1/x')))).to.equal('x');
    expect(text(new Namespace().child('app/').key('a'))).to.equal('app/a');
    expect(text(new Namespace('app/').child('').key('a'))).to.equal('app/a');
  });
});
