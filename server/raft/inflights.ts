/**
 * Inflights: the MsgApp messages sent to one follower in StateReplicate and not yet acknowledged,
 * bounded by count (maxInflightMsgs) and by bytes (maxInflightBytes, 0 = unbounded). Each is
 * remembered by the index of its last entry; an ack of index i frees every message ending ≤ i.
 * A ring buffer of fixed capacity: no allocation per message.
 */
import { invariant } from './assert.js';

export class Inflights {
  private start = 0;
  private count = 0;
  private bytes = 0;
  private readonly indexes: number[];
  private readonly sizes: number[];

  constructor(
    readonly maxInflightMsgs: number,
    readonly maxInflightBytes: number,
  ) {
    this.indexes = new Array<number>(maxInflightMsgs).fill(0);
    this.sizes = new Array<number>(maxInflightMsgs).fill(0);
  }

  /** Record a sent message ending at `index`. Invariant: not full, indexes increase. */
  add(index: number, bytes: number): void {
    invariant(!this.full(), 'cannot add into a full inflights');
    const slot = (this.start + this.count) % this.maxInflightMsgs;
    if (this.count > 0) {
      const last = this.indexes[(slot + this.maxInflightMsgs - 1) % this.maxInflightMsgs];
      invariant(last !== undefined && index > last, () => `inflight index ${index} not above previous ${last}`);
    }
    this.indexes[slot] = index;
    this.sizes[slot] = bytes;
    this.count++;
    this.bytes += bytes;
  }

  /** Free every message whose last index is ≤ to. */
  freeLE(to: number): void {
    while (this.count > 0) {
      const index = this.indexes[this.start];
      const bytes = this.sizes[this.start];
      // Both rings have maxInflightMsgs slots, filled in the constructor, and start stays below that.
      invariant(index !== undefined && bytes !== undefined, 'inflights: start is outside the ring');
      if (index > to) break;
      this.bytes -= bytes;
      this.start = (this.start + 1) % this.maxInflightMsgs;
      this.count--;
    }
  }

  /** Free the oldest message (a heartbeat response proves the follower is alive). */
  freeFirstOne(): void {
    if (this.count === 0) return;
    const index = this.indexes[this.start];
    invariant(index !== undefined, 'inflights: start is outside the ring');
    this.freeLE(index);
  }

  full(): boolean {
    return this.count === this.maxInflightMsgs || (this.maxInflightBytes > 0 && this.bytes >= this.maxInflightBytes);
  }

  size(): number {
    return this.count;
  }

  reset(): void {
    this.start = 0;
    this.count = 0;
    this.bytes = 0;
  }
}
