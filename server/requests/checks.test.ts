import { status } from '@grpc/grpc-js';
import { expect } from 'chai';
import {
  Compare,
  Compare_CompareResult,
  Compare_CompareTarget,
  DeleteRangeRequest,
  PutRequest,
  RangeRequest,
  RequestOp,
  TxnRequest,
} from '../../proto/gen/etcdserverpb/rpc.js';
import { RequestError, toServiceError } from '../grpc/errors.js';
import { checkDelete, checkPut, checkRange, checkTxn } from './checks.js';
import { DuplicateKeyError, EmptyKeyError, EmptyRequestOpError, LeaseProvidedError, TooManyTxnOpsError, ValueProvidedError } from './errors.js';

const b = (text: string): Buffer => Buffer.from(text);

/** A refusal: the typed error a check throws, and etcd's message a client gets for it. */
interface Refusal {
  type: new () => Error;
  message: string;
}

const emptyKey: Refusal = { type: EmptyKeyError, message: 'etcdserver: key is not provided' };
const keyNotFound: Refusal = { type: EmptyRequestOpError, message: 'etcdserver: key not found' };
const valueProvided: Refusal = { type: ValueProvidedError, message: 'etcdserver: value is provided' };
const leaseProvided: Refusal = { type: LeaseProvidedError, message: 'etcdserver: lease is provided' };
const tooManyOps: Refusal = { type: TooManyTxnOpsError, message: 'etcdserver: too many operations in txn request' };
const duplicateKey: Refusal = { type: DuplicateKeyError, message: 'etcdserver: duplicate key given in txn request' };

/**
 * Runs `check` and asserts it throws the typed error of `refusal` (a domain
 * error, not a wire one), which the error table answers with INVALID_ARGUMENT
 * and exactly etcd's message.
 */
function expectRequestError(check: () => void, refusal: Refusal): void {
  let thrown: unknown;
  try {
    check();
  } catch (error) {
    thrown = error;
  }
  expect(thrown, `expected "${refusal.message}"`).to.be.instanceOf(refusal.type);
  expect(thrown).to.not.be.instanceOf(RequestError);
  const wire = toServiceError(thrown);
  expect(wire.details).to.equal(refusal.message);
  expect(wire.code).to.equal(status.INVALID_ARGUMENT);
}

const putOp = (key: string, fields: Partial<PutRequest> = {}): RequestOp =>
  RequestOp.fromPartial({ requestPut: PutRequest.fromPartial({ key: b(key), ...fields }) });
const deleteOp = (key: string, rangeEnd = ''): RequestOp =>
  RequestOp.fromPartial({ requestDeleteRange: DeleteRangeRequest.fromPartial({ key: b(key), rangeEnd: b(rangeEnd) }) });
const rangeOp = (key: string): RequestOp => RequestOp.fromPartial({ requestRange: RangeRequest.fromPartial({ key: b(key) }) });
const txnOp = (txn: TxnRequest): RequestOp => RequestOp.fromPartial({ requestTxn: txn });
const compareOn = (key: string): Compare =>
  Compare.fromPartial({ key: b(key), target: Compare_CompareTarget.VERSION, result: Compare_CompareResult.EQUAL, version: 0n });

function txn(success: RequestOp[] = [], failure: RequestOp[] = [], compare: Compare[] = []): TxnRequest {
  return TxnRequest.fromPartial({ compare, success, failure });
}

const opsMax = 128;
const check = (request: TxnRequest, max = opsMax) => (): void => checkTxn(request, max);

describe('request checks', () => {
  describe('checkRange', () => {
    it('refuses an empty key', () => {
      expectRequestError(() => checkRange(RangeRequest.fromPartial({})), emptyKey);
      expectRequestError(() => checkRange(RangeRequest.fromPartial({ rangeEnd: b('\0') })), emptyKey);
    });

    it('accepts a key', () => {
      expect(() => checkRange(RangeRequest.fromPartial({ key: b('a') }))).to.not.throw();
    });
  });

  describe('checkPut', () => {
    it('refuses an empty key', () => {
      expectRequestError(() => checkPut(PutRequest.fromPartial({ value: b('v') })), emptyKey);
    });

    it('refuses a value together with ignore_value', () => {
      expectRequestError(() => checkPut(PutRequest.fromPartial({ key: b('a'), value: b('v'), ignoreValue: true })), valueProvided);
    });

    it('refuses a lease together with ignore_lease', () => {
      expectRequestError(() => checkPut(PutRequest.fromPartial({ key: b('a'), lease: 5n, ignoreLease: true })), leaseProvided);
    });

    it('checks the key first', () => {
      expectRequestError(() => checkPut(PutRequest.fromPartial({ value: b('v'), ignoreValue: true, lease: 5n, ignoreLease: true })), emptyKey);
    });

    it('accepts ignore_value without a value, ignore_lease without a lease, and a plain put', () => {
      expect(() => checkPut(PutRequest.fromPartial({ key: b('a'), ignoreValue: true, lease: 5n }))).to.not.throw();
      expect(() => checkPut(PutRequest.fromPartial({ key: b('a'), value: b('v'), ignoreLease: true }))).to.not.throw();
      expect(() => checkPut(PutRequest.fromPartial({ key: b('a'), value: b('v'), lease: 5n }))).to.not.throw();
    });
  });

  describe('checkDelete', () => {
    it('refuses an empty key, even with range_end', () => {
      expectRequestError(() => checkDelete(DeleteRangeRequest.fromPartial({})), emptyKey);
      expectRequestError(() => checkDelete(DeleteRangeRequest.fromPartial({ rangeEnd: b('\0') })), emptyKey);
    });

    it('accepts a key', () => {
      expect(() => checkDelete(DeleteRangeRequest.fromPartial({ key: b('a'), rangeEnd: b('\0') }))).to.not.throw();
    });
  });

  describe('checkTxn: sizes and ops', () => {
    const ops = (count: number, prefix: string): RequestOp[] => Array.from({ length: count }, (_, i) => putOp(`${prefix}${i}`));
    const compares = (count: number): Compare[] => Array.from({ length: count }, (_, i) => compareOn(`c${i}`));

    it('accepts an empty txn', () => {
      expect(check(txn())).to.not.throw();
    });

    it('counts compares, success and failure separately against the limit', () => {
      expect(check(txn(ops(3, 's'), ops(3, 'f'), compares(3)), 3)).to.not.throw();
      expectRequestError(check(txn([], [], compares(4)), 3), tooManyOps);
      expectRequestError(check(txn(ops(4, 's')), 3), tooManyOps);
      expectRequestError(check(txn([], ops(4, 'f')), 3), tooManyOps);
    });

    it('gives a nested txn the budget left by the largest list of its parent', () => {
      // The parent uses 2 of 3: the nested txn may have 1 op per list.
      expect(check(txn([txnOp(txn([putOp('n0')], [putOp('n1')], [compareOn('x')])), putOp('p')]), 3)).to.not.throw();
      expectRequestError(check(txn([txnOp(txn([putOp('n0'), putOp('n1')])), putOp('p')]), 3), tooManyOps);
      expectRequestError(check(txn([putOp('p')], [txnOp(txn([], [], [compareOn('x'), compareOn('y')])), putOp('q')]), 3), tooManyOps);
    });

    it('refuses a compare with an empty key', () => {
      expectRequestError(check(txn([], [], [compareOn('a'), compareOn('')])), emptyKey);
    });

    it('checks every op of both branches, nested ones included', () => {
      expectRequestError(check(txn([putOp('')])), emptyKey);
      expectRequestError(check(txn([], [putOp('')])), emptyKey);
      expectRequestError(check(txn([rangeOp('')])), emptyKey);
      expectRequestError(check(txn([], [deleteOp('')])), emptyKey);
      expectRequestError(check(txn([putOp('a', { value: b('v'), ignoreValue: true })])), valueProvided);
      expectRequestError(check(txn([], [putOp('a', { lease: 1n, ignoreLease: true })])), leaseProvided);
      expectRequestError(check(txn([txnOp(txn([], [rangeOp('')]))])), emptyKey);
      expectRequestError(check(txn([txnOp(txn([], [], [compareOn('')]))])), emptyKey);
    });

    it('refuses an empty RequestOp as etcd does', () => {
      expectRequestError(check(txn([RequestOp.fromPartial({})])), keyNotFound);
      expectRequestError(check(txn([], [putOp('a'), RequestOp.fromPartial({})])), keyNotFound);
      expectRequestError(check(txn([txnOp(txn([RequestOp.fromPartial({})]))])), keyNotFound);
    });

    it('checks sizes and ops before duplicate keys', () => {
      expectRequestError(check(txn([putOp('a'), putOp('a'), putOp('')])), emptyKey);
      expectRequestError(check(txn([putOp('a'), putOp('a'), putOp('b')]), 2), tooManyOps);
    });
  });

  describe('checkTxn: duplicate keys', () => {
    it('refuses two puts of one key in a branch', () => {
      expectRequestError(check(txn([putOp('a'), putOp('b'), putOp('a')])), duplicateKey);
      expectRequestError(check(txn([], [putOp('a'), putOp('a')])), duplicateKey);
    });

    it('allows the same put in the success and the failure branch', () => {
      expect(check(txn([putOp('a')], [putOp('a')]))).to.not.throw();
    });

    it('refuses a put of a key that the branch deletes, by key or by range', () => {
      expectRequestError(check(txn([putOp('a'), deleteOp('a')])), duplicateKey);
      expectRequestError(check(txn([deleteOp('a'), putOp('a')])), duplicateKey);
      expectRequestError(check(txn([deleteOp('a', 'c'), putOp('b')])), duplicateKey);
      expectRequestError(check(txn([deleteOp('a', 'c'), putOp('a')])), duplicateKey);
    });

    it('allows a put outside the deleted range, whose end is exclusive', () => {
      expect(check(txn([deleteOp('a', 'c'), putOp('c')]))).to.not.throw();
      expect(check(txn([deleteOp('b', 'c'), putOp('a')]))).to.not.throw();
      expect(check(txn([deleteOp('a'), putOp('a0')]))).to.not.throw();
    });

    it('allows overlapping deletes', () => {
      expect(check(txn([deleteOp('a', 'z'), deleteOp('b'), deleteOp('a', 'c')]))).to.not.throw();
    });

    it('lets the then and else branches of a nested txn share a put', () => {
      expect(check(txn([txnOp(txn([putOp('a')], [putOp('a')]))]))).to.not.throw();
    });

    it('refuses a nested put of a key the outer branch puts', () => {
      expectRequestError(check(txn([putOp('a'), txnOp(txn([putOp('a')]))])), duplicateKey);
      expectRequestError(check(txn([txnOp(txn([], [putOp('a')])), putOp('a')])), duplicateKey);
    });

    it('refuses the same put in two sibling nested txns unless both are then/else of one txn', () => {
      expectRequestError(check(txn([txnOp(txn([putOp('a')])), txnOp(txn([putOp('a')]))])), duplicateKey);
      expectRequestError(check(txn([txnOp(txn([putOp('a')])), txnOp(txn([], [putOp('a')]))])), duplicateKey);
    });

    it('refuses a nested put of a key the outer branch deletes, and an outer put of a key a nested txn deletes', () => {
      expectRequestError(check(txn([deleteOp('a', 'c'), txnOp(txn([putOp('b')]))])), duplicateKey);
      expectRequestError(check(txn([txnOp(txn([], [putOp('b')])), deleteOp('b')])), duplicateKey);
      expectRequestError(check(txn([txnOp(txn([deleteOp('a', 'c')])), putOp('b')])), duplicateKey);
      expectRequestError(check(txn([txnOp(txn([], [deleteOp('b')])), putOp('b')])), duplicateKey);
    });

    it('refuses a nested put of a key an earlier sibling nested txn deletes', () => {
      expectRequestError(check(txn([txnOp(txn([deleteOp('a')])), txnOp(txn([putOp('a')]))])), duplicateKey);
    });

    it('like etcd 3.4, allows a nested put followed by a later sibling nested delete of the key', () => {
      expect(check(txn([txnOp(txn([putOp('a')])), txnOp(txn([deleteOp('a')]))]))).to.not.throw();
    });

    it('allows a nested put and delete of one key in the exclusive then and else branches', () => {
      expect(check(txn([txnOp(txn([putOp('a')], [deleteOp('a')]))]))).to.not.throw();
    });

    it('allows a put together with a delete of the key in the other top-level branch', () => {
      expect(check(txn([putOp('a')], [deleteOp('a')]))).to.not.throw();
    });

    it('like etcd 3.4, treats a delete with range_end "\\0" as no conflict', () => {
      // etcd builds the interval [key, "\0"), which holds no key; see the applier test
      // "when a put with ignore_value follows a delete of its key in the same branch".
      expect(check(txn([deleteOp('a', '\0'), putOp('a')]))).to.not.throw();
      expect(check(txn([deleteOp('a', '\0'), putOp('b', { ignoreValue: true })]))).to.not.throw();
    });

    it('checks nested branches for duplicates of their own', () => {
      expectRequestError(check(txn([txnOp(txn([putOp('a'), putOp('a')]))])), duplicateKey);
      expectRequestError(check(txn([txnOp(txn([], [deleteOp('a'), putOp('a')]))])), duplicateKey);
    });
  });
});
