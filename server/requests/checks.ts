// Request checks done before a request reaches the log, as etcd's v3rpc
// layer does them (key.go): empty keys, ignore_* misuse, txn size and the
// rule that a txn may not modify the same key twice. The KV service runs them
// on a client's request, the Lock and Election services on their own, and the
// leader on a request a peer proposes (node/entry-payloads.ts): whichever way
// a request comes, the log takes only what these let in.
import { TxnRequest, type DeleteRangeRequest, type PutRequest, type RangeRequest, type RequestOp } from '../../proto/gen/etcdserverpb/rpc.js';
import { DuplicateKeyError, EmptyKeyError, EmptyRequestOpError, LeaseProvidedError, TooManyTxnOpsError, ValueProvidedError } from './errors.js';

export function checkRange(request: RangeRequest): void {
  if (request.key.length === 0) throw new EmptyKeyError();
}

export function checkPut(request: PutRequest): void {
  if (request.key.length === 0) throw new EmptyKeyError();
  if (request.ignoreValue && request.value.length !== 0) throw new ValueProvidedError();
  if (request.ignoreLease && request.lease !== 0n) throw new LeaseProvidedError();
}

export function checkDelete(request: DeleteRangeRequest): void {
  if (request.key.length === 0) throw new EmptyKeyError();
}

/**
 * Levels of txns nested in a txn (the outer one is level 1). etcd bounds
 * nesting only through --max-txn-ops (each level spends its op count), so it
 * takes up to 127 levels by default; cairn stops at 32, which leaves the
 * protobuf decoders (ts-proto stops at 100 messages deep, two per level) room
 * for the request inside a log entry and for the response. The answer past
 * it is etcd's for too deep a txn.
 */
export const txnNestingMax = 32;

/** What decodeTxnRequest returns for a txn too deep to decode: checkTxn refuses it. */
const undecodableTxn: TxnRequest = Object.freeze({ compare: [], success: [], failure: [] });
const recursionLimitMessage = 'protobuf decode recursion limit exceeded';

/**
 * Decodes a Txn off the wire. One nested deeper than the decoder follows
 * would fail in gRPC's deserializer as INTERNAL "Error deserializing
 * request"; it is answered as any txn over the nesting bound instead.
 */
export function decodeTxnRequest(bytes: Buffer): TxnRequest {
  try {
    return TxnRequest.decode(bytes);
  } catch (error) {
    if (error instanceof Error && error.message === recursionLimitMessage) return undecodableTxn;
    throw error;
  }
}

export function checkTxn(request: TxnRequest, txnOpsMax: number): void {
  if (request === undecodableTxn) throw new TooManyTxnOpsError();
  checkTxnOps(request, txnOpsMax, 1);
  checkIntervals(request.success);
  checkIntervals(request.failure);
}

function checkTxnOps(request: TxnRequest, txnOpsMax: number, level: number): void {
  const ops = Math.max(request.compare.length, request.success.length, request.failure.length);
  if (ops > txnOpsMax || level > txnNestingMax) throw new TooManyTxnOpsError();
  for (const compare of request.compare) {
    if (compare.key.length === 0) throw new EmptyKeyError();
  }
  for (const op of [...request.success, ...request.failure]) checkOp(op, txnOpsMax - ops, level);
}

function checkOp(op: RequestOp, txnOpsMax: number, level: number): void {
  if (op.requestRange !== undefined) checkRange(op.requestRange);
  else if (op.requestPut !== undefined) checkPut(op.requestPut);
  else if (op.requestDeleteRange !== undefined) checkDelete(op.requestDeleteRange);
  else if (op.requestTxn !== undefined) checkTxnOps(op.requestTxn, txnOpsMax, level + 1);
  else throw new EmptyRequestOpError();
}

/** A half-open [start, end) of keys (as latin1 strings); a point has end = start + "\0". */
interface Interval {
  start: string;
  end: string;
}

class Intervals {
  private readonly list: Interval[] = [];

  add(interval: Interval): void {
    this.list.push(interval);
  }

  addAll(other: Intervals): void {
    this.list.push(...other.list);
  }

  containsKey(key: string): boolean {
    return this.list.some((interval) => interval.start <= key && key < interval.end);
  }
}

/**
 * etcd's checkIntervals: within one branch (and the branches nested in it) a
 * key may be put only once and may not be both put and deleted. The then and
 * else branches of a nested txn exclude each other, so they may share puts.
 */
function checkIntervals(ops: RequestOp[]): { puts: Set<string>; deletes: Intervals } {
  const deletes = new Intervals();
  for (const op of ops) {
    const request = op.requestDeleteRange;
    if (request === undefined) continue;
    const start = request.key.toString('latin1');
    deletes.add({ start, end: request.rangeEnd.length !== 0 ? request.rangeEnd.toString('latin1') : `${start}\0` });
  }
  const puts = new Set<string>();
  for (const op of ops) {
    if (op.requestTxn === undefined) continue;
    const then = checkIntervals(op.requestTxn.success);
    const otherwise = checkIntervals(op.requestTxn.failure);
    for (const key of then.puts) {
      if (puts.has(key) || deletes.containsKey(key)) throw new DuplicateKeyError();
      puts.add(key);
    }
    for (const key of otherwise.puts) {
      if (puts.has(key) && !then.puts.has(key)) throw new DuplicateKeyError();
      if (deletes.containsKey(key)) throw new DuplicateKeyError();
      puts.add(key);
    }
    deletes.addAll(then.deletes);
    deletes.addAll(otherwise.deletes);
  }
  for (const op of ops) {
    if (op.requestPut === undefined) continue;
    const key = op.requestPut.key.toString('latin1');
    if (puts.has(key) || deletes.containsKey(key)) throw new DuplicateKeyError();
    puts.add(key);
  }
  return { puts, deletes };
}
