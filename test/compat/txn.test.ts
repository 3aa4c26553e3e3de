// etcdctl txn (stdin) and raw Txn, side by side on etcd and cairn.
import { expect } from 'chai';
import {
  Compare,
  Compare_CompareResult,
  Compare_CompareTarget,
  RequestOp,
  TxnRequest,
} from '../../proto/gen/etcdserverpb/rpc.js';
import { compatPair } from './pair.js';
import { txnRaw } from './rpc.js';

/**
 * etcdctl txn's non-interactive input: compares, then success ops, then
 * failure ops, each section ended by a blank line (etcdctl 3.4 reads exactly
 * three sections and fails with EOF otherwise).
 */
function txnInput(compares: string[], success: string[], failure: string[]): string {
  const section = (lines: string[]): string => lines.map((line) => `${line}\n`).join('') + '\n';
  return section(compares) + section(success) + section(failure);
}

const put = (key: string, value: string): RequestOp => RequestOp.fromPartial({ requestPut: { key: Buffer.from(key), value: Buffer.from(value) } });
const get = (key: string, rangeEnd?: string): RequestOp =>
  RequestOp.fromPartial({ requestRange: { key: Buffer.from(key), rangeEnd: rangeEnd === undefined ? undefined : Buffer.from(rangeEnd) } });
const del = (key: string, rangeEnd?: string): RequestOp =>
  RequestOp.fromPartial({ requestDeleteRange: { key: Buffer.from(key), rangeEnd: rangeEnd === undefined ? undefined : Buffer.from(rangeEnd), prevKv: true } });
const nested = (request: Partial<TxnRequest>): RequestOp => RequestOp.fromPartial({ requestTxn: request });

describe('compat: etcdctl txn', function () {
  const pair = compatPair();

  it('all compares true (value, version, create, mod) runs the success ops', async () => {
    const revision = await pair.putAll([['txn/a', 'one'], ['txn/b', 'two'], ['txn/b', 'three'], ['txn/c', 'gone']]);
    const input = txnInput(
      ['val("txn/a") = "one"', 'ver("txn/b") = "2"', `create("txn/a") = "${revision - 3n}"`, `mod("txn/b") > "${revision - 2n}"`],
      ['put txn/x new', 'get txn/a', 'del txn/c'],
      ['put txn/y wrong'],
    );
    const result = await pair.etcdctl(['txn'], { stdin: input });
    expect(result.stdout).to.match(/^SUCCESS\n/);
    await pair.etcdctl(['txn', '-w', 'json'], { stdin: txnInput(['val("txn/a") = "one"'], ['get txn/ --prefix'], []) });
    await pair.etcdctl(['get', 'txn/', '--prefix', '-w', 'json']);
  });

  it('one false compare runs the failure ops', async () => {
    await pair.putAll([['txn/f/a', '10'], ['txn/f/b', 'x']]);
    const input = txnInput(
      ['val("txn/f/a") = "10"', 'ver("txn/f/b") > "5"'],
      ['put txn/f/ok yes'],
      ['put txn/f/else no', 'get txn/f/a', 'del txn/f/b --prev-kv'],
    );
    const result = await pair.etcdctl(['txn'], { stdin: input });
    expect(result.stdout).to.match(/^FAILURE\n/);
    await pair.etcdctl(['txn', '-w', 'json'], { stdin: input });
    await pair.etcdctl(['get', 'txn/f/', '--prefix', '-w', 'json']);
  });

  it('compares with < > != and on missing keys', async () => {
    await pair.putAll([['txn/cmp/a', 'm'], ['txn/cmp/a', 'n']]);
    const cases: string[][] = [
      ['val("txn/cmp/a") > "m"'],
      ['val("txn/cmp/a") < "m"'],
      ['val("txn/cmp/a") != "n"'],
      ['ver("txn/cmp/a") < "3"'],
      ['mod("txn/cmp/a") != "0"'],
      ['create("txn/cmp/missing") = "0"'],
      ['ver("txn/cmp/missing") = "0"'],
      // A value compare on a missing key is false whatever the operator.
      ['val("txn/cmp/missing") != "x"'],
      ['val("txn/cmp/missing") > ""'],
    ];
    const outcomes: string[] = [];
    for (const compares of cases) {
      const result = await pair.etcdctl(['txn'], { stdin: txnInput(compares, ['get txn/cmp/a'], []) });
      outcomes.push(result.stdout.split('\n')[0] ?? '');
    }
    expect(outcomes).to.include('SUCCESS').and.to.include('FAILURE');
  });

  it('no compares means success; empty branches still answer', async () => {
    await pair.etcdctl(['txn', '-w', 'json'], { stdin: txnInput([], ['put txn/empty v'], []) });
    await pair.etcdctl(['txn', '-w', 'json'], { stdin: txnInput(['val("txn/empty") = "other"'], [], []) });
    await pair.etcdctl(['txn'], { stdin: txnInput([], [], []) });
  });

  it('a read-only txn does not create a revision, a writing one creates exactly one', async () => {
    await pair.put('txn/ro', 'v');
    const readOnly = await pair.etcdctl(['txn', '-w', 'json'], { stdin: txnInput([], ['get txn/ro'], []) });
    const writes = await pair.etcdctl(['txn', '-w', 'json'], { stdin: txnInput([], ['put txn/ro/1 a', 'put txn/ro/2 b', 'del txn/ro'], []) });
    expect(readOnly.code).to.equal(0);
    expect(writes.code).to.equal(0);
    await pair.etcdctl(['get', 'txn/ro', '--prefix', '-w', 'json']);
  });

  it('put and delete of the same key fail with the duplicate key error', async () => {
    await pair.put('txn/dup', 'v');
    const putDelete = await pair.etcdctl(['txn'], { stdin: txnInput([], ['put txn/dup a', 'del txn/dup'], []) });
    expect(putDelete.code).to.equal(1);
    expect(putDelete.stderr).to.include('Error: etcdserver: duplicate key given in txn request');
    await pair.etcdctl(['txn'], { stdin: txnInput([], ['put txn/dup a', 'put txn/dup b'], []) });
    await pair.etcdctl(['txn'], { stdin: txnInput([], ['put txn/dup/x a', 'del txn/dup --prefix'], []) });
    await pair.etcdctl(['get', 'txn/dup', '--prefix', '-w', 'json']);
  });

  it('the same key in both branches, or deleted twice, is allowed', async () => {
    await pair.etcdctl(['txn'], { stdin: txnInput([], ['put txn/twice a'], ['put txn/twice b']) });
    await pair.etcdctl(['txn', '-w', 'json'], { stdin: txnInput([], ['del txn/twice', 'del txn/ --prefix --prev-kv'], []) });
    await pair.etcdctl(['get', 'txn/', '--prefix', '-w', 'json']);
  });

  it('more than 128 ops fail with "too many operations"; 128 succeed', async () => {
    const ops = (count: number): string[] => Array.from({ length: count }, (_, index) => `put txn/many/${index} v`);
    const tooMany = await pair.etcdctl(['txn'], { stdin: txnInput([], ops(129), []) });
    expect(tooMany.stderr).to.include('Error: etcdserver: too many operations in txn request');
    const enough = await pair.etcdctl(['txn'], { stdin: txnInput([], ops(128), []) });
    expect(enough.code).to.equal(0);
    await pair.etcdctl(['get', 'txn/many/', '--prefix', '--limit=1', '-w', 'json']);
  });

  it('ops take their flags: put --prev-kv, get --keys-only, del --prev-kv', async () => {
    await pair.put('txn/flags', '1');
    const success = await pair.etcdctl(['txn', '-w', 'json'], { stdin: txnInput([], ['put txn/flags 2 --prev-kv', 'get txn/flags --keys-only'], []) });
    expect(success.stdout).to.include('"prev_kv"');
    await pair.etcdctl(['txn', '-w', 'json'], { stdin: txnInput(['val("txn/flags") = "nope"'], ['put txn/flags 3'], ['del txn/flags --prev-kv']) });
  });

  describe('raw Txn', function () {
    it('nested txns run the branch their own compares choose', async () => {
      await pair.putAll([['txn/n/a', '1'], ['txn/n/b', '2']]);
      const request = TxnRequest.fromPartial({
        compare: [Compare.fromPartial({ key: Buffer.from('txn/n/a'), target: Compare_CompareTarget.VALUE, result: Compare_CompareResult.EQUAL, value: Buffer.from('1') })],
        success: [
          put('txn/n/outer', 'x'),
          nested({
            compare: [Compare.fromPartial({ key: Buffer.from('txn/n/b'), target: Compare_CompareTarget.VERSION, result: Compare_CompareResult.GREATER, version: 1n })],
            success: [put('txn/n/inner-success', 'y')],
            failure: [put('txn/n/inner-failure', 'z'), get('txn/n/', 'txn/n0'), nested({ success: [del('txn/n/b')] })],
          }),
          get('txn/n/', 'txn/n0'),
        ],
      });
      const outcome = await pair.raw((clients) => txnRaw(clients, request));
      expect(outcome.ok && outcome.response.succeeded).to.equal(true);
      await pair.etcdctl(['get', 'txn/n/', '--prefix', '-w', 'json']);
    });

    it('a key written in the outer txn and in a nested txn is a duplicate', async () => {
      const request = TxnRequest.fromPartial({
        success: [put('txn/n/dup', 'outer'), nested({ success: [put('txn/n/dup', 'inner')] })],
      });
      const outcome = await pair.raw((clients) => txnRaw(clients, request));
      expect(outcome.ok).to.equal(false);
      const branches = TxnRequest.fromPartial({
        success: [put('txn/n/dup', 'outer'), nested({ success: [get('txn/n/dup')], failure: [del('txn/n/dup')] })],
      });
      await pair.raw((clients) => txnRaw(clients, branches));
    });

    it('a compare with a range end applies to every key in the range', async () => {
      await pair.putAll([['txn/r/a', '1'], ['txn/r/b', '1'], ['txn/r/b', '2']]);
      const allVersionOne = TxnRequest.fromPartial({
        compare: [Compare.fromPartial({ key: Buffer.from('txn/r/'), rangeEnd: Buffer.from('txn/r0'), target: Compare_CompareTarget.VERSION, result: Compare_CompareResult.EQUAL, version: 1n })],
        success: [get('txn/r/a')],
        failure: [get('txn/r/b')],
      });
      const outcome = await pair.raw((clients) => txnRaw(clients, allVersionOne));
      expect(outcome.ok && outcome.response.succeeded).to.equal(false);
      const allPositive = TxnRequest.fromPartial({ ...allVersionOne, compare: [{ ...allVersionOne.compare[0]!, result: Compare_CompareResult.GREATER, version: 0n }] });
      await pair.raw((clients) => txnRaw(clients, allPositive));
    });

    // etcdctl 3.4 panics on lease compares ("bad value"), so they go over raw gRPC.
    it('a lease compare on a key without a lease sees lease 0', async () => {
      await pair.put('txn/lease', 'v');
      const request = TxnRequest.fromPartial({
        compare: [Compare.fromPartial({ key: Buffer.from('txn/lease'), target: Compare_CompareTarget.LEASE, result: Compare_CompareResult.EQUAL, lease: 0n })],
        success: [get('txn/lease')],
      });
      const outcome = await pair.raw((clients) => txnRaw(clients, request));
      expect(outcome.ok && outcome.response.succeeded).to.equal(true);
    });

    it('129 compares fail with "too many operations"', async () => {
      const compare = Compare.fromPartial({ key: Buffer.from('txn/lease'), target: Compare_CompareTarget.VERSION, result: Compare_CompareResult.GREATER, version: 0n });
      const request = TxnRequest.fromPartial({ compare: Array.from({ length: 129 }, () => compare), success: [get('txn/lease')] });
      const outcome = await pair.raw((clients) => txnRaw(clients, request));
      expect(outcome.ok).to.equal(false);
      if (!outcome.ok) expect(outcome.details).to.equal('etcdserver: too many operations in txn request');
      const failureBranch = TxnRequest.fromPartial({ failure: Array.from({ length: 129 }, (_, index) => get(`txn/${index}`)) });
      await pair.raw((clients) => txnRaw(clients, failureBranch));
    });
  });
});
