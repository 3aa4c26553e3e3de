// Raw gRPC streams (Watch, LeaseKeepAlive, Election.Observe) for the
// differential tests, read message by message with a deadline on every wait,
// so that a server that stays silent fails the test instead of hanging it.
// Every stream is ended by close(); tests close theirs in a finally block.
import { Metadata, type ClientDuplexStream, type ClientReadableStream } from '@grpc/grpc-js';
import {
  LeaseKeepAliveRequest,
  WatchCancelRequest,
  WatchCreateRequest,
  WatchRequest,
  type LeaseKeepAliveResponse,
  type WatchResponse,
} from '../../proto/gen/etcdserverpb/rpc.js';
import { LeaderRequest, type LeaderResponse } from '../../proto/gen/v3electionpb/v3election.js';
import type { Clients } from './rpc.js';

/** How long next() waits for a message before failing. */
const messageWaitMsDefault = 5_000;

/** The messages of one server stream, in arrival order, read one at a time. */
export class MessageQueue<T> {
  private readonly received: T[] = [];
  private readCount = 0;
  private ended: string | undefined;
  private readonly waiting = new Set<() => void>();

  constructor(private readonly what: string) {}

  push(message: T): void {
    this.received.push(message);
    this.wakeAll();
  }

  end(reason: string): void {
    this.ended ??= reason;
    this.wakeAll();
  }

  private wakeAll(): void {
    for (const wake of [...this.waiting]) wake();
  }

  /** The next unread message; rejects when none arrives within `timeoutMs`. */
  async next(timeoutMs = messageWaitMsDefault): Promise<T> {
    const deadline = Date.now() + timeoutMs;
    while (this.readCount >= this.received.length) {
      if (this.ended !== undefined) throw new Error(`${this.what}: stream ended (${this.ended}) after ${this.readCount} messages`);
      const left = deadline - Date.now();
      if (left <= 0) throw new Error(`${this.what}: no message within ${timeoutMs} ms (after ${this.readCount} messages)`);
      await new Promise<void>((resolve) => {
        const wake = () => {
          clearTimeout(timer);
          this.waiting.delete(wake);
          resolve();
        };
        const timer = setTimeout(wake, left);
        this.waiting.add(wake);
      });
    }
    return this.received[this.readCount++] as T;
  }

  /** The next `count` unread messages. */
  async take(count: number, timeoutMs = messageWaitMsDefault): Promise<T[]> {
    const out: T[] = [];
    for (let index = 0; index < count; index++) out.push(await this.next(timeoutMs));
    return out;
  }

  /** Waits `ms`, then returns the messages that arrived unread meanwhile (to show that nothing more came). */
  async quiet(ms: number): Promise<T[]> {
    await new Promise((resolve) => setTimeout(resolve, ms));
    const out = this.received.slice(this.readCount);
    this.readCount = this.received.length;
    return out;
  }
}

/** One Watch stream: many watchers multiplexed, as etcd clients use it. */
export class WatchStream {
  readonly responses: MessageQueue<WatchResponse>;
  private readonly call: ClientDuplexStream<WatchRequest, WatchResponse>;

  constructor(clients: Clients, what = 'watch stream') {
    this.responses = new MessageQueue(what);
    this.call = clients.watch.watch(new Metadata());
    this.call.on('data', (response: WatchResponse) => this.responses.push(response));
    this.call.on('error', (error: Error) => this.responses.end(error.message));
    this.call.on('end', () => this.responses.end('end'));
  }

  create(request: Partial<WatchCreateRequest>): void {
    this.call.write(WatchRequest.fromPartial({ createRequest: WatchCreateRequest.fromPartial(request) }));
  }

  cancel(watchId: bigint): void {
    this.call.write(WatchRequest.fromPartial({ cancelRequest: WatchCancelRequest.fromPartial({ watchId }) }));
  }

  requestProgress(): void {
    this.call.write(WatchRequest.fromPartial({ progressRequest: {} }));
  }

  next(timeoutMs?: number): Promise<WatchResponse> {
    return this.responses.next(timeoutMs);
  }

  take(count: number, timeoutMs?: number): Promise<WatchResponse[]> {
    return this.responses.take(count, timeoutMs);
  }

  close(): void {
    this.call.cancel();
  }
}

/** One LeaseKeepAlive stream. */
export class KeepAliveStream {
  readonly responses: MessageQueue<LeaseKeepAliveResponse>;
  private readonly call: ClientDuplexStream<LeaseKeepAliveRequest, LeaseKeepAliveResponse>;

  constructor(clients: Clients) {
    this.responses = new MessageQueue('lease keep-alive stream');
    this.call = clients.lease.leaseKeepAlive(new Metadata());
    this.call.on('data', (response: LeaseKeepAliveResponse) => this.responses.push(response));
    this.call.on('error', (error: Error) => this.responses.end(error.message));
    this.call.on('end', () => this.responses.end('end'));
  }

  /** Sends one keep-alive and returns its answer. */
  async keepAlive(leaseId: bigint): Promise<LeaseKeepAliveResponse> {
    this.call.write(LeaseKeepAliveRequest.fromPartial({ ID: leaseId }));
    return this.responses.next();
  }

  close(): void {
    this.call.cancel();
  }
}

/** One Election.Observe stream. */
export class ObserveStream {
  readonly responses: MessageQueue<LeaderResponse>;
  private readonly call: ClientReadableStream<LeaderResponse>;

  constructor(clients: Clients, name: string) {
    this.responses = new MessageQueue(`observe ${name}`);
    this.call = clients.election.observe(LeaderRequest.fromPartial({ name: Buffer.from(name) }), new Metadata());
    this.call.on('data', (response: LeaderResponse) => this.responses.push(response));
    this.call.on('error', (error: Error) => this.responses.end(error.message));
    this.call.on('end', () => this.responses.end('end'));
  }

  close(): void {
    this.call.cancel();
  }
}
