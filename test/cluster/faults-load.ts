// The write load of the fault tests: a few writers in the test process, each
// putting distinct keys one after another through gRPC clients connected to
// every member, and moving to the next member when a put fails. Every
// acknowledged put is recorded with the revision in its response header.
//
// A put that fails is never retried under the same key: it may or may not have
// been applied (a timeout is ambiguous), so the next attempt takes a new key.
// Every key's value is valueFor(key), so a key found in the store can be judged
// whether or not its put was acknowledged (see durability-check.ts).
import { credentials, Metadata, type ServiceError } from '@grpc/grpc-js';
import { KVClient, PutRequest, type PutResponse } from '../../proto/gen/etcdserverpb/rpc.js';
import { must } from '../harness/must.js';
import { valueFor, type Ack } from './crash-protocol.js';

export interface LoadOptions {
  /** host:port of every member; writer i starts on endpoint i mod length. */
  endpoints: string[];
  /** Unique per scenario, e.g. `faults/leader-kill/`; writer i writes under `${keyPrefix}w${i}/`. */
  keyPrefix: string;
  writers: number;
  /** Deadline of one put: a put to a paused or cut-off member fails after this long. */
  putTimeoutMs: number;
  /** Pause after a failed put before the next attempt (on the next member). */
  failoverPauseMs: number;
  /** Puts a writer starts at most: a bound, whatever the test does. */
  putsPerWriterMax: number;
}

/** An acknowledged put, with when it was sent and when its acknowledgement arrived (Date.now()). */
export interface TimedAck {
  key: string;
  revision: bigint;
  sentAtMs: number;
  atMs: number;
}

const errorKindsMax = 20;

/**
 * Writers that put from `start()` until `stop()`. start() opens one KVClient
 * per member; stop() closes them.
 */
export class FailoverLoad {
  readonly acks: TimedAck[] = [];
  attempted = 0;
  failed = 0;
  /** Distinct `member: code details` of failed puts (expected around every fault). */
  readonly errors = new Set<string>();
  private clients: KVClient[] = [];
  private loops: Promise<void>[] = [];
  private stopping = false;

  constructor(private readonly options: LoadOptions) {}

  start(): void {
    if (this.loops.length > 0 || this.stopping) throw new Error('the load was already started');
    // One channel per member: a local subchannel pool keeps grpc-js from sharing connections between them.
    this.clients = this.options.endpoints.map((endpoint) =>
      new KVClient(endpoint, credentials.createInsecure(), { 'grpc.use_local_subchannel_pool': 1 }));
    this.loops = Array.from({ length: this.options.writers }, (_, writer) => this.writeLoop(writer));
  }

  /** Stops every writer after its put in flight and closes the clients; idempotent. */
  async stop(): Promise<void> {
    this.stopping = true;
    await Promise.all(this.loops);
    for (const client of this.clients) client.close();
    this.clients = [];
  }

  /** Acknowledged puts as durability-check.ts takes them. */
  ackPairs(): Ack[] {
    return this.acks.map((ack): Ack => [ack.key, ack.revision]);
  }

  /** Acknowledgements that arrived after `sinceMs`. */
  acksSince(sinceMs: number): number {
    let count = 0;
    for (let index = this.acks.length - 1; index >= 0; index--) {
      if (must(this.acks[index], `ack ${index}`).atMs <= sinceMs) break;
      count++;
    }
    return count;
  }

  describe(): string {
    return `${this.acks.length} acknowledged of ${this.attempted} attempted puts, ${this.failed} failed; errors: ${[...this.errors].join(' | ') || 'none'}`;
  }

  private async writeLoop(writer: number): Promise<void> {
    const { endpoints, keyPrefix, putTimeoutMs, failoverPauseMs, putsPerWriterMax } = this.options;
    let member = writer % endpoints.length;
    for (let sequence = 0; !this.stopping && sequence < putsPerWriterMax; sequence++) {
      this.attempted++;
      // Zero-padded so that keys sort in the order they were written.
      const key = `${keyPrefix}w${writer}/${String(sequence).padStart(7, '0')}`;
      const sentAtMs = Date.now();
      // One client per endpoint, and member stays below endpoints.length.
      const client = must(this.clients[member], `the client of endpoint ${member}`);
      try {
        const response = await put(client, key, putTimeoutMs);
        if (response.header === undefined) throw new Error(`put ${key}: response has no header`);
        this.acks.push({ key, revision: response.header.revision, sentAtMs, atMs: Date.now() });
      } catch (error) {
        this.failed++;
        const { code, details, message } = error as ServiceError;
        if (this.errors.size < errorKindsMax) this.errors.add(`${endpoints[member]}: ${code === undefined ? message : `${code} ${details}`}`);
        member = (member + 1) % endpoints.length;
        await new Promise((resolve) => setTimeout(resolve, failoverPauseMs));
      }
    }
  }
}

function put(client: KVClient, key: string, timeoutMs: number): Promise<PutResponse> {
  const request = PutRequest.fromPartial({ key: Buffer.from(key), value: valueFor(key) });
  return new Promise((resolve, reject) => {
    client.put(request, new Metadata(), { deadline: Date.now() + timeoutMs }, (error, response) => (error ? reject(error) : resolve(response)));
  });
}
