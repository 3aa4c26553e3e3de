import { expect } from 'chai';
import { existsSync } from 'node:fs';
import { InternalRequest } from '../../proto/gen/cairnpb/internal.js';
import { DeleteRangeRequest, PutRequest, RequestOp, TxnRequest, type LeaseGrantResponse, type LeaseRevokeResponse } from '../../proto/gen/etcdserverpb/rpc.js';
import { must } from '../../test/harness/must.js';
import { Applier, type ApplyResponse, type ApplyResult } from '../apply/applier.js';
import { LeaseNotFoundError } from '../apply/errors.js';
import { AlarmSet } from '../alarm/alarms.js';
import type { ChangeEvent } from '../mvcc/store.js';
import { openTempStore, type TempStore } from '../testing/temp-store.js';
import { openAuthStore } from '../testing/auth.js';
import { LeaseExistsError, LeaseTtlTooLargeError } from './errors.js';
import { LeaseTable, leaseTtlSecondsMax, newLeaseId } from './table.js';

const b = (text: string): Buffer => Buffer.from(text);
const minTtlSeconds = 5n;

interface PutOptions {
  lease?: bigint;
  ignoreLease?: boolean;
}

describe('LeaseTable', () => {
  let temp: TempStore;
  let table: LeaseTable;
  let applier: Applier;

  /** A fresh table and applier over the temp store's current backend, restored from it (as startServer does). */
  const open = (): void => {
    table = new LeaseTable(temp.backend, minTtlSeconds);
    table.restore(temp.store);
    applier = new Applier(temp.store, table, new AlarmSet(temp.backend), openAuthStore(temp.backend));
  };
  const apply = (request: Partial<InternalRequest>): ApplyResult => temp.backend.transaction(() => applier.apply(InternalRequest.fromPartial(request), 1));
  const succeed = (request: Partial<InternalRequest>): ApplyResponse => {
    const result = apply(request);
    if (!result.ok) throw new Error(`expected success, got ${result.error.name}: ${result.error.message}`);
    return result.response;
  };
  const failWith = (request: Partial<InternalRequest>, type: new () => Error): void => {
    const result = apply(request);
    expect(result.ok, 'apply should fail').to.equal(false);
    if (!result.ok) expect(result.error).to.be.instanceOf(type);
  };
  const grant = (ID: bigint, TTL: bigint): LeaseGrantResponse => succeed({ leaseGrant: { ID, TTL } }) as LeaseGrantResponse;
  const revoke = (ID: bigint): LeaseRevokeResponse => succeed({ leaseRevoke: { ID } }) as LeaseRevokeResponse;
  const put = (key: string, value: string, options: PutOptions = {}): void =>
    void succeed({ put: PutRequest.fromPartial({ key: b(key), value: b(value), ...options }) });
  const del = (key: string, rangeEnd = ''): void => void succeed({ deleteRange: DeleteRangeRequest.fromPartial({ key: b(key), rangeEnd: b(rangeEnd) }) });
  /** The keys attached to a lease, sorted. */
  const keysOf = (id: bigint): string[] | undefined => {
    const lease = table.get(id);
    return lease === undefined ? undefined : [...lease.keys].sort();
  };
  const liveKeys = (): string[] => temp.store.range({ start: '\0', end: '' }).kvs.map((kv) => kv.key.toString());
  const describeEvents = (events: ChangeEvent[]): string[] => events.map((event) => `${event.type} ${event.kv.key.toString()}@${event.kv.modRevision}`);

  beforeEach(() => {
    temp = openTempStore();
    open();
  });

  afterEach(async () => {
    const dir = temp.dir;
    await temp.remove();
    expect(existsSync(dir)).to.equal(false);
  });

  describe('grant', () => {
    it('draws fresh IDs: positive, 63-bit, distinct, over many refills of its random bytes', () => {
      open();
      const ids = new Set<bigint>();
      // 512 IDs per 4 KiB of random bytes: this crosses four refills.
      for (let i = 0; i < 2_000; i++) {
        const id = newLeaseId(table);
        expect(id > 0n && id <= 0x7fff_ffff_ffff_ffffn, `ID ${id} is out of range`).to.equal(true);
        ids.add(id);
      }
      expect(ids.size).to.equal(2_000);
    });

    it('creates a lease with its TTL, no keys, and changes no revision', () => {
      const response = grant(7n, 60n);
      expect(response).to.deep.include({ ID: 7n, TTL: 60n, error: '' });
      expect(response.header?.revision).to.equal(1n);
      expect(temp.store.currentRevision).to.equal(1);
      expect(table.exists(7n)).to.equal(true);
      expect(table.get(7n)).to.deep.equal({ id: 7n, ttlSeconds: 60n, keys: new Set() });
      expect(table.size).to.equal(1);
      expect(table.ids()).to.deep.equal([7n]);
      expect(temp.store.takeChanges()).to.deep.equal([]);
    });

    it('raises a TTL below the minimum to the minimum (zero and negative too), as etcd does', () => {
      expect(grant(1n, 1n).TTL).to.equal(minTtlSeconds);
      expect(grant(2n, 0n).TTL).to.equal(minTtlSeconds);
      expect(grant(3n, -10n).TTL).to.equal(minTtlSeconds);
      expect(grant(4n, minTtlSeconds).TTL).to.equal(minTtlSeconds);
      expect(grant(5n, minTtlSeconds + 1n).TTL).to.equal(minTtlSeconds + 1n);
      expect(table.get(1n)?.ttlSeconds).to.equal(minTtlSeconds);
    });

    it('accepts etcd MaxLeaseTTL and refuses one second more with LeaseTtlTooLargeError, changing nothing', () => {
      expect(grant(1n, leaseTtlSecondsMax).TTL).to.equal(9_000_000_000n);
      failWith({ leaseGrant: { ID: 2n, TTL: leaseTtlSecondsMax + 1n } }, LeaseTtlTooLargeError);
      expect(table.exists(2n)).to.equal(false);
      expect(table.size).to.equal(1);
    });

    it('refuses an ID in use with LeaseExistsError and keeps the first lease as it was', () => {
      grant(9n, 30n);
      put('k', 'v', { lease: 9n });
      failWith({ leaseGrant: { ID: 9n, TTL: 100n } }, LeaseExistsError);
      expect(table.get(9n)).to.deep.equal({ id: 9n, ttlSeconds: 30n, keys: new Set(['k']) });
    });

    it('refuses ID 0 (no lease) with LeaseNotFoundError', () => {
      failWith({ leaseGrant: { ID: 0n, TTL: 30n } }, LeaseNotFoundError);
      expect(table.size).to.equal(0);
    });

    it('checks in etcd order: ID 0, then the TTL bound, then the ID in use', () => {
      grant(9n, 30n);
      failWith({ leaseGrant: { ID: 0n, TTL: leaseTtlSecondsMax + 1n } }, LeaseNotFoundError);
      failWith({ leaseGrant: { ID: 9n, TTL: leaseTtlSecondsMax + 1n } }, LeaseTtlTooLargeError);
    });
  });

  describe('attachments', () => {
    beforeEach(() => {
      grant(1n, 30n);
      grant(2n, 30n);
    });

    it('a put with a lease attaches the key; a put without one detaches it', () => {
      put('a', '1', { lease: 1n });
      put('b', '1', { lease: 1n });
      expect(keysOf(1n)).to.deep.equal(['a', 'b']);
      put('a', '2');
      expect(keysOf(1n)).to.deep.equal(['b']);
      put('a', '3', { lease: 1n });
      put('a', '4', { lease: 1n });
      expect(keysOf(1n)).to.deep.equal(['a', 'b']);
    });

    it('a put with another lease moves the key; ignore_lease keeps the lease it had', () => {
      put('a', '1', { lease: 1n });
      put('a', '2', { lease: 2n });
      expect(keysOf(1n)).to.deep.equal([]);
      expect(keysOf(2n)).to.deep.equal(['a']);
      put('a', '3', { ignoreLease: true });
      expect(keysOf(2n)).to.deep.equal(['a']);
      expect(temp.store.range({ start: 'a' }).kvs[0]?.lease).to.equal(2n);
    });

    it('a delete (single key or range) detaches the keys; a put after it without a lease does not re-attach', () => {
      put('a', '1', { lease: 1n });
      put('b', '1', { lease: 1n });
      put('c', '1', { lease: 2n });
      del('a');
      expect(keysOf(1n)).to.deep.equal(['b']);
      del('b', 'd');
      expect(keysOf(1n)).to.deep.equal([]);
      expect(keysOf(2n)).to.deep.equal([]);
      put('a', '2');
      expect(keysOf(1n)).to.deep.equal([]);
    });

    it('puts and deletes inside a txn attach and detach as they would alone', () => {
      put('gone', '1', { lease: 2n });
      succeed({
        txn: TxnRequest.fromPartial({
          success: [
            RequestOp.fromPartial({ requestPut: PutRequest.fromPartial({ key: b('x'), value: b('1'), lease: 1n }) }),
            RequestOp.fromPartial({ requestPut: PutRequest.fromPartial({ key: b('y'), value: b('1'), lease: 2n }) }),
            RequestOp.fromPartial({ requestDeleteRange: DeleteRangeRequest.fromPartial({ key: b('gone') }) }),
          ],
        }),
      });
      expect(keysOf(1n)).to.deep.equal(['x']);
      expect(keysOf(2n)).to.deep.equal(['y']);
    });

    it('a put with a lease that does not exist fails with LeaseNotFoundError and attaches nothing', () => {
      failWith({ put: PutRequest.fromPartial({ key: b('a'), value: b('1'), lease: 77n }) }, LeaseNotFoundError);
      expect(table.exists(77n)).to.equal(false);
      expect(liveKeys()).to.deep.equal([]);
    });
  });

  describe('revoke', () => {
    it('deletes every attached key in one revision, in key order, then forgets the lease', () => {
      grant(1n, 30n);
      grant(2n, 30n);
      put('m', '1', { lease: 1n }); // 2
      put('c', '1', { lease: 1n }); // 3
      put('x', '1', { lease: 1n }); // 4
      put('a', '1', { lease: 2n }); // 5
      put('plain', '1'); // 6
      put('x', '2', { lease: 1n }); // 7: still attached once
      temp.store.takeChanges();
      const response = revoke(1n);
      expect(response.header?.revision).to.equal(8n);
      const changes = temp.store.takeChanges();
      expect(changes.map((change) => change.revision)).to.deep.equal([8]);
      expect(describeEvents(must(changes[0], 'the change at 8').events)).to.deep.equal(['delete c@8', 'delete m@8', 'delete x@8']);
      expect(table.exists(1n)).to.equal(false);
      expect(table.get(1n)).to.equal(undefined);
      expect(table.ids()).to.deep.equal([2n]);
      expect(liveKeys()).to.deep.equal(['a', 'plain']);
      expect(keysOf(2n)).to.deep.equal(['a']);
    });

    it('does not delete keys that were detached before it', () => {
      grant(1n, 30n);
      put('a', '1', { lease: 1n });
      put('a', '2'); // detached
      put('b', '1', { lease: 1n });
      del('b');
      put('b', '2'); // a new generation without a lease
      const before = temp.store.currentRevision;
      expect(revoke(1n).header?.revision).to.equal(BigInt(before));
      expect(temp.store.currentRevision).to.equal(before);
      expect(liveKeys()).to.deep.equal(['a', 'b']);
    });

    it('of a lease without keys changes no revision', () => {
      grant(1n, 30n);
      put('k', '1');
      expect(revoke(1n).header?.revision).to.equal(2n);
      expect(temp.store.currentRevision).to.equal(2);
      expect(table.size).to.equal(0);
    });

    it('of an unknown lease fails with LeaseNotFoundError and changes nothing', () => {
      grant(1n, 30n);
      put('k', '1', { lease: 1n });
      failWith({ leaseRevoke: { ID: 2n } }, LeaseNotFoundError);
      revoke(1n);
      failWith({ leaseRevoke: { ID: 1n } }, LeaseNotFoundError);
      expect(temp.store.currentRevision).to.equal(3);
    });

    it('a lease ID can be granted again after a revoke, starting with no keys', () => {
      grant(1n, 30n);
      put('k', '1', { lease: 1n });
      revoke(1n);
      expect(grant(1n, 40n).TTL).to.equal(40n);
      expect(table.get(1n)).to.deep.equal({ id: 1n, ttlSeconds: 40n, keys: new Set() });
    });
  });

  describe('restore', () => {
    it('reloads leases with their granted TTL and re-attaches the live keys that carry one', async () => {
      grant(1n, 1n); // clamped to the minimum
      grant(2n, 30n);
      grant(3n, 40n);
      grant(4n, 50n);
      put('a', '1', { lease: 1n });
      put('b', '1', { lease: 2n });
      put('c', '1', { lease: 2n });
      put('d', '1', { lease: 3n });
      put('d', '2'); // detached
      put('e', '1', { lease: 2n });
      del('e'); // deleted
      put('f', '1', { lease: 4n });
      revoke(4n); // revoked with its key
      await temp.restart();
      open();
      expect(table.ids().sort()).to.deep.equal([1n, 2n, 3n]);
      expect(table.get(1n)?.ttlSeconds).to.equal(minTtlSeconds);
      expect(table.get(2n)?.ttlSeconds).to.equal(30n);
      expect(keysOf(1n)).to.deep.equal(['a']);
      expect(keysOf(2n)).to.deep.equal(['b', 'c']);
      expect(keysOf(3n)).to.deep.equal([]);
      expect(table.exists(4n)).to.equal(false);
      // The restored attachments drive the next revoke.
      revoke(2n);
      expect(liveKeys()).to.deep.equal(['a', 'd']);
      failWith({ leaseGrant: { ID: 1n, TTL: 30n } }, LeaseExistsError);
    });

    it('an empty backend restores an empty table', async () => {
      await temp.restart();
      open();
      expect(table.size).to.equal(0);
      expect(table.ids()).to.deep.equal([]);
    });
  });
});
