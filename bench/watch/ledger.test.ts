import { expect } from 'chai';
import { LatencyHistogram, signedQuantileUs } from '../stats.js';
import { DeliveryLedger } from './ledger.js';

function stamp(sequence: number, sendUs = 0, measured = true) {
  return { sequence, measured, sendUs };
}

function signed(summary: ReturnType<DeliveryLedger['summary']>, q: number): number {
  const [negative, positive] = [new LatencyHistogram(), new LatencyHistogram()];
  negative.merge(summary.receivedBeforeAck);
  positive.merge(summary.ackToReceived);
  return signedQuantileUs(negative, positive, q);
}

describe('watch bench DeliveryLedger', () => {
  it('accounts the worked example: an early receipt, a miss, and an unacknowledged put', () => {
    const ledger = new DeliveryLedger(2, 10, 100);
    ledger.received(stamp(0), 90); // watcher A, before the ack
    ledger.acknowledged(0, 100);
    ledger.received(stamp(0), 130); // watcher B
    ledger.acknowledged(1, 200);
    ledger.received(stamp(1), 210); // only watcher A
    ledger.received(stamp(2), 300); // put 2 failed at the writer, yet both watchers got it
    ledger.received(stamp(2), 310);
    const summary = ledger.summary();
    expect(summary).to.include({ acknowledged: 2, misses: 1, putsWithMisses: 1, unackedEvents: 2, overDelivered: 0, events: 5 });
    expect(summary.receivedBeforeAck.count).to.equal(1);
    expect(signed(summary, 1 / 3)).to.equal(-10);
    expect(signed(summary, 1)).to.equal(30);
    expect(ledger.complete).to.equal(false);
  });

  it('is complete exactly when every acknowledged put reached every watcher, whichever comes first', () => {
    const ledger = new DeliveryLedger(2, 10, 100);
    ledger.acknowledged(0, 10);
    expect(ledger.complete).to.equal(false);
    ledger.received(stamp(0), 20);
    ledger.received(stamp(0), 21);
    expect(ledger.complete).to.equal(true);
    ledger.received(stamp(1), 30);
    ledger.received(stamp(1), 31);
    expect(ledger.complete).to.equal(true); // put 1 is not acknowledged yet: nothing owed
    ledger.acknowledged(1, 40);
    expect(ledger.complete).to.equal(true);
    expect(ledger.summary().misses).to.equal(0);
  });

  it('keeps warm-up puts out of the latencies but in the account', () => {
    const ledger = new DeliveryLedger(1, 10, 100);
    ledger.acknowledged(0, 10);
    ledger.received(stamp(0, 5, false), 20);
    const summary = ledger.summary();
    expect(summary).to.include({ events: 1, measuredEvents: 0, misses: 0 });
    expect(summary.sentToReceived.count).to.equal(0);
    expect(summary.firstMeasuredSendUs).to.be.NaN;
  });

  it('counts foreign values and deliveries beyond one per watcher', () => {
    const ledger = new DeliveryLedger(1, 4, 100);
    ledger.received(undefined, 1);
    ledger.received(stamp(4), 1); // beyond putsMax
    ledger.acknowledged(0, 1);
    ledger.received(stamp(0), 2);
    ledger.received(stamp(0), 3);
    expect(ledger.summary()).to.include({ malformed: 2, overDelivered: 1, misses: 0 });
  });

  it('refuses a second ack of one put, an ack out of range, and unbounded pending receipts', () => {
    const ledger = new DeliveryLedger(1, 4, 2);
    ledger.acknowledged(0, 1);
    expect(() => ledger.acknowledged(0, 2)).to.throw('put 0 was acknowledged twice');
    expect(() => ledger.acknowledged(4, 2)).to.throw('ack of put 4 is outside [0, 4)');
    ledger.received(stamp(1), 1);
    ledger.received(stamp(2), 1);
    expect(() => ledger.received(stamp(3), 1)).to.throw("more than 2 events are waiting for their put's ack time");
  });
});
