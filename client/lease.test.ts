// keepAlive$ timing and teardown on virtual time, with a stream double that
// records what the Observable writes and whether it cancelled the stream;
// and the sharing of that one stream by every lease of a client.
import { expect } from 'chai';
import { EventEmitter } from 'node:events';
import { Metadata, status } from '@grpc/grpc-js';
import { VirtualTimeScheduler } from 'rxjs';
import { must } from '../test/harness/must.js';
import type { Connection } from './connection.js';
import { LeaseLostError, LeaseLostReason, UnavailableError } from './errors.js';
import { KeepAliveHub, type KeepAlive } from './keep-alive.js';

class StreamDouble extends EventEmitter {
  readonly written: bigint[] = [];
  cancelled = false;
  write(request: { ID: bigint }): boolean {
    this.written.push(request.ID);
    return true;
  }
  cancel(): void {
    this.cancelled = true;
  }
  respond(ttlSeconds: bigint, id = 7n): void {
    this.emit('data', { header: undefined, ID: id, TTL: ttlSeconds });
  }
}

function harness() {
  const scheduler = new VirtualTimeScheduler();
  const streams: StreamDouble[] = [];
  const connection = {
    isClosed: false,
    current: () => ({ lease: { leaseKeepAlive: () => { const stream = new StreamDouble(); streams.push(stream); return stream; } } }),
    metadata: () => new Metadata(),
    retryPolicy: () => ({ retries: 2, minDelayMs: 10, maxDelayMs: 100 }),
    failover: () => undefined,
  } as unknown as Connection;
  const advanceTo = (ms: number) => {
    scheduler.maxFrames = ms;
    scheduler.flush();
  };
  return { leases: new KeepAliveHub(connection, scheduler), streams, advanceTo };
}

describe('client keepAlive$', () => {
  it('sends at once and every third of the TTL, and unsubscribing cancels the stream and every timer', () => {
    const { leases, streams, advanceTo } = harness();
    const seen: KeepAlive[] = [];
    let failure: unknown;
    const subscription = leases.keepAlive$(7n).subscribe({ next: (value) => seen.push(value), error: (error) => (failure = error) });
    expect(streams).to.have.length(1);
    const stream = must(streams[0], 'the keep-alive stream');
    expect(stream.written).to.deep.equal([7n]);
    stream.respond(3n);
    expect(seen.map((value) => value.ttlSeconds)).to.deep.equal([3]);
    advanceTo(999);
    expect(stream.written).to.have.length(1);
    advanceTo(1000);
    expect(stream.written).to.have.length(2);
    stream.respond(3n);
    subscription.unsubscribe();
    expect(stream.cancelled).to.equal(true);
    expect(stream.listenerCount('data')).to.equal(0);
    advanceTo(60_000);
    expect(stream.written).to.have.length(2);
    expect(failure).to.equal(undefined);
  });

  it('errors with LeaseLostError(expired) when no keep-alive succeeds within the TTL, and cleans up', () => {
    const { leases, streams, advanceTo } = harness();
    let failure: unknown;
    leases.keepAlive$(7n).subscribe({ error: (error) => (failure = error) });
    const stream = must(streams[0], 'the keep-alive stream');
    stream.respond(3n);
    advanceTo(2_999);
    expect(failure).to.equal(undefined);
    advanceTo(3_000);
    expect(failure).to.be.instanceOf(LeaseLostError);
    expect((failure as LeaseLostError).reason).to.equal(LeaseLostReason.Expired);
    expect(stream.cancelled).to.equal(true);
  });

  it('errors with LeaseLostError(not-found) when the server answers TTL 0', () => {
    const { leases, streams } = harness();
    let failure: unknown;
    leases.keepAlive$(7n).subscribe({ error: (error) => (failure = error) });
    const stream = must(streams[0], 'the keep-alive stream');
    stream.respond(0n);
    expect((failure as LeaseLostError).reason).to.equal(LeaseLostReason.NotFound);
  });

  it('re-opens a broken stream with backoff, and gives up before a first success after the retry budget', () => {
    const { leases, streams, advanceTo } = harness();
    let failure: unknown;
    leases.keepAlive$(7n).subscribe({ error: (error) => (failure = error) });
    const unavailable = Object.assign(new Error('down'), { code: status.UNAVAILABLE, details: 'Connection dropped', metadata: new Metadata() });
    must(streams[0], 'the first keep-alive stream').emit('error', unavailable);
    expect(streams).to.have.length(1);
    advanceTo(10);
    expect(streams).to.have.length(2);
    must(streams[1], 'the second keep-alive stream').emit('error', unavailable);
    advanceTo(100);
    expect(streams).to.have.length(3);
    must(streams[2], 'the third keep-alive stream').emit('error', unavailable);
    expect(failure).to.be.instanceOf(UnavailableError);
  });

  it('shares one stream between leases, routes each response to its lease, and closes it after the last subscriber', () => {
    const { leases, streams, advanceTo } = harness();
    const seen: bigint[] = [];
    let failure: unknown;
    const first = leases.keepAlive$(7n).subscribe({ next: (value) => seen.push(value.id), error: (error) => (failure = error) });
    const second = leases.keepAlive$(8n).subscribe({ next: (value) => seen.push(value.id) });
    expect(streams).to.have.length(1);
    const stream = must(streams[0], 'the shared keep-alive stream');
    expect(stream.written).to.deep.equal([7n, 8n]);
    stream.respond(3n, 8n);
    stream.respond(3n, 7n);
    expect(seen).to.deep.equal([8n, 7n]);
    advanceTo(1000);
    expect(stream.written).to.deep.equal([7n, 8n, 8n, 7n]);
    first.unsubscribe();
    expect(stream.cancelled).to.equal(false);
    expect(leases.size).to.equal(1);
    second.unsubscribe();
    expect(stream.cancelled).to.equal(true);
    expect(leases.size).to.equal(0);
    expect(failure).to.equal(undefined);
  });

  it('a lease the server no longer has ends its own keep-alive only', () => {
    const { leases, streams, advanceTo } = harness();
    let lost: unknown;
    const kept: number[] = [];
    leases.keepAlive$(7n).subscribe({ error: (error) => (lost = error) });
    leases.keepAlive$(8n).subscribe({ next: (value) => kept.push(value.ttlSeconds) });
    const stream = must(streams[0], 'the shared keep-alive stream');
    stream.respond(0n, 7n);
    expect((lost as LeaseLostError).leaseId).to.equal(7n);
    stream.respond(3n, 8n);
    advanceTo(1000);
    expect(stream.cancelled).to.equal(false);
    expect(stream.written.slice(2)).to.deep.equal([8n]);
    stream.respond(3n, 8n);
    expect(kept).to.deep.equal([3, 3]);
  });

  it('re-opens one stream for every lease after a break, each sending at once on it', () => {
    const { leases, streams, advanceTo } = harness();
    leases.keepAlive$(7n).subscribe();
    leases.keepAlive$(8n).subscribe();
    const unavailable = Object.assign(new Error('down'), { code: status.UNAVAILABLE, details: 'Connection dropped', metadata: new Metadata() });
    must(streams[0], 'the first stream').emit('error', unavailable);
    advanceTo(10);
    expect(streams).to.have.length(2);
    expect(must(streams[1], 'the second stream').written).to.deep.equal([7n, 8n]);
  });
});
