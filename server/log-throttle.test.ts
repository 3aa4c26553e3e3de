import { expect } from 'chai';
import { LogThrottle } from './log-throttle.js';
import { SimClock } from '../test/sim/clock.js';

describe('LogThrottle', () => {
  it('logs the first line of a kind, counts repeats within the interval, and reports them with the next line', () => {
    const lines: string[] = [];
    const clock = new SimClock();
    const throttle = new LogThrottle((line) => lines.push(line), 1_000, clock);
    throttle.line('a', 'a happened');
    throttle.line('a', 'a happened');
    throttle.line('b', 'b happened');
    clock.advance(999);
    throttle.line('a', 'a happened');
    clock.advance(1);
    throttle.line('a', 'a again');
    expect(lines).to.deep.equal(['a happened', 'b happened', 'a again (2 more like it since the last report)']);
  });
});
