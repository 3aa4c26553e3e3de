// Txn compares, evaluated as etcd evaluates them. A missing key compares as
// a zero KeyValue (create/mod revision, version and lease 0), except that a
// VALUE compare on a missing key always fails. With range_end, every key in
// the range must satisfy the compare.
import { Compare_CompareResult, Compare_CompareTarget, type Compare, type TxnRequest } from '../../proto/gen/etcdserverpb/rpc.js';
import { KeyValue } from '../../proto/gen/mvccpb/kv.js';
import { keyRange, type RangeReader } from './range.js';

export function compareHolds(reader: RangeReader, compare: Compare): boolean {
  const { kvs } = reader.range(keyRange(compare.key, compare.rangeEnd), {});
  if (kvs.length === 0) {
    if (compare.target === Compare_CompareTarget.VALUE) return false;
    return compareKeyValue(compare, KeyValue.fromPartial({}));
  }
  return kvs.every((kv) => compareKeyValue(compare, kv));
}

function compareKeyValue(compare: Compare, kv: KeyValue): boolean {
  let order: number;
  switch (compare.target) {
    case Compare_CompareTarget.VALUE:
      order = Buffer.compare(kv.value, compare.value ?? Buffer.alloc(0));
      break;
    case Compare_CompareTarget.CREATE:
      order = sign(kv.createRevision - (compare.createRevision ?? 0n));
      break;
    case Compare_CompareTarget.MOD:
      order = sign(kv.modRevision - (compare.modRevision ?? 0n));
      break;
    case Compare_CompareTarget.VERSION:
      order = sign(kv.version - (compare.version ?? 0n));
      break;
    case Compare_CompareTarget.LEASE:
      order = sign(kv.lease - (compare.lease ?? 0n));
      break;
    default:
      order = 0;
  }
  switch (compare.result) {
    case Compare_CompareResult.EQUAL:
      return order === 0;
    case Compare_CompareResult.NOT_EQUAL:
      return order !== 0;
    case Compare_CompareResult.GREATER:
      return order > 0;
    case Compare_CompareResult.LESS:
      return order < 0;
    default:
      return true;
  }
}

function sign(value: bigint): number {
  return value < 0n ? -1 : value > 0n ? 1 : 0;
}

/**
 * The branch every (nested) txn takes, in depth-first order: path[0] is the
 * outer txn; nested txns of the taken branch follow. All compares are
 * evaluated against the state before the txn, as in etcd.
 */
export function txnPath(reader: RangeReader, txn: TxnRequest): boolean[] {
  const succeeded = txn.compare.every((compare) => compareHolds(reader, compare));
  const path = [succeeded];
  for (const op of succeeded ? txn.success : txn.failure) {
    if (op.requestTxn !== undefined) path.push(...txnPath(reader, op.requestTxn));
  }
  return path;
}
