// The STM's transactions on a recording committer: which reads each
// isolation level makes, the conditions and branches of its commit, the
// Else branch's re-reads reused by the next attempt, and the retry bound.
import { expect } from 'chai';
import { StmConflictError, InvalidOptionError } from './errors.js';
import { Isolation, runStm, type Stm } from './stm.js';
import type { Comparison, Op, TxnCommitter, TxnResult, TxnSpec } from './txn.js';

const header = (revision: bigint) => ({ clusterId: 1n, memberId: 1n, revision, raftTerm: 2n });
const kv = (key: string, value: string, modRevision: bigint) => ({
  key, keyBytes: Buffer.from(key), value: Buffer.from(value), createRevision: 1n, modRevision, version: 1n, lease: 0n,
});

/** Answers reads from `values` at `revision`; commits succeed unless `conflicts` says how many must fail first. */
function recorder(options: { revision: bigint; values: Record<string, [string, bigint]>; conflicts?: number }) {
  const specs: TxnSpec[] = [];
  let conflictsLeft = options.conflicts ?? 0;
  const answerGets = (ops: readonly Op[]) => ops.map((item) => {
    if (item.type !== 'get') throw new Error('expected reads');
    const name = String(item.selector);
    const stored = options.values[name];
    return { type: 'get' as const, header: header(options.revision), revision: options.revision, kvs: stored === undefined ? [] : [kv(name, stored[0], stored[1])], more: false, count: stored === undefined ? 0 : 1 };
  });
  const committer: TxnCommitter = async (spec): Promise<TxnResult> => {
    specs.push(spec);
    const reads = spec.compares.length === 0 && spec.success.every((item) => item.type === 'get') && spec.failure.length === 0 && spec.success.length > 0;
    if (reads) return { header: header(options.revision), revision: options.revision, succeeded: true, responses: answerGets(spec.success) };
    if (conflictsLeft > 0) {
      conflictsLeft--;
      return { header: header(options.revision), revision: options.revision, succeeded: false, responses: answerGets(spec.failure) };
    }
    return { header: header(options.revision + 1n), revision: options.revision + 1n, succeeded: true, responses: [] };
  };
  return { committer, specs };
}

const describeCompare = (item: Comparison) => `${String(item.selector)} ${item.target} ${item.operator} ${String(item.operand)}`;
const readOptions = (spec: TxnSpec | undefined) => spec?.success.map((item) => item.type === 'get' ? item.options : undefined);

async function readAThenB(stm: Stm): Promise<string | undefined> {
  const a = (await stm.get('a'))?.toString();
  await stm.get('c');
  stm.put('b', `${a}+1`);
  return a;
}

describe('client stm', () => {
  it('serializable snapshot: first read latest, the next at its revision; commit checks reads and writes, re-reads in Else', async () => {
    const { committer, specs } = recorder({ revision: 9n, values: { a: ['1', 5n] } });
    const result = await runStm(committer, readAThenB);
    expect(result.value).to.equal('1');
    expect(result.conflicts).to.equal(0);
    expect(readOptions(specs[0])).to.deep.equal([{ serializable: false }]);
    expect(readOptions(specs[1])).to.deep.equal([{ revision: 9n, serializable: true }]);
    const commit = specs[2];
    expect(commit?.compares.map(describeCompare)).to.deep.equal(['a modRevision = 5', 'c modRevision = 0', 'b modRevision < 10']);
    expect(commit?.success.map((item) => item.type)).to.deep.equal(['put']);
    expect(commit?.failure.map((item) => item.type === 'get' ? String(item.selector) : item.type)).to.deep.equal(['a', 'c']);
  });

  it('serializable checks reads only; repeatable reads and read committed read member-local latest and re-read nothing', async () => {
    const expected = {
      [Isolation.Serializable]: ['a modRevision = 5', 'c modRevision = 0'],
      [Isolation.RepeatableReads]: ['a modRevision = 5', 'c modRevision = 0'],
      [Isolation.ReadCommitted]: [],
    };
    for (const [isolation, compares] of Object.entries(expected)) {
      const { committer, specs } = recorder({ revision: 9n, values: { a: ['1', 5n] } });
      await runStm(committer, readAThenB, { isolation: isolation as Isolation });
      expect(specs.at(-1)?.compares.map(describeCompare), isolation).to.deep.equal(compares);
      const snapshot = isolation === Isolation.Serializable;
      expect(readOptions(specs[1]), isolation).to.deep.equal([snapshot ? { revision: 9n, serializable: true } : { serializable: true }]);
      expect(specs.at(-1)?.failure, isolation).to.have.length(snapshot ? 2 : 0);
    }
  });

  it('reads a key once per attempt, sees its own writes and deletes, and prefetches in one round trip', async () => {
    const { committer, specs } = recorder({ revision: 9n, values: { a: ['1', 5n], b: ['2', 6n] } });
    await runStm(committer, async (stm) => {
      expect((await stm.get('a'))?.toString()).to.equal('1');
      expect((await stm.get('b'))?.toString()).to.equal('2');
      expect(await stm.rev('a')).to.equal(5n);
      stm.put('a', 'x');
      expect((await stm.get('a'))?.toString()).to.equal('x');
      stm.delete('a');
      expect(await stm.get('a')).to.equal(undefined);
    }, { prefetch: ['a', 'b'] });
    expect(specs).to.have.length(2);
    expect(specs[0]?.success).to.have.length(2);
    expect(specs[1]?.success.map((item) => item.type)).to.deep.equal(['delete']);
  });

  it('runs again on a conflict from the re-read values without a read, and gives up after `retries` with StmConflictError', async () => {
    const { committer, specs } = recorder({ revision: 9n, values: { a: ['1', 5n] }, conflicts: 2 });
    const result = await runStm(committer, async (stm) => stm.put('a', `${(await stm.get('a'))?.toString()}!`), { retries: 2 });
    expect(result.conflicts).to.equal(2);
    // One read, then three commits: the re-reads of the failed commits served the later attempts.
    expect(specs.map((spec) => spec.compares.length)).to.deep.equal([0, 2, 2, 2]);

    // Repeatable reads re-read nothing in the Else branch, so its next run reads afresh.
    const repeatable = recorder({ revision: 9n, values: { a: ['1', 5n] }, conflicts: 1 });
    await runStm(repeatable.committer, async (stm) => stm.put('a', `${(await stm.get('a'))?.toString()}!`), { isolation: Isolation.RepeatableReads });
    expect(repeatable.specs.map((spec) => spec.compares.length === 0 ? 'read' : 'commit')).to.deep.equal(['read', 'commit', 'read', 'commit']);

    const failing = recorder({ revision: 9n, values: { a: ['1', 5n] }, conflicts: 5 });
    const error = await runStm(failing.committer, async (stm) => stm.put('a', `${(await stm.get('a'))?.toString()}!`), { retries: 1 }).catch((caught: unknown) => caught);
    expect(error).to.be.instanceOf(StmConflictError);
    expect((error as StmConflictError).conflicts).to.equal(2);
  });

  it('aborts on an error of the function without committing, refuses bad options and a Stm used after its attempt', async () => {
    const { committer, specs } = recorder({ revision: 9n, values: {} });
    const thrown = new Error('application');
    expect(await runStm(committer, (stm) => { stm.put('a', '1'); throw thrown; }).catch((caught: unknown) => caught)).to.equal(thrown);
    expect(specs).to.have.length(0);
    expect(await runStm(committer, () => 1, { retries: -1 }).catch((caught: unknown) => caught)).to.be.instanceOf(InvalidOptionError);
    let leaked: Stm | undefined;
    await runStm(committer, (stm) => { leaked = stm; });
    expect(() => leaked?.put('a', '1')).to.throw(InvalidOptionError);
  });
});
