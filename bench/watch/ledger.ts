// The watch benchmark's account of deliveries, kept by each watcher process:
// how many of its watchers received each put, when the writer saw each put
// acknowledged, and the delivery latencies. From it come the misses (an
// acknowledged put some watcher never received), which must be zero.
//
// Worked example with 2 watchers: put 0 is acknowledged at 100 µs; watcher A
// receives it at 90 µs (before the ack reached the writer: its receipt is kept
// pending until the ack time arrives, then recorded as -10 µs), watcher B at
// 130 µs (+30 µs). Put 1 is acknowledged, but only A receives
// it: at the end, misses = 1 and putsWithMisses = 1. Put 2 failed at the
// writer (never acknowledged) yet was applied, and both watchers received it:
// unackedEvents = 2, which is no miss.
import { LatencyHistogram, type HistogramSnapshot } from '../stats.js';
import type { PutStamp } from './value.js';

export interface LedgerSummary {
  watchers: number;
  /** Events received, warm-up included. */
  events: number;
  /** Events of measured puts. */
  measuredEvents: number;
  /** Send time of the earliest measured put received; NaN if none. */
  firstMeasuredSendUs: number;
  /** Receipt time of the last measured event; NaN if none. */
  lastMeasuredReceiptUs: number;
  /** Puts the writer saw acknowledged (as relayed to this process). */
  acknowledged: number;
  /** (acknowledged put, watcher) pairs never delivered. */
  misses: number;
  putsWithMisses: number;
  /** Events of puts never acknowledged: failed or timed-out puts that were applied all the same. */
  unackedEvents: number;
  /** Deliveries beyond one per watcher for one put. */
  overDelivered: number;
  /** Values not written by the benchmark's writer, or numbered beyond --puts-max. */
  malformed: number;
  /** From the put's send to the event's receipt, measured puts only. */
  sentToReceived: HistogramSnapshot;
  /**
   * Receipt time minus the time the writer saw the put acknowledged, measured
   * puts only, as a signed distribution (stats.ts signedQuantileUs): the
   * non-negative values here, the magnitudes of the negative ones (events that
   * beat the ack to the writer) in receivedBeforeAck.
   */
  ackToReceived: HistogramSnapshot;
  receivedBeforeAck: HistogramSnapshot;
}

export class DeliveryLedger {
  /** Per put sequence: watchers that received it. */
  private readonly receipts: Uint32Array;
  /** Per put sequence: when the writer saw it acknowledged; NaN until then. */
  private readonly ackTimesUs: Float64Array;
  /** Receipt times of measured events whose ack time is not known yet, by sequence. */
  private readonly pendingReceiptsUs = new Map<number, number[]>();
  private pendingCount = 0;
  private readonly sentToReceived = new LatencyHistogram();
  private readonly ackToReceived = new LatencyHistogram();
  private readonly receivedBeforeAck = new LatencyHistogram();
  private events = 0;
  private measuredEvents = 0;
  private firstMeasuredSendUs = Number.NaN;
  private lastMeasuredReceiptUs = Number.NaN;
  private acknowledgedCount = 0;
  /** Acknowledged puts that every watcher received. Invariant: completeCount <= acknowledgedCount. */
  private completeCount = 0;
  private malformed = 0;
  /** Highest sequence seen by receipt or ack; the summary scans up to it. */
  private sequenceHigh = -1;

  /**
   * @param watcherCount watchers in this process, each of which must receive every put
   * @param putsMax sequences are in [0, putsMax)
   * @param pendingMax bound on receipts waiting for their ack time; past it the ledger throws
   */
  constructor(readonly watcherCount: number, readonly putsMax: number, private readonly pendingMax: number) {
    this.receipts = new Uint32Array(putsMax);
    this.ackTimesUs = new Float64Array(putsMax).fill(Number.NaN);
  }

  /** A watcher received the event of the put stamped `stamp` at `receiptUs`; undefined for a foreign value. */
  received(stamp: PutStamp | undefined, receiptUs: number): void {
    if (stamp === undefined || stamp.sequence >= this.putsMax) {
      this.malformed += 1;
      return;
    }
    const { sequence } = stamp;
    this.events += 1;
    this.sequenceHigh = Math.max(this.sequenceHigh, sequence);
    const receipts = this.receiptsOf(sequence) + 1;
    this.receipts[sequence] = receipts;
    const ackUs = this.ackTimeUsOf(sequence);
    if (receipts === this.watcherCount && !Number.isNaN(ackUs)) this.completeCount += 1;
    if (!stamp.measured) return;
    this.measuredEvents += 1;
    if (!(this.firstMeasuredSendUs <= stamp.sendUs)) this.firstMeasuredSendUs = stamp.sendUs;
    if (!(this.lastMeasuredReceiptUs >= receiptUs)) this.lastMeasuredReceiptUs = receiptUs;
    this.sentToReceived.record(receiptUs - stamp.sendUs);
    if (!Number.isNaN(ackUs)) {
      this.recordAckLatency(receiptUs - ackUs);
      return;
    }
    const pending = this.pendingReceiptsUs.get(sequence);
    if (pending === undefined) this.pendingReceiptsUs.set(sequence, [receiptUs]);
    else pending.push(receiptUs);
    this.pendingCount += 1;
    if (this.pendingCount > this.pendingMax) {
      throw new Error(`more than ${this.pendingMax} events are waiting for their put's ack time; the writer's acks are not arriving`);
    }
  }

  /** The writer saw put `sequence` acknowledged at `ackUs`. Each sequence is acknowledged once. */
  acknowledged(sequence: number, ackUs: number): void {
    if (!(sequence >= 0 && sequence < this.putsMax)) throw new Error(`ack of put ${sequence} is outside [0, ${this.putsMax})`);
    if (!Number.isNaN(this.ackTimesUs[sequence])) throw new Error(`put ${sequence} was acknowledged twice`);
    this.ackTimesUs[sequence] = ackUs;
    this.acknowledgedCount += 1;
    this.sequenceHigh = Math.max(this.sequenceHigh, sequence);
    if (this.receiptsOf(sequence) >= this.watcherCount) this.completeCount += 1;
    const pending = this.pendingReceiptsUs.get(sequence);
    if (pending === undefined) return;
    for (const receiptUs of pending) this.recordAckLatency(receiptUs - ackUs);
    this.pendingCount -= pending.length;
    this.pendingReceiptsUs.delete(sequence);
  }

  get acknowledgedPuts(): number {
    return this.acknowledgedCount;
  }

  /** Whether every watcher received every put acknowledged so far. */
  get complete(): boolean {
    return this.completeCount === this.acknowledgedCount;
  }

  summary(): LedgerSummary {
    let misses = 0;
    let putsWithMisses = 0;
    let unackedEvents = 0;
    let overDelivered = 0;
    for (let sequence = 0; sequence <= this.sequenceHigh; sequence++) {
      const receipts = this.receiptsOf(sequence);
      if (Number.isNaN(this.ackTimesUs[sequence])) {
        unackedEvents += receipts;
        continue;
      }
      if (receipts < this.watcherCount) {
        misses += this.watcherCount - receipts;
        putsWithMisses += 1;
      } else {
        overDelivered += receipts - this.watcherCount;
      }
    }
    return {
      watchers: this.watcherCount,
      events: this.events,
      measuredEvents: this.measuredEvents,
      firstMeasuredSendUs: this.firstMeasuredSendUs,
      lastMeasuredReceiptUs: this.lastMeasuredReceiptUs,
      acknowledged: this.acknowledgedCount,
      misses,
      putsWithMisses,
      unackedEvents,
      overDelivered,
      malformed: this.malformed,
      sentToReceived: this.sentToReceived.snapshot(),
      ackToReceived: this.ackToReceived.snapshot(),
      receivedBeforeAck: this.receivedBeforeAck.snapshot(),
    };
  }

  /** Watchers that received put `sequence`; the caller keeps sequence in [0, putsMax). */
  private receiptsOf(sequence: number): number {
    const receipts = this.receipts[sequence];
    if (receipts === undefined) throw new Error(`ledger: put ${sequence} is outside [0, ${this.putsMax})`);
    return receipts;
  }

  /** When put `sequence` was acknowledged, NaN until then; the caller keeps sequence in [0, putsMax). */
  private ackTimeUsOf(sequence: number): number {
    const ackUs = this.ackTimesUs[sequence];
    if (ackUs === undefined) throw new Error(`ledger: put ${sequence} is outside [0, ${this.putsMax})`);
    return ackUs;
  }

  private recordAckLatency(latencyUs: number): void {
    if (latencyUs < 0) this.receivedBeforeAck.record(-latencyUs);
    else this.ackToReceived.record(latencyUs);
  }
}
