import { expect } from 'chai';
import { fnv64a } from './bolt-meta.js';

describe('bbolt meta: FNV-64a', () => {
  it("matches Go's hash/fnv New64a on the reference vectors", () => {
    expect(fnv64a(Buffer.alloc(0))).to.equal(0xcbf29ce484222325n);
    expect(fnv64a(Buffer.from('a'))).to.equal(0xaf63dc4c8601ec8cn);
    expect(fnv64a(Buffer.from('foobar'))).to.equal(0x85944171f73967e8n);
  });
});
