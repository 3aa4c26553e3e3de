// Transactions: comparisons (`compare.*`), operations (`op.*`) and the `Txn`
// builder. Comparisons and operations are plain data; the namespace is applied
// only when a txn is turned into its wire form, so the same values can be
// reused with any client.
//
//   const result = await client.txn()
//     .if(compare.createRevision('lock', '=', 0n))     // "lock" does not exist
//     .then([op.put('lock', 'me', { lease })])
//     .else([op.get('lock')])
//     .commit();
import {
  Compare,
  Compare_CompareResult,
  Compare_CompareTarget,
  RequestOp,
  TxnRequest,
  type ResponseOp,
  type TxnResponse,
} from '../proto/gen/etcdserverpb/rpc.js';
import { bytesCodec } from './codec.js';
import { Idempotency, Service, type CallOptions, type Connection } from './connection.js';
import { InvalidOptionError } from './errors.js';
import { type Key, type KeySelector, type Namespace } from './keys.js';
import {
  deleteRequest,
  putRequest,
  rangeRequest,
  rawValueBytes,
  toDeleteResult,
  toHeader,
  toPutResult,
  toRangeResult,
  type DeleteOptions,
  type DeleteResult,
  type Header,
  type PutOptions,
  type PutResult,
  type RangeOptions,
  type RangeResult,
  type RawValue,
} from './kv.js';

/** Comparison operators: equal, greater, less, not equal. */
export type CompareOperator = '=' | '>' | '<' | '!=';

const operatorWire: Record<CompareOperator, Compare_CompareResult> = {
  '=': Compare_CompareResult.EQUAL,
  '>': Compare_CompareResult.GREATER,
  '<': Compare_CompareResult.LESS,
  '!=': Compare_CompareResult.NOT_EQUAL,
};

/** What a comparison looks at. */
export const CompareTarget = {
  Version: 'version',
  CreateRevision: 'createRevision',
  ModRevision: 'modRevision',
  Value: 'value',
  Lease: 'lease',
} as const;
/** What a comparison looks at. */
export type CompareTarget = (typeof CompareTarget)[keyof typeof CompareTarget];

/**
 * One condition of a txn. On a range selector every key in the range must
 * satisfy it. A missing key compares as zeroes (version, revisions, lease),
 * except that a value comparison on a missing key is always false.
 */
export interface Comparison {
  readonly selector: KeySelector;
  readonly target: CompareTarget;
  readonly operator: CompareOperator;
  readonly operand: bigint | Buffer;
}

function comparison(selector: KeySelector, target: CompareTarget, operator: CompareOperator, operand: bigint | Buffer): Comparison {
  if (!(operator in operatorWire)) throw new InvalidOptionError(`unknown comparison operator ${String(operator)}`);
  return { selector, target, operator, operand };
}

/** Builders of txn comparisons. */
export const compare = {
  /** The key's version (0 when missing). */
  version: (key: KeySelector, operator: CompareOperator, version: bigint) => comparison(key, CompareTarget.Version, operator, version),
  /** The key's create revision (0 when missing: `createRevision(k, '=', 0n)` means "k does not exist"). */
  createRevision: (key: KeySelector, operator: CompareOperator, revision: bigint) => comparison(key, CompareTarget.CreateRevision, operator, revision),
  /** The key's mod revision. */
  modRevision: (key: KeySelector, operator: CompareOperator, revision: bigint) => comparison(key, CompareTarget.ModRevision, operator, revision),
  /** The key's value, compared bytewise. */
  value: (key: KeySelector, operator: CompareOperator, value: RawValue) => comparison(key, CompareTarget.Value, operator, rawValueBytes(value)),
  /** The key's lease (0n when none). */
  lease: (key: KeySelector, operator: CompareOperator, lease: bigint) => comparison(key, CompareTarget.Lease, operator, lease),
} as const;

/** Operations a txn branch runs. */
export type Op =
  | { readonly type: 'get'; readonly selector: KeySelector; readonly options: RangeOptions }
  | { readonly type: 'put'; readonly key: Key; readonly value: Buffer; readonly options: PutOptions }
  | { readonly type: 'delete'; readonly selector: KeySelector; readonly options: DeleteOptions }
  | { readonly type: 'txn'; readonly txn: TxnSpec };

/** A txn as data: conditions and the two branches. */
export interface TxnSpec {
  readonly compares: readonly Comparison[];
  readonly success: readonly Op[];
  readonly failure: readonly Op[];
}

/** Builders of txn operations. */
export const op = {
  /** A range read (values in the result are raw bytes). */
  get: (selector: KeySelector, options: RangeOptions = {}): Op => ({ type: 'get', selector, options }),
  /** A put of bytes or a UTF-8 string. */
  put: (key: Key, value: RawValue, options: PutOptions = {}): Op => ({ type: 'put', key, value: rawValueBytes(value), options }),
  /** A delete of every key the selector covers. */
  delete: (selector: KeySelector, options: DeleteOptions = {}): Op => ({ type: 'delete', selector, options }),
  /** A nested txn (etcd ≥ 3.3): its own conditions and branches, in the same revision. */
  txn: (txn: TxnSpec | Txn): Op => ({ type: 'txn', txn: txn instanceof Txn ? txn.spec() : txn }),
} as const;

/** Result of one operation of the branch that ran. */
export type OpResult =
  | ({ type: 'get' } & RangeResult<Buffer>)
  | ({ type: 'put' } & PutResult<Buffer>)
  | ({ type: 'delete' } & DeleteResult<Buffer>)
  | ({ type: 'txn' } & TxnResult);

/** Result of a committed txn. */
export interface TxnResult {
  header: Header;
  /** Store revision after the txn (one new revision if it wrote anything). */
  revision: bigint;
  /** Whether the conditions held, i.e. the `then` branch ran. */
  succeeded: boolean;
  /** One result per operation of the branch that ran, in order. */
  responses: OpResult[];
}

function compareToWire(namespace: Namespace, item: Comparison): Compare {
  const range = namespace.range(item.selector);
  const base = { key: range.key, rangeEnd: range.rangeEnd, result: operatorWire[item.operator] };
  const operand = item.operand;
  switch (item.target) {
    case CompareTarget.Version: return Compare.fromPartial({ ...base, target: Compare_CompareTarget.VERSION, version: operand as bigint });
    case CompareTarget.CreateRevision: return Compare.fromPartial({ ...base, target: Compare_CompareTarget.CREATE, createRevision: operand as bigint });
    case CompareTarget.ModRevision: return Compare.fromPartial({ ...base, target: Compare_CompareTarget.MOD, modRevision: operand as bigint });
    case CompareTarget.Value: return Compare.fromPartial({ ...base, target: Compare_CompareTarget.VALUE, value: operand as Buffer });
    case CompareTarget.Lease: return Compare.fromPartial({ ...base, target: Compare_CompareTarget.LEASE, lease: operand as bigint });
  }
}

function opToWire(namespace: Namespace, item: Op): RequestOp {
  switch (item.type) {
    case 'get': return RequestOp.fromPartial({ requestRange: rangeRequest(namespace, item.selector, item.options) });
    case 'put': return RequestOp.fromPartial({ requestPut: putRequest(namespace, item.key, item.value, item.options) });
    case 'delete': return RequestOp.fromPartial({ requestDeleteRange: deleteRequest(namespace, item.selector, item.options) });
    case 'txn': return RequestOp.fromPartial({ requestTxn: txnToWire(namespace, item.txn) });
  }
}

/** The wire TxnRequest of a txn spec. */
export function txnToWire(namespace: Namespace, spec: TxnSpec): TxnRequest {
  return TxnRequest.fromPartial({
    compare: spec.compares.map((item) => compareToWire(namespace, item)),
    success: spec.success.map((item) => opToWire(namespace, item)),
    failure: spec.failure.map((item) => opToWire(namespace, item)),
  });
}

function responseFromWire(namespace: Namespace, response: ResponseOp): OpResult {
  if (response.responseRange !== undefined) return { type: 'get', ...toRangeResult(namespace, response.responseRange, bytesCodec) };
  if (response.responsePut !== undefined) return { type: 'put', ...toPutResult(namespace, response.responsePut, bytesCodec) };
  if (response.responseDeleteRange !== undefined) return { type: 'delete', ...toDeleteResult(namespace, response.responseDeleteRange, bytesCodec) };
  if (response.responseTxn !== undefined) return { type: 'txn', ...txnResultFromWire(namespace, response.responseTxn) };
  throw new InvalidOptionError('empty operation response from the server');
}

/** Converts a wire TxnResponse. */
export function txnResultFromWire(namespace: Namespace, response: TxnResponse): TxnResult {
  const header = toHeader(response.header);
  return {
    header,
    revision: header.revision,
    succeeded: response.succeeded,
    responses: response.responses.map((item) => responseFromWire(namespace, item)),
  };
}

/** Something that commits a txn spec: the client, or nothing for a txn used only nested. */
export type TxnCommitter = (spec: TxnSpec, options: CallOptions) => Promise<TxnResult>;

/**
 * A txn builder: `if(...)` conditions (a conjunction; none = always true),
 * `then([...])` operations when they hold, `else([...])` otherwise, then
 * `commit()`. Each method appends; the builder is not a promise — awaiting it
 * without `commit()` rejects with a TypeError instead of silently doing nothing.
 * Errors from commit: `DuplicateKeyError`, `TooManyOperationsError`, and the
 * errors of the operations. A txn that writes is never blindly re-sent.
 */
export class Txn {
  private readonly compares: Comparison[] = [];
  private readonly success: Op[] = [];
  private readonly failure: Op[] = [];

  /** @internal */
  constructor(private readonly committer?: TxnCommitter) {}

  /** Adds conditions. */
  if(...comparisons: Comparison[]): this {
    this.compares.push(...comparisons);
    return this;
  }

  /** Adds operations run when every condition holds. */
  then(operations: readonly Op[]): this;
  then(operations: unknown, reject?: unknown): this {
    if (typeof operations === 'function' || !Array.isArray(operations)) {
      // Awaited by mistake: the thenable protocol called us with (resolve, reject).
      if (typeof reject === 'function') reject(new TypeError('a Txn is not a promise: call .commit()'));
      return this;
    }
    this.success.push(...(operations as Op[]));
    return this;
  }

  /** Adds operations run when some condition does not hold. */
  else(operations: readonly Op[]): this {
    this.failure.push(...operations);
    return this;
  }

  /** The txn as data (for `op.txn`). */
  spec(): TxnSpec {
    return { compares: [...this.compares], success: [...this.success], failure: [...this.failure] };
  }

  /** Sends the txn. */
  commit(options: CallOptions = {}): Promise<TxnResult> {
    if (this.committer === undefined) return Promise.reject(new InvalidOptionError('this txn can only be nested (op.txn); use client.txn() to commit'));
    return this.committer(this.spec(), options);
  }
}

/** Whether every operation of a spec (nested included) only reads: such a txn is safe to retry. */
export function readOnly(spec: TxnSpec): boolean {
  return [...spec.success, ...spec.failure].every((item) => item.type === 'get' || (item.type === 'txn' && readOnly(item.txn)));
}

/** Commits txns for a client. */
export function txnCommitter(connection: Connection, namespace: Namespace): TxnCommitter {
  return async (spec, options) => {
    const request = txnToWire(namespace, spec);
    const idempotency = readOnly(spec) ? Idempotency.Safe : Idempotency.Unsafe;
    const response = await connection.unary(Service.KV, 'Txn', idempotency, (endpoint, metadata, callOptions) =>
      connection.callOnce<TxnResponse>((callback) => endpoint.kv.txn(request, metadata, callOptions, callback), options.signal), options);
    return txnResultFromWire(namespace, response);
  };
}
