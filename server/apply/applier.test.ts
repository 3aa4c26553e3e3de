import { expect } from 'chai';
import { InternalRequest } from '../../proto/gen/cairnpb/internal.js';
import {
  Compare,
  Compare_CompareResult,
  Compare_CompareTarget,
  DeleteRangeRequest,
  PutRequest,
  RangeRequest,
  RangeRequest_SortOrder,
  RangeRequest_SortTarget,
  RequestOp,
  TxnRequest,
  type DeleteRangeResponse,
  type PutResponse,
  type RangeResponse,
  type ResponseOp,
  type TxnResponse,
} from '../../proto/gen/etcdserverpb/rpc.js';
import type { KeyValue } from '../../proto/gen/mvccpb/kv.js';
import { must } from '../../test/harness/must.js';
import { CompactedError, FutureRevisionError } from '../mvcc/errors.js';
import { openTempStore, type TempStore } from '../testing/temp-store.js';
import { openAuthStore } from '../testing/auth.js';
import { Applier, type ApplyResponse, type ApplyResult } from './applier.js';
import { KeyNotFoundError, LeaseNotFoundError } from './errors.js';
import { AlarmSet } from '../alarm/alarms.js';

const b = (text: string): Buffer => Buffer.from(text);
const { EQUAL, GREATER, LESS, NOT_EQUAL } = Compare_CompareResult;
const { VERSION, CREATE, MOD, VALUE, LEASE } = Compare_CompareTarget;

/** The only lease that exists. */
const liveLease = 100n;

interface PutOptions {
  lease?: bigint;
  prevKv?: boolean;
  ignoreValue?: boolean;
  ignoreLease?: boolean;
}

function putRequest(key: string, value: string, options: PutOptions = {}): PutRequest {
  return PutRequest.fromPartial({ key: b(key), value: b(value), ...options });
}

function deleteRequest(key: string, rangeEnd = '', prevKv = false): DeleteRangeRequest {
  return DeleteRangeRequest.fromPartial({ key: b(key), rangeEnd: b(rangeEnd), prevKv });
}

const putOp = (key: string, value: string, options?: PutOptions): RequestOp => RequestOp.fromPartial({ requestPut: putRequest(key, value, options) });
const deleteOp = (key: string, rangeEnd = ''): RequestOp => RequestOp.fromPartial({ requestDeleteRange: deleteRequest(key, rangeEnd) });
const rangeOp = (key: string, rangeEnd = ''): RequestOp => RequestOp.fromPartial({ requestRange: RangeRequest.fromPartial({ key: b(key), rangeEnd: b(rangeEnd) }) });
const txnOp = (txn: TxnRequest): RequestOp => RequestOp.fromPartial({ requestTxn: txn });

function txnRequest(compare: Compare[], success: RequestOp[] = [], failure: RequestOp[] = []): TxnRequest {
  return TxnRequest.fromPartial({ compare, success, failure });
}

/** A compare that holds: the key "always" never exists, so its create revision is 0. */
const holds = (): Compare => Compare.fromPartial({ key: b('always'), target: CREATE, result: EQUAL, createRevision: 0n });
/** A compare that fails. */
const fails = (): Compare => Compare.fromPartial({ key: b('always'), target: CREATE, result: NOT_EQUAL, createRevision: 0n });

/** key=value strings of kvs. */
const pairs = (kvs: KeyValue[]): string[] => kvs.map((kv) => `${kv.key.toString()}=${kv.value.toString()}`);
const keys = (kvs: KeyValue[]): string[] => kvs.map((kv) => kv.key.toString());

describe('Applier', () => {
  let temp: TempStore;
  let applier: Applier;

  const apply = (request: InternalRequest): ApplyResult => temp.backend.transaction(() => applier.apply(request, 1));
  const succeed = (request: InternalRequest): ApplyResponse => {
    const result = apply(request);
    if (!result.ok) throw new Error(`expected success, got ${result.error.name}: ${result.error.message}`);
    return result.response;
  };
  const failWith = (request: InternalRequest, type: new () => Error): void => {
    const result = apply(request);
    expect(result.ok, 'apply should fail').to.equal(false);
    if (!result.ok) expect(result.error).to.be.instanceOf(type);
  };
  const put = (key: string, value: string, options?: PutOptions): PutResponse =>
    succeed(InternalRequest.fromPartial({ put: putRequest(key, value, options) })) as PutResponse;
  const deleteRange = (key: string, rangeEnd = '', prevKv = false): DeleteRangeResponse =>
    succeed(InternalRequest.fromPartial({ deleteRange: deleteRequest(key, rangeEnd, prevKv) })) as DeleteRangeResponse;
  const txn = (request: TxnRequest): TxnResponse => succeed(InternalRequest.fromPartial({ txn: request })) as TxnResponse;
  const get = (key: string, rangeEnd = ''): KeyValue[] => applier.range(RangeRequest.fromPartial({ key: b(key), rangeEnd: b(rangeEnd) })).kvs;
  const revision = (): number => temp.store.currentRevision;

  beforeEach(() => {
    temp = openTempStore();
    applier = new Applier(temp.store, { exists: (id) => id === liveLease, grant: () => ({ ttlSeconds: 0n }), revoke: () => undefined, track: () => undefined, keysOf: () => [] }, new AlarmSet(temp.backend), openAuthStore(temp.backend));
  });

  afterEach(async () => {
    await temp.remove();
  });

  it('refuses an empty request as a programming error', () => {
    expect(() => apply(InternalRequest.fromPartial({}))).to.throw('applier: empty request');
  });

  describe('Put', () => {
    it('writes the key at the next revision and reports it in the header', () => {
      const response = put('foo', 'bar');
      expect(response.header?.revision).to.equal(2n);
      expect(response.prevKv).to.equal(undefined);
      expect(get('foo')).to.deep.equal([
        { key: b('foo'), value: b('bar'), createRevision: 2n, modRevision: 2n, version: 1n, lease: 0n },
      ]);
    });

    it('returns the previous kv with prev_kv, and none for a new key', () => {
      expect(put('foo', 'one', { prevKv: true }).prevKv).to.equal(undefined);
      const response = put('foo', 'two', { prevKv: true });
      expect(response.prevKv).to.deep.equal({ key: b('foo'), value: b('one'), createRevision: 2n, modRevision: 2n, version: 1n, lease: 0n });
      expect(response.header?.revision).to.equal(3n);
    });

    it('keeps the value with ignore_value and takes the new lease', () => {
      put('foo', 'kept');
      put('foo', '', { ignoreValue: true, lease: liveLease });
      expect(get('foo')).to.deep.equal([
        { key: b('foo'), value: b('kept'), createRevision: 2n, modRevision: 3n, version: 2n, lease: liveLease },
      ]);
    });

    it('keeps the lease with ignore_lease and takes the new value', () => {
      put('foo', 'old', { lease: liveLease });
      put('foo', 'new', { ignoreLease: true });
      expect(pairs(get('foo'))).to.deep.equal(['foo=new']);
      expect(get('foo')[0]?.lease).to.equal(liveLease);
    });

    for (const flag of ['ignoreValue', 'ignoreLease'] as const) {
      it(`fails with KeyNotFoundError for ${flag} on a missing key, and changes nothing`, () => {
        put('other', 'x');
        failWith(InternalRequest.fromPartial({ put: putRequest('foo', '', { [flag]: true }) }), KeyNotFoundError);
        expect(revision()).to.equal(2);
        expect(get('foo')).to.deep.equal([]);
        // The failed put left no trace: the next write gets the next revision.
        expect(put('foo', 'y').header?.revision).to.equal(3n);
      });
    }

    it(`fails with KeyNotFoundError for ignore_value on a deleted key`, () => {
      put('foo', 'x');
      deleteRange('foo');
      failWith(InternalRequest.fromPartial({ put: putRequest('foo', '', { ignoreValue: true }) }), KeyNotFoundError);
      expect(revision()).to.equal(3);
    });

    it('fails with LeaseNotFoundError for a lease that does not exist, and changes nothing', () => {
      put('foo', 'x');
      failWith(InternalRequest.fromPartial({ put: putRequest('foo', 'y', { lease: 999n }) }), LeaseNotFoundError);
      expect(revision()).to.equal(2);
      expect(pairs(get('foo'))).to.deep.equal(['foo=x']);
      expect(put('foo', 'z', { lease: liveLease }).header?.revision).to.equal(3n);
      expect(get('foo')[0]?.lease).to.equal(liveLease);
    });

    it('checks the lease before the key, as etcd does for a Put (missing key and missing lease → LeaseNotFoundError)', () => {
      // etcd's applierV3backend.Put looks the lease up before it reads the key.
      failWith(InternalRequest.fromPartial({ put: putRequest('foo', '', { ignoreValue: true, lease: 999n }) }), LeaseNotFoundError);
      expect(revision()).to.equal(1);
    });
  });

  describe('DeleteRange', () => {
    beforeEach(() => {
      for (const key of ['a', 'b', 'c', 'd']) put(key, key.toUpperCase()); // revisions 2..5
    });

    it('deletes one key at the next revision', () => {
      const response = deleteRange('b');
      expect(response).to.deep.include({ deleted: 1n, prevKvs: [] });
      expect(response.header?.revision).to.equal(6n);
      expect(keys(get('a', '\0'))).to.deep.equal(['a', 'c', 'd']);
    });

    it('deletes nothing and keeps the revision for a missing key', () => {
      const response = deleteRange('zzz');
      expect(response.deleted).to.equal(0n);
      expect(response.header?.revision).to.equal(5n);
      expect(revision()).to.equal(5);
    });

    it('deletes [key, range_end) and returns the previous kvs with prev_kv', () => {
      const response = deleteRange('b', 'd', true);
      expect(response.deleted).to.equal(2n);
      expect(response.prevKvs).to.deep.equal([
        { key: b('b'), value: b('B'), createRevision: 3n, modRevision: 3n, version: 1n, lease: 0n },
        { key: b('c'), value: b('C'), createRevision: 4n, modRevision: 4n, version: 1n, lease: 0n },
      ]);
      expect(keys(get('a', '\0'))).to.deep.equal(['a', 'd']);
      // Both deletions belong to one revision.
      expect(revision()).to.equal(6);
    });

    it('deletes every key >= key with range_end "\\0"', () => {
      const response = deleteRange('b', '\0', true);
      expect(response.deleted).to.equal(3n);
      expect(keys(response.prevKvs)).to.deep.equal(['b', 'c', 'd']);
      expect(keys(get('a', '\0'))).to.deep.equal(['a']);
    });

    it('starts a new generation when a deleted key is put again', () => {
      deleteRange('a'); // 6
      put('a', 'again'); // 7
      expect(get('a')[0]).to.deep.include({ createRevision: 7n, modRevision: 7n, version: 1n });
    });
  });

  describe('Txn compares', () => {
    beforeEach(() => {
      put('k', 'v1', { lease: liveLease }); // 2
      put('other', 'x'); // 3
      put('k', 'v2', { lease: liveLease }); // 4: k has version 2, create 2, mod 4, lease 100
    });

    const succeeded = (compare: Compare): boolean => {
      const before = revision();
      const response = txn(txnRequest([compare]));
      expect(revision()).to.equal(before);
      return response.succeeded;
    };

    type Row = { target: Compare_CompareTarget; field: keyof Compare; below: bigint | Buffer; equal: bigint | Buffer; above: bigint | Buffer };
    const rows: Row[] = [
      { target: VERSION, field: 'version', below: 1n, equal: 2n, above: 3n },
      { target: CREATE, field: 'createRevision', below: 1n, equal: 2n, above: 3n },
      { target: MOD, field: 'modRevision', below: 3n, equal: 4n, above: 5n },
      { target: VALUE, field: 'value', below: b('v1'), equal: b('v2'), above: b('v3') },
      { target: LEASE, field: 'lease', below: 99n, equal: liveLease, above: 101n },
    ];
    // [result, holds against a smaller value, against the equal value, against a greater value]
    const results: Array<[Compare_CompareResult, boolean, boolean, boolean]> = [
      [EQUAL, false, true, false],
      [GREATER, true, false, false],
      [LESS, false, false, true],
      [NOT_EQUAL, true, false, true],
    ];

    for (const row of rows) {
      for (const [result, againstBelow, againstEqual, againstAbove] of results) {
        it(`${Compare_CompareTarget[row.target]} ${Compare_CompareResult[result]}`, () => {
          const compare = (operand: bigint | Buffer): Compare => ({ ...Compare.fromPartial({ key: b('k'), target: row.target, result }), [row.field]: operand });
          expect(succeeded(compare(row.below)), 'against a smaller operand').to.equal(againstBelow);
          expect(succeeded(compare(row.equal)), 'against an equal operand').to.equal(againstEqual);
          expect(succeeded(compare(row.above)), 'against a greater operand').to.equal(againstAbove);
        });
      }
    }

    it('compares an unset operand as zero (or the empty value)', () => {
      expect(succeeded(Compare.fromPartial({ key: b('k'), target: VERSION, result: GREATER }))).to.equal(true);
      expect(succeeded(Compare.fromPartial({ key: b('k'), target: MOD, result: EQUAL }))).to.equal(false);
      expect(succeeded(Compare.fromPartial({ key: b('k'), target: VALUE, result: GREATER }))).to.equal(true);
    });

    it('compares a missing key as a zero kv, except VALUE which always fails', () => {
      const missing = (target: Compare_CompareTarget, result: Compare_CompareResult, operand: Partial<Compare> = {}): boolean =>
        succeeded(Compare.fromPartial({ key: b('missing'), target, result, ...operand }));
      expect(missing(CREATE, EQUAL, { createRevision: 0n })).to.equal(true);
      expect(missing(VERSION, EQUAL, { version: 0n })).to.equal(true);
      expect(missing(MOD, LESS, { modRevision: 1n })).to.equal(true);
      expect(missing(LEASE, EQUAL, { lease: 0n })).to.equal(true);
      expect(missing(CREATE, GREATER, { createRevision: 0n })).to.equal(false);
      expect(missing(VALUE, EQUAL, { value: b('') })).to.equal(false);
      expect(missing(VALUE, NOT_EQUAL, { value: b('x') })).to.equal(false);
      expect(missing(VALUE, LESS, { value: b('x') })).to.equal(false);
    });

    it('compares a deleted key as missing', () => {
      deleteRange('k');
      expect(succeeded(Compare.fromPartial({ key: b('k'), target: CREATE, result: EQUAL, createRevision: 0n }))).to.equal(true);
      expect(succeeded(Compare.fromPartial({ key: b('k'), target: VALUE, result: EQUAL, value: b('v2') }))).to.equal(false);
    });

    it('requires every compare to hold', () => {
      const versionIs2 = Compare.fromPartial({ key: b('k'), target: VERSION, result: EQUAL, version: 2n });
      const valueIsV2 = Compare.fromPartial({ key: b('k'), target: VALUE, result: EQUAL, value: b('v2') });
      const valueIsV1 = Compare.fromPartial({ key: b('k'), target: VALUE, result: EQUAL, value: b('v1') });
      expect(txn(txnRequest([versionIs2, valueIsV2])).succeeded).to.equal(true);
      expect(txn(txnRequest([versionIs2, valueIsV1])).succeeded).to.equal(false);
      expect(txn(txnRequest([])).succeeded).to.equal(true);
    });

    describe('over a range', () => {
      beforeEach(() => {
        put('r/a', '1'); // 5
        put('r/b', '1'); // 6
        put('r/c', '1'); // 7
        put('r/c', '2'); // 8: r/c has version 2
      });

      const overRange = (rangeEnd: string, target: Compare_CompareTarget, result: Compare_CompareResult, operand: Partial<Compare>): boolean =>
        succeeded(Compare.fromPartial({ key: b('r/'), rangeEnd: b(rangeEnd), target, result, ...operand }));

      it('holds only when every key in the range satisfies it', () => {
        expect(overRange('r0', VERSION, EQUAL, { version: 1n })).to.equal(false);
        expect(overRange('r/c', VERSION, EQUAL, { version: 1n })).to.equal(true);
        expect(overRange('r0', VERSION, GREATER, { version: 0n })).to.equal(true);
        expect(overRange('r0', VALUE, LESS, { value: b('3') })).to.equal(true);
        expect(overRange('r0', VALUE, EQUAL, { value: b('1') })).to.equal(false);
        expect(overRange('r0', CREATE, GREATER, { createRevision: 4n })).to.equal(true);
        expect(overRange('r0', MOD, LESS, { modRevision: 8n })).to.equal(false);
      });

      it('treats range_end "\\0" as every key >= key', () => {
        // "r/" and later: r/a, r/b, r/c (version 2).
        expect(overRange('\0', VERSION, LESS, { version: 2n })).to.equal(false);
        expect(overRange('\0', VERSION, LESS, { version: 3n })).to.equal(true);
      });

      it('compares an empty range as one missing key', () => {
        expect(overRange('r/', CREATE, EQUAL, { createRevision: 0n })).to.equal(true);
        expect(
          succeeded(Compare.fromPartial({ key: b('s/'), rangeEnd: b('s0'), target: CREATE, result: EQUAL, createRevision: 0n })),
        ).to.equal(true);
        expect(succeeded(Compare.fromPartial({ key: b('s/'), rangeEnd: b('s0'), target: VALUE, result: EQUAL, value: b('') }))).to.equal(false);
      });
    });
  });

  describe('Txn execution', () => {
    it('runs the success branch when the compares hold, the failure branch otherwise', () => {
      const chosen = txn(txnRequest([holds()], [putOp('a', 'then')], [putOp('a', 'else')]));
      expect(chosen.succeeded).to.equal(true);
      expect(pairs(get('a'))).to.deep.equal(['a=then']);
      const other = txn(txnRequest([fails()], [putOp('a', 'then2')], [putOp('a', 'else2')]));
      expect(other.succeeded).to.equal(false);
      expect(pairs(get('a'))).to.deep.equal(['a=else2']);
    });

    it('writes the whole txn at one revision and reports it in every write response and the header', () => {
      put('gone', 'x'); // 2
      const response = txn(txnRequest([holds()], [putOp('a', '1'), putOp('b', '1'), deleteOp('gone'), txnOp(txnRequest([], [putOp('c', '1')]))]));
      expect(revision()).to.equal(3);
      expect(response.header?.revision).to.equal(3n);
      expect(response.responses[0]?.responsePut?.header?.revision).to.equal(3n);
      expect(response.responses[1]?.responsePut?.header?.revision).to.equal(3n);
      expect(response.responses[2]?.responseDeleteRange).to.deep.include({ deleted: 1n });
      expect(response.responses[2]?.responseDeleteRange?.header?.revision).to.equal(3n);
      expect(response.responses[3]?.responseTxn?.responses[0]?.responsePut?.header?.revision).to.equal(3n);
      expect(get('a', '\0').map((kv) => [kv.key.toString(), kv.modRevision])).to.deep.equal([
        ['a', 3n],
        ['b', 3n],
        ['c', 3n],
      ]);
    });

    it('lets reads inside the txn see its own earlier writes', () => {
      put('a', 'old'); // 2
      put('gone', 'x'); // 3
      const response = txn(
        txnRequest(
          [holds()],
          [
            rangeOp('a'),
            putOp('a', 'new'),
            rangeOp('a'),
            deleteOp('gone'),
            rangeOp('gone'),
            txnOp(txnRequest([], [rangeOp('a'), putOp('b', 'nested')])),
            rangeOp('b'),
          ],
        ),
      );
      const ranges = (ops: ResponseOp[]): RangeResponse[] => ops.flatMap((op) => (op.responseRange ? [op.responseRange] : []));
      const found = ranges(response.responses);
      expect(found).to.have.length(4);
      const before = must(found[0], 'the range before the put');
      const after = must(found[1], 'the range after the put');
      const gone = must(found[2], 'the range after the delete');
      const afterNested = must(found[3], 'the range after the nested txn');
      expect(pairs(before.kvs)).to.deep.equal(['a=old']);
      expect(before.header?.revision).to.equal(3n);
      expect(pairs(after.kvs)).to.deep.equal(['a=new']);
      expect(after.kvs[0]).to.deep.include({ modRevision: 4n, version: 2n, createRevision: 2n });
      expect(after.header?.revision).to.equal(4n);
      expect(gone.kvs).to.deep.equal([]);
      const nested = must(response.responses[5]?.responseTxn, 'the nested txn response');
      expect(pairs(must(ranges(nested.responses)[0], 'the nested range').kvs)).to.deep.equal(['a=new']);
      expect(pairs(afterNested.kvs)).to.deep.equal(['b=nested']);
    });

    it('does not change the revision for a read-only txn', () => {
      put('a', '1'); // 2
      const response = txn(txnRequest([holds()], [rangeOp('a'), txnOp(txnRequest([], [rangeOp('a')]))]));
      expect(revision()).to.equal(2);
      expect(response.header?.revision).to.equal(2n);
      expect(pairs(must(response.responses[0]?.responseRange, 'the range response').kvs)).to.deep.equal(['a=1']);
      // A txn whose writes delete nothing is read-only too.
      expect(txn(txnRequest([], [deleteOp('missing')])).header?.revision).to.equal(2n);
      expect(revision()).to.equal(2);
    });

    it('follows the path through nested txns, siblings included', () => {
      const response = txn(
        txnRequest(
          [holds()],
          [
            txnOp(txnRequest([fails()], [putOp('n1', 'then')], [putOp('n1', 'else'), txnOp(txnRequest([holds()], [putOp('n2', 'then')], [putOp('n2', 'else')]))])),
            txnOp(txnRequest([holds()], [putOp('n3', 'then')], [putOp('n3', 'else')])),
            txnOp(txnRequest([fails()], [putOp('n4', 'then')], [putOp('n4', 'else')])),
          ],
          [putOp('outer', 'else')],
        ),
      );
      expect(response.succeeded).to.equal(true);
      const nested = response.responses.map((op) => op.responseTxn);
      expect(nested[0]?.succeeded).to.equal(false);
      expect(nested[0]?.responses[1]?.responseTxn?.succeeded).to.equal(true);
      expect(nested[1]?.succeeded).to.equal(true);
      expect(nested[2]?.succeeded).to.equal(false);
      expect(pairs(get('', '\0'))).to.deep.equal(['n1=else', 'n2=then', 'n3=then', 'n4=else']);
    });

    it('evaluates the compares of nested txns against the state before the txn', () => {
      // The nested compare asks whether "x" is "1"; the outer put of x=1 comes first but does not count.
      const nested = txnRequest([Compare.fromPartial({ key: b('x'), target: VALUE, result: EQUAL, value: b('1') })], [putOp('saw', 'x=1')], [putOp('saw', 'no x')]);
      txn(txnRequest([], [putOp('x', '1'), txnOp(nested)]));
      expect(pairs(get('saw'))).to.deep.equal(['saw=no x']);
    });

    it('answers an empty op with an empty response', () => {
      const response = txn(txnRequest([], [RequestOp.fromPartial({})]));
      expect(response.responses).to.deep.equal([{}]);
    });

    describe('failing whole, with no change', () => {
      beforeEach(() => {
        put('a', 'original'); // 2
      });

      const expectUnchanged = (): void => {
        expect(revision()).to.equal(2);
        expect(pairs(get('', '\0'))).to.deep.equal(['a=original']);
        // The failed txn left no trace: the next write gets the next revision and sees the same keys.
        expect(put('after', 'x').header?.revision).to.equal(3n);
        expect(pairs(get('', '\0'))).to.deep.equal(['a=original', 'after=x']);
      };

      it('when the chosen branch has a put with ignore_value on a missing key', () => {
        failWith(
          InternalRequest.fromPartial({ txn: txnRequest([holds()], [putOp('b', 'new'), deleteOp('a'), putOp('missing', '', { ignoreValue: true })]) }),
          KeyNotFoundError,
        );
        expectUnchanged();
      });

      it('when a nested txn on the chosen path has a put with ignore_lease on a missing key', () => {
        const nested = txnRequest([fails()], [], [putOp('missing', 'v', { ignoreLease: true })]);
        failWith(InternalRequest.fromPartial({ txn: txnRequest([], [putOp('a', 'changed'), txnOp(nested)]) }), KeyNotFoundError);
        expectUnchanged();
      });

      it('when the chosen branch puts with a lease that does not exist', () => {
        failWith(InternalRequest.fromPartial({ txn: txnRequest([], [putOp('a', 'changed'), putOp('b', 'v', { lease: 999n })]) }), LeaseNotFoundError);
        expectUnchanged();
      });

      it('when the chosen branch reads a future revision', () => {
        const future = RequestOp.fromPartial({ requestRange: RangeRequest.fromPartial({ key: b('a'), revision: 3n }) });
        failWith(InternalRequest.fromPartial({ txn: txnRequest([], [putOp('a', 'changed'), future]) }), FutureRevisionError);
        expectUnchanged();
      });

      it('when the chosen branch reads a compacted revision', () => {
        put('a', 'second'); // 3
        succeed(InternalRequest.fromPartial({ compaction: { revision: 3n } }));
        const compacted = RequestOp.fromPartial({ requestRange: RangeRequest.fromPartial({ key: b('a'), revision: 2n }) });
        failWith(InternalRequest.fromPartial({ txn: txnRequest([], [putOp('a', 'changed'), compacted]) }), CompactedError);
        expect(revision()).to.equal(3);
        expect(pairs(get('a'))).to.deep.equal(['a=second']);
      });

      it('when a put with ignore_value follows a delete of its key in the same branch', () => {
        // Validation lets this through (a delete with range_end "\0" never conflicts, as in etcd),
        // and the put's key exists before the txn, so only the applier can catch it.
        failWith(
          InternalRequest.fromPartial({ txn: txnRequest([], [deleteOp('a', '\0'), putOp('a', '', { ignoreValue: true })]) }),
          KeyNotFoundError,
        );
        expectUnchanged();
      });
    });

    it('succeeds when the failing put is on the branch not taken', () => {
      const response = txn(txnRequest([holds()], [putOp('a', '1')], [putOp('missing', '', { ignoreValue: true }), putOp('b', 'v', { lease: 999n })]));
      expect(response.succeeded).to.equal(true);
      expect(pairs(get('a'))).to.deep.equal(['a=1']);
    });
  });

  describe('Range', () => {
    // Final state (chosen so that every sort target gives a different order):
    //   a: create 3, mod 7, version 2, value "p"
    //   b: create 6, mod 6, version 1, value "r"
    //   c: create 2, mod 5, version 3, value "q"
    beforeEach(() => {
      put('c', 'c2'); // 2
      put('a', 'a3'); // 3
      put('c', 'c4'); // 4
      put('c', 'q'); // 5
      put('b', 'r'); // 6
      put('a', 'p'); // 7
      put('zz', 'outside'); // 8
    });

    const range = (fields: Partial<RangeRequest> = {}): RangeResponse =>
      applier.range(RangeRequest.fromPartial({ key: b('a'), rangeEnd: b('d'), ...fields }));

    it('reads [key, range_end) in key order with the current revision in the header', () => {
      const response = range();
      expect(pairs(response.kvs)).to.deep.equal(['a=p', 'b=r', 'c=q']);
      expect(response).to.deep.include({ more: false, count: 3n });
      expect(response.header?.revision).to.equal(8n);
      expect(response.kvs[0]).to.deep.equal({ key: b('a'), value: b('p'), createRevision: 3n, modRevision: 7n, version: 2n, lease: 0n });
    });

    const orders: Array<[RangeRequest_SortTarget, string[]]> = [
      [RangeRequest_SortTarget.KEY, ['a', 'b', 'c']],
      [RangeRequest_SortTarget.VERSION, ['b', 'a', 'c']],
      [RangeRequest_SortTarget.CREATE, ['c', 'a', 'b']],
      [RangeRequest_SortTarget.MOD, ['c', 'b', 'a']],
      [RangeRequest_SortTarget.VALUE, ['a', 'c', 'b']],
    ];
    for (const [sortTarget, ascending] of orders) {
      const name = RangeRequest_SortTarget[sortTarget];
      it(`sorts by ${name} ascending and descending`, () => {
        expect(keys(range({ sortTarget, sortOrder: RangeRequest_SortOrder.ASCEND }).kvs)).to.deep.equal(ascending);
        expect(keys(range({ sortTarget, sortOrder: RangeRequest_SortOrder.DESCEND }).kvs)).to.deep.equal([...ascending].reverse());
      });
      it(`sorts by ${name} ascending when the order is NONE`, () => {
        expect(keys(range({ sortTarget, sortOrder: RangeRequest_SortOrder.NONE }).kvs)).to.deep.equal(ascending);
      });
    }

    it('cuts to limit, sets more and still counts every key', () => {
      const limited = range({ limit: 2n });
      expect(keys(limited.kvs)).to.deep.equal(['a', 'b']);
      expect(limited).to.deep.include({ more: true, count: 3n });
      expect(range({ limit: 3n })).to.deep.include({ more: false, count: 3n });
      expect(range({ limit: 5n })).to.deep.include({ more: false, count: 3n });
    });

    it('sorts before it cuts to limit', () => {
      const limited = range({ limit: 2n, sortTarget: RangeRequest_SortTarget.KEY, sortOrder: RangeRequest_SortOrder.DESCEND });
      expect(keys(limited.kvs)).to.deep.equal(['c', 'b']);
      expect(limited.more).to.equal(true);
      const byCreate = range({ limit: 1n, sortTarget: RangeRequest_SortTarget.CREATE, sortOrder: RangeRequest_SortOrder.ASCEND });
      expect(keys(byCreate.kvs)).to.deep.equal(['c']);
    });

    it('returns keys without values with keys_only', () => {
      const response = range({ keysOnly: true });
      expect(keys(response.kvs)).to.deep.equal(['a', 'b', 'c']);
      expect(response.kvs.map((kv) => kv.value.length)).to.deep.equal([0, 0, 0]);
      expect(response.kvs[0]).to.deep.include({ createRevision: 3n, modRevision: 7n, version: 2n });
    });

    it('returns only the count with count_only', () => {
      const response = range({ countOnly: true });
      expect(response).to.deep.include({ kvs: [], more: false, count: 3n });
      expect(range({ countOnly: true, key: b('a'), rangeEnd: b('\0') }).count).to.equal(4n);
    });

    it('filters by min/max mod and create revision, counting before the filter', () => {
      expect(keys(range({ minModRevision: 6n }).kvs)).to.deep.equal(['a', 'b']);
      expect(keys(range({ maxModRevision: 6n }).kvs)).to.deep.equal(['b', 'c']);
      expect(keys(range({ minCreateRevision: 3n }).kvs)).to.deep.equal(['a', 'b']);
      expect(keys(range({ maxCreateRevision: 3n }).kvs)).to.deep.equal(['a', 'c']);
      expect(keys(range({ minModRevision: 6n, maxModRevision: 6n }).kvs)).to.deep.equal(['b']);
      const filtered = range({ minCreateRevision: 3n, maxCreateRevision: 5n });
      expect(keys(filtered.kvs)).to.deep.equal(['a']);
      expect(filtered.count).to.equal(3n);
    });

    it('applies limit after the filter', () => {
      const response = range({ minModRevision: 6n, limit: 1n });
      expect(keys(response.kvs)).to.deep.equal(['a']);
      expect(response.more).to.equal(true);
      expect(range({ maxModRevision: 5n, limit: 1n })).to.deep.include({ more: false });
    });

    it('reads a single key, every key >= key, and an earlier revision', () => {
      expect(pairs(applier.range(RangeRequest.fromPartial({ key: b('b') })).kvs)).to.deep.equal(['b=r']);
      expect(keys(applier.range(RangeRequest.fromPartial({ key: b('b'), rangeEnd: b('\0') })).kvs)).to.deep.equal(['b', 'c', 'zz']);
      const earlier = range({ revision: 4n });
      expect(pairs(earlier.kvs)).to.deep.equal(['a=a3', 'c=c4']);
      expect(earlier.header?.revision).to.equal(8n);
    });

    it('fails with FutureRevisionError and CompactedError at the store boundaries', () => {
      expect(() => range({ revision: 9n })).to.throw(FutureRevisionError);
      succeed(InternalRequest.fromPartial({ compaction: { revision: 5n } }));
      expect(pairs(range({ revision: 5n }).kvs)).to.deep.equal(['a=a3', 'c=q']);
      expect(() => range({ revision: 4n })).to.throw(CompactedError);
    });
  });

  describe('Compaction', () => {
    it('compacts and reports the current revision', () => {
      put('a', '1'); // 2
      put('a', '2'); // 3
      const response = succeed(InternalRequest.fromPartial({ compaction: { revision: 2n } }));
      expect(response.header?.revision).to.equal(3n);
      expect(temp.store.compactRevision).to.equal(2);
    });

    it('fails with FutureRevisionError above the current revision and CompactedError at or below the last compaction', () => {
      put('a', '1'); // 2
      failWith(InternalRequest.fromPartial({ compaction: { revision: 3n } }), FutureRevisionError);
      succeed(InternalRequest.fromPartial({ compaction: { revision: 2n } }));
      failWith(InternalRequest.fromPartial({ compaction: { revision: 2n } }), CompactedError);
      expect(temp.store.compactRevision).to.equal(2);
    });
  });
});
