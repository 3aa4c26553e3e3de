import { expect } from 'chai';
import { SimClock } from '../../test/sim/clock.js';
import { RequestTimeoutError } from './errors.js';
import { Waiters } from './waiters.js';

/** Settles what a promise settled to, once microtasks ran. */
async function outcome<T>(promise: Promise<T>): Promise<string> {
  return promise.then((value) => `resolved ${String(value)}`, (error: Error) => `rejected ${error.constructor.name}`);
}

describe('Waiters: one timer for every deadline', () => {
  it('each waiter times out exactly timeoutMs after it registered, whatever settled before it', async () => {
    const clock = new SimClock();
    const waiters = new Waiters<string>(100, clock);
    const first = waiters.wait(1n);
    clock.advance(30);
    const second = waiters.wait(2n);
    clock.advance(30);
    const third = waiters.wait(3n);
    waiters.resolve(1n, 'one'); // the oldest settles: the others keep their own deadlines
    clock.advance(69); // t=129: second's deadline (130) not reached
    expect(waiters.size).to.equal(2);
    clock.advance(1); // t=130
    expect(waiters.size).to.equal(1);
    expect(waiters.has(3n)).to.equal(true);
    clock.advance(29); // t=159
    expect(waiters.size).to.equal(1);
    clock.advance(1); // t=160
    expect(waiters.size).to.equal(0);
    expect(await outcome(first)).to.equal('resolved one');
    expect(await outcome(second)).to.equal(`rejected ${RequestTimeoutError.name}`);
    expect(await outcome(third)).to.equal(`rejected ${RequestTimeoutError.name}`);
    expect(waiters.timedOutTotal).to.equal(2);
  });

  it('waiters registered together time out together; one settled meanwhile does not', async () => {
    const clock = new SimClock();
    const waiters = new Waiters<string>(50, clock);
    const all = [1n, 2n, 3n].map((id) => waiters.wait(id));
    waiters.reject(2n, new Error('refused'));
    clock.advance(50);
    expect(await Promise.all(all.map(outcome))).to.deep.equal([`rejected ${RequestTimeoutError.name}`, 'rejected Error', `rejected ${RequestTimeoutError.name}`]);
    expect(waiters.timedOutTotal).to.equal(2);
  });

  it('no timer is left once nothing waits, and a later waiter gets a full timeout', async () => {
    const clock = new SimClock();
    const waiters = new Waiters<string>(100, clock);
    const early = waiters.wait(1n);
    waiters.resolve(1n, 'done');
    clock.advance(500);
    const late = waiters.wait(2n);
    clock.advance(99);
    expect(waiters.has(2n)).to.equal(true);
    clock.advance(1);
    expect(await outcome(early)).to.equal('resolved done');
    expect(await outcome(late)).to.equal(`rejected ${RequestTimeoutError.name}`);
  });

  it('waitWith settles its callback once, synchronously, as resolve, reject or the deadline happens', () => {
    const clock = new SimClock();
    const waiters = new Waiters<string>(100, clock);
    const heard: string[] = [];
    const listen = (id: string) => (error: Error | undefined, value?: string) => heard.push(error === undefined ? `${id} ${value}` : `${id} ${error.constructor.name}`);
    waiters.waitWith(1n, listen('one'));
    waiters.waitWith(2n, listen('two'));
    waiters.waitWith(3n, listen('three'));
    waiters.resolve(1n, 'done');
    expect(heard, 'no turn of the loop in between').to.deep.equal(['one done']);
    waiters.reject(2n, new RangeError('refused'));
    waiters.resolve(2n, 'late');
    expect(heard).to.deep.equal(['one done', 'two RangeError']);
    clock.advance(100);
    expect(heard).to.deep.equal(['one done', 'two RangeError', `three ${RequestTimeoutError.name}`]);
    waiters.resolve(3n, 'after the deadline');
    expect(heard).to.have.length(3);
    expect(waiters.size).to.equal(0);
  });
});
