// Arbitraries for the KV service: Range, Put, DeleteRange, Txn (nested up to
// ~45 levels, and around --max-txn-ops wide, duplicate keys welcome) and
// Compact.
import fc from 'fast-check';
import {
  CompactionRequest,
  Compare,
  DeleteRangeRequest,
  PutRequest,
  RangeRequest,
  RequestOp,
  TxnRequest,
} from '../../proto/gen/etcdserverpb/rpc.js';
import type { UnaryCall } from './calls.js';
import { binary, enumNumber, int64, keyRange, leaseId, readKey, value, writeKey, type Size } from './values.js';

/** etcd's default --max-txn-ops, which the fuzz targets run with. */
const txnOpsMax = 128;
/** Nesting of the deep chains: around cairn's bound of 32 and past it. */
const deepTxnLevels = { min: 28, max: 45 };

/** A revision: an int64, or (set at send time) one just below the latest seen. */
function revisionChoice(): fc.Arbitrary<{ revision: bigint; back?: number }> {
  return fc.oneof(
    { arbitrary: int64().map((revision) => ({ revision })), weight: 2 },
    { arbitrary: fc.integer({ min: -2, max: 20 }).map((back) => ({ revision: 0n, back })), weight: 1 },
  );
}

function rangeRequest(size: Size): fc.Arbitrary<RangeRequest> {
  return fc
    .record({
      range: keyRange(readKey(size)),
      limit: int64(),
      revision: fc.oneof({ arbitrary: fc.constant(0n), weight: 3 }, { arbitrary: int64(), weight: 1 }),
      sortOrder: enumNumber([0, 1, 2]),
      sortTarget: enumNumber([0, 1, 2, 3, 4]),
      serializable: fc.boolean(),
      keysOnly: fc.boolean(),
      countOnly: fc.boolean(),
      revisions: fc.option(fc.tuple(int64(), int64(), int64(), int64()), { freq: 3 }),
    })
    .map(({ range, revisions, ...rest }) => {
      const [minModRevision, maxModRevision, minCreateRevision, maxCreateRevision] = revisions ?? [0n, 0n, 0n, 0n];
      return RangeRequest.fromPartial({ ...range, ...rest, minModRevision, maxModRevision, minCreateRevision, maxCreateRevision });
    });
}

function putRequest(size: Size): fc.Arbitrary<PutRequest> {
  return fc
    .record({ key: writeKey(size), value: value(size), lease: leaseId(), prevKv: fc.boolean(), ignoreValue: fc.boolean(), ignoreLease: fc.boolean() })
    .map((fields) => PutRequest.fromPartial(fields));
}

function deleteRangeRequest(size: Size): fc.Arbitrary<DeleteRangeRequest> {
  return fc.record({ range: keyRange(writeKey(size)), prevKv: fc.boolean() }).map(({ range, prevKv }) => DeleteRangeRequest.fromPartial({ ...range, prevKv }));
}

/** A compare: known or unknown target and result, with a target_union that may not match the target. */
function compare(): fc.Arbitrary<Compare> {
  const union = fc.oneof(
    int64().map((version) => ({ version })),
    int64().map((createRevision) => ({ createRevision })),
    int64().map((modRevision) => ({ modRevision })),
    value('small').map((value) => ({ value })),
    int64().map((lease) => ({ lease })),
    fc.constant({}),
  );
  return fc
    .record({ range: keyRange(readKey('small')), target: enumNumber([0, 1, 2, 3, 4]), result: enumNumber([0, 1, 2, 3]), union })
    .map(({ range, target, result, union }) => Compare.fromPartial({ ...range, target, result, ...union }));
}

/** Leaf operations of a txn; an op with no request set at all is hostile too. */
function leafOp(): fc.Arbitrary<RequestOp> {
  return fc.oneof(
    { arbitrary: rangeRequest('small').map((requestRange) => RequestOp.fromPartial({ requestRange })), weight: 2 },
    { arbitrary: putRequest('small').map((requestPut) => RequestOp.fromPartial({ requestPut })), weight: 3 },
    { arbitrary: deleteRangeRequest('small').map((requestDeleteRange) => RequestOp.fromPartial({ requestDeleteRange })), weight: 2 },
    { arbitrary: fc.constant(RequestOp.fromPartial({})), weight: 1 },
  );
}

/** Small txns nested a few levels, as trees. */
function txnTree(): fc.Arbitrary<TxnRequest> {
  const tree = fc.letrec<{ txn: TxnRequest; op: RequestOp }>((tie) => ({
    txn: fc
      .record({
        compare: fc.array(compare(), { maxLength: 3 }),
        success: fc.array(tie('op'), { maxLength: 4 }),
        failure: fc.array(tie('op'), { maxLength: 3 }),
      })
      .map((fields) => TxnRequest.fromPartial(fields)),
    op: fc.oneof({ depthSize: 'small', withCrossShrink: true }, leafOp(), tie('txn').map((requestTxn) => RequestOp.fromPartial({ requestTxn }))),
  }));
  return tree.txn;
}

/** One op per level, `levels` deep, a leaf at the bottom; each level may take the then or the else branch. */
function deepTxn(): fc.Arbitrary<TxnRequest> {
  return fc
    .record({ levels: fc.integer(deepTxnLevels), leaf: leafOp(), branches: fc.array(fc.boolean(), { minLength: deepTxnLevels.max, maxLength: deepTxnLevels.max }) })
    .map(({ levels, leaf, branches }) => {
      let txn = TxnRequest.fromPartial({ success: [leaf] });
      for (let level = 1; level < levels; level++) {
        const op = RequestOp.fromPartial({ requestTxn: txn });
        txn = TxnRequest.fromPartial(branches[level] ? { success: [op] } : { failure: [op] });
      }
      return txn;
    });
}

/** Around --max-txn-ops ops in one branch, on few keys, so duplicates are the rule. */
function wideTxn(): fc.Arbitrary<TxnRequest> {
  const op = fc.oneof(
    { arbitrary: fc.constantFrom('a', 'b', 'c', 'd').map((key) => RequestOp.fromPartial({ requestRange: { key: Buffer.from(`fuzz/${key}`) } })), weight: 3 },
    { arbitrary: binary(2).map((suffix) => RequestOp.fromPartial({ requestPut: { key: Buffer.concat([Buffer.from('fuzz/w/'), suffix]), value: suffix } })), weight: 2 },
  );
  return fc
    .record({ count: fc.integer({ min: txnOpsMax - 3, max: txnOpsMax + 3 }), ops: fc.array(op, { minLength: txnOpsMax + 3, maxLength: txnOpsMax + 3 }), compares: fc.integer({ min: 0, max: txnOpsMax + 1 }) })
    .map(({ count, ops, compares }) => {
      const compare = Array.from({ length: compares }, (_, index) => Compare.fromPartial({ key: Buffer.from(`fuzz/${index % 4}`), version: BigInt(index) }));
      return TxnRequest.fromPartial({ compare, success: ops.slice(0, count), failure: ops.slice(0, count >> 1) });
    });
}

/** A txn that puts and deletes the same key, in the same branch or across nesting. */
function duplicateKeyTxn(): fc.Arbitrary<TxnRequest> {
  return fc.record({ key: writeKey('small'), put: putRequest('small'), nested: fc.boolean(), both: fc.boolean() }).map(({ key, put, nested, both }) => {
    const putOp = RequestOp.fromPartial({ requestPut: { ...put, key } });
    const deleteOp = RequestOp.fromPartial({ requestDeleteRange: { key } });
    const inner = TxnRequest.fromPartial({ success: [putOp], failure: both ? [putOp, deleteOp] : [putOp] });
    const success = nested ? [putOp, RequestOp.fromPartial({ requestTxn: inner })] : [putOp, both ? deleteOp : putOp];
    return TxnRequest.fromPartial({ success });
  });
}

function txnRequest(): fc.Arbitrary<TxnRequest> {
  return fc.oneof(
    { arbitrary: txnTree(), weight: 6 },
    { arbitrary: duplicateKeyTxn(), weight: 2 },
    { arbitrary: deepTxn(), weight: 1 },
    { arbitrary: wideTxn(), weight: 1 },
    { arbitrary: putRequest('any').map((requestPut) => TxnRequest.fromPartial({ success: [{ requestPut }] })), weight: 1 },
  );
}

/** The KV calls, weighted toward the ones with the most structure. */
export function kvCall(): fc.Arbitrary<UnaryCall> {
  const compactRequest = fc
    .record({ revision: revisionChoice(), physical: fc.boolean() })
    .map(({ revision, physical }): UnaryCall => ({
      kind: 'unary',
      method: 'KV.Compact',
      request: CompactionRequest.fromPartial({ revision: revision.revision, physical }),
      ...(revision.back !== undefined ? { nearCurrent: { field: 'revision', back: revision.back } } : {}),
    }));
  const rangeNear = fc.record({ request: rangeRequest('small'), back: fc.integer({ min: -2, max: 20 }) }).map(({ request, back }): UnaryCall => ({
    kind: 'unary',
    method: 'KV.Range',
    request,
    nearCurrent: { field: 'revision', back },
  }));
  return fc.oneof(
    { arbitrary: rangeRequest('any').map((request): UnaryCall => ({ kind: 'unary', method: 'KV.Range', request })), weight: 4 },
    { arbitrary: rangeNear, weight: 1 },
    { arbitrary: putRequest('any').map((request): UnaryCall => ({ kind: 'unary', method: 'KV.Put', request })), weight: 5 },
    { arbitrary: deleteRangeRequest('any').map((request): UnaryCall => ({ kind: 'unary', method: 'KV.DeleteRange', request })), weight: 2 },
    { arbitrary: txnRequest().map((request): UnaryCall => ({ kind: 'unary', method: 'KV.Txn', request })), weight: 6 },
    { arbitrary: compactRequest, weight: 1 },
  );
}
