/**
 * The linearizability checker against hand-made histories whose answer is known: it must accept the
 * linearizable ones and catch each classic anomaly (stale read, lost write, CAS anomaly).
 */
import { expect } from 'chai';
import { checkRegisterHistory, type Operation, type RegisterInput, type RegisterOutput } from './linearizability.js';

class History {
  readonly ops: Operation[] = [];

  private add(client: number, key: string, input: RegisterInput, output: RegisterOutput | undefined, call: number, ret: number): this {
    this.ops.push({ id: this.ops.length, client, key, input, output, call, ret });
    return this;
  }

  write(client: number, value: number, call: number, ret: number, key = 'x'): this {
    return this.add(client, key, { kind: 'write', value }, { done: true }, call, ret);
  }

  read(client: number, value: number, call: number, ret: number, key = 'x'): this {
    return this.add(client, key, { kind: 'read' }, { value }, call, ret);
  }

  cas(client: number, expected: number, value: number, ok: boolean, call: number, ret: number, key = 'x'): this {
    return this.add(client, key, { kind: 'cas', expected, value }, { ok }, call, ret);
  }

  /** A write whose client timed out: it may or may not have taken effect. */
  ambiguousWrite(client: number, value: number, call: number, key = 'x'): this {
    return this.add(client, key, { kind: 'write', value }, undefined, call, Infinity);
  }

  ambiguousCas(client: number, expected: number, value: number, call: number, key = 'x'): this {
    return this.add(client, key, { kind: 'cas', expected, value }, undefined, call, Infinity);
  }

  check() {
    return checkRegisterHistory(this.ops);
  }
}

describe('linearizability checker: linearizable histories are accepted', () => {
  it('an empty history, and a sequential one', () => {
    expect(new History().check().status).to.equal('ok');
    const h = new History().read(1, 0, 1, 2).write(1, 1, 3, 4).read(2, 1, 5, 6).cas(1, 1, 2, true, 7, 8).cas(2, 1, 3, false, 9, 10).read(1, 2, 11, 12);
    expect(h.check().status).to.equal('ok');
  });

  it('concurrent operations may take effect in either order (the worked example in linearizability.ts)', () => {
    const h = new History().write(1, 1, 1, 4).read(2, 1, 2, 6).read(3, 0, 3, 5);
    expect(h.check().status).to.equal('ok');
  });

  it('a read concurrent with two writes may see either', () => {
    const h = new History().write(1, 1, 1, 10).write(2, 2, 2, 9).read(3, 1, 3, 11).read(4, 2, 4, 12);
    // The two reads see different values, so the writes ordered 2 then 1, and read→2 went first.
    expect(h.check().status).to.equal('ok');
  });

  it('an ambiguous write may have taken effect (seen by a later read) ...', () => {
    const h = new History().write(1, 1, 1, 2).ambiguousWrite(2, 2, 3).read(3, 2, 10, 11);
    expect(h.check().status).to.equal('ok');
  });

  it('... or not (never seen), and an ambiguous CAS likewise', () => {
    const h = new History().write(1, 1, 1, 2).ambiguousWrite(2, 2, 3).read(3, 1, 10, 11).ambiguousCas(4, 1, 5, 12).read(5, 5, 20, 21);
    expect(h.check().status).to.equal('ok');
    const notApplied = new History().write(1, 1, 1, 2).ambiguousCas(4, 1, 5, 3).read(5, 1, 20, 21);
    expect(notApplied.check().status).to.equal('ok');
  });

  it('keys are independent: each is checked on its own', () => {
    const h = new History().write(1, 1, 1, 2, 'a').write(2, 7, 1.5, 2.5, 'b').read(1, 1, 3, 4, 'a').read(2, 7, 3.5, 4.5, 'b').read(3, 0, 5, 6, 'c');
    const r = h.check();
    expect(r.status).to.equal('ok');
    expect(r.status === 'ok' && r.keys).to.equal(3);
  });

  it('a wide history with many concurrent clients stays cheap thanks to memoization', () => {
    const h = new History();
    // 12 clients, each: write its own value, read it back; all overlapping in one window.
    for (let c = 1; c <= 12; c++) h.write(c, c, c, 100 + c);
    h.read(99, 12, 200, 201);
    const r = h.check();
    expect(r.status).to.equal('ok');
    expect(r.statesExplored).to.be.lessThan(20_000);
  });
});

describe('linearizability checker: violations are caught', () => {
  it('stale read: a read that starts after a write completed returns the old value', () => {
    const h = new History().write(1, 1, 1, 2).write(1, 2, 3, 4).read(2, 1, 5, 6);
    const r = h.check();
    expect(r.status).to.equal('violation');
    if (r.status !== 'violation') return;
    expect(r.key).to.equal('x');
    expect(r.explanation).to.contain('#2 c2 read→1 [5,6]');
    expect(r.explanation).to.match(/Longest legal real-time order found \(2 operations\): #0 c1 write\(1\) \[1,2\], #1 c1 write\(2\) \[3,4\]/);
  });

  it('lost write: two acknowledged writes, then reads that never see the second one', () => {
    const h = new History().write(1, 1, 1, 3).write(2, 2, 2, 4).read(3, 2, 5, 6).read(3, 1, 7, 8);
    expect(h.check().status).to.equal('violation');
    const lostToInitial = new History().write(1, 5, 1, 2).read(2, 0, 3, 4);
    expect(lostToInitial.check().status).to.equal('violation');
  });

  it('CAS anomaly: two CAS from the same expected value both succeed', () => {
    const h = new History().write(1, 1, 1, 2).cas(2, 1, 2, true, 3, 10).cas(3, 1, 3, true, 4, 11);
    expect(h.check().status).to.equal('violation');
  });

  it('CAS anomaly: a CAS fails although the register held the expected value', () => {
    const h = new History().write(1, 1, 1, 2).cas(2, 1, 9, false, 3, 4).read(3, 1, 5, 6);
    expect(h.check().status).to.equal('violation');
  });

  it('an ambiguous write cannot explain a value seen before it was invoked', () => {
    const h = new History().read(1, 4, 1, 2).ambiguousWrite(2, 4, 3);
    expect(h.check().status).to.equal('violation');
  });

  it('a violation on one key is reported with that key even when others are fine', () => {
    const h = new History().write(1, 1, 1, 2, 'good').read(1, 1, 3, 4, 'good').write(2, 1, 1, 2, 'bad').read(2, 0, 3, 4, 'bad');
    const r = h.check();
    expect(r.status).to.equal('violation');
    expect(r.status === 'violation' && r.key).to.equal('bad');
  });

  it('the search budget makes a hard history inconclusive instead of hanging', () => {
    const h = new History();
    for (let c = 1; c <= 16; c++) h.ambiguousWrite(c, c, c);
    h.read(99, 0, 100, 101).read(99, 17, 102, 103);
    const r = checkRegisterHistory(h.ops, { statesMax: 1000 });
    expect(r.status).to.equal('inconclusive');
  });

  it('malformed histories are programmer errors', () => {
    const h = new History().write(1, 1, 5, 5);
    expect(() => h.check()).to.throw(/must precede/);
  });
});
