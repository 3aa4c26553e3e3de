/**
 * The event trace of one simulated run: a rolling digest over every event (same seed → same
 * digest) and the last `tailMax` events in readable form for failure reports.
 */
import { hashString, hex, mix } from './hash.js';

export class Trace {
  private digestValue = 0;
  private readonly tail: string[] = [];
  private next = 0;
  events = 0;

  constructor(private readonly tailMax = 120) {}

  record(time: number, line: string): void {
    this.events++;
    this.digestValue = mix(this.digestValue, hashString(line), time);
    const text = `t=${time} ${line}`;
    if (this.tail.length < this.tailMax) this.tail.push(text);
    else this.tail[this.next] = text;
    this.next = (this.next + 1) % this.tailMax;
  }

  digest(): string {
    return hex(this.digestValue);
  }

  lastEvents(): string[] {
    if (this.tail.length < this.tailMax) return this.tail.slice();
    return [...this.tail.slice(this.next), ...this.tail.slice(0, this.next)];
  }
}
