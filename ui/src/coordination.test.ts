import { expect } from 'chai';
import { utf8 } from './bytes.js';
import { classify, type ScannedKey } from './coordination.js';

const key = (text: string, createRevision: number, lease = 0n, valueBytes = 0): ScannedKey => ({ key: utf8(text), createRevision: BigInt(createRevision), lease, valueBytes });

describe('ui coordination: recipes found by their key layouts', () => {
  it('finds a lock (empty values) and an election (values) at <name>/<lease hex>, first-created first', () => {
    const found = classify([
      key('job/694d5a1e88', 9, 0x694d5a1e88n), key('job/694d5a1e9f', 7, 0x694d5a1e9fn),
      key('leader/abc', 4, 0xabcn, 6), key('leader/abd', 3, 0xabdn, 6),
    ]);
    expect(found.lines).to.deep.equal([
      { name: 'job', kind: 'lock', participants: [{ key: 'job/694d5a1e9f', lease: 0x694d5a1e9fn, createRevision: 7n }, { key: 'job/694d5a1e88', lease: 0x694d5a1e88n, createRevision: 9n }] },
      { name: 'leader', kind: 'election', participants: [{ key: 'leader/abd', lease: 0xabdn, createRevision: 3n }, { key: 'leader/abc', lease: 0xabcn, createRevision: 4n }] },
    ]);
  });

  it('does not take a key whose last segment is not its own lease for a lock', () => {
    const found = classify([key('svc/api/694d5a1e88', 9, 0x11n, 10)]);
    expect(found.lines).to.deep.equal([]);
    expect(found.services.map((service) => service.name)).to.deep.equal(['svc/api']);
  });

  it('finds read/write locks: readers hold together up to the first writer, a writer alone', () => {
    const unique = (n: number): string => `${String(n).padStart(20, '0')}-0a1b2c3d-${n}`;
    const readers = classify([key(`db/read/${unique(1)}`, 5, 1n), key(`db/read/${unique(2)}`, 6, 2n), key(`db/write/${unique(3)}`, 7, 3n), key(`db/read/${unique(4)}`, 8, 4n)]);
    expect(readers.rwLocks).to.have.length(1);
    expect(readers.rwLocks[0]).to.deep.include({ name: 'db', holdersKind: 'read', waiting: 2 });
    expect(readers.rwLocks[0]?.holders.map((holder) => holder.createRevision)).to.deep.equal([5n, 6n]);
    const writer = classify([key(`db/write/${unique(1)}`, 5, 1n), key(`db/read/${unique(2)}`, 6, 2n)]);
    expect(writer.rwLocks[0]).to.deep.include({ holdersKind: 'write', waiting: 1 });
  });

  it('finds queues (FIFO and priority) and double barriers, etcd\'s unique names and cairn\'s', () => {
    const found = classify([
      key('jobs/1700000000000000000', 3), key('jobs/00001700000000000001-0a1b2c3d-0', 4),
      key('pq/00002/00001700000000000001-0a1b2c3d-1', 5), key('pq/00002/00001700000000000002-0a1b2c3d-2', 6), key('pq/00010/00001700000000000003-0a1b2c3d-3', 7),
      key('gate/waiters/00001700000000000004-0a1b2c3d-4', 8, 9n), key('gate/waiters/00001700000000000005-0a1b2c3d-5', 9, 10n), key('gate/ready', 10),
    ]);
    expect(found.queues).to.deep.equal([
      { name: 'jobs', length: 2, byPriority: undefined },
      { name: 'pq', length: 3, byPriority: [[2, 2], [10, 1]] },
    ]);
    expect(found.doubleBarriers).to.deep.equal([{ name: 'gate', entered: 2, ready: true }]);
    expect(found.services).to.deep.equal([]);
  });
});
