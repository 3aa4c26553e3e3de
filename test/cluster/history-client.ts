// One register client of the linearizability test, bound to one member's
// endpoint: each key is a register whose value is a decimal number, 0 being
// "the key does not exist" (the register's initial value).
//
//   read       Range of the key (linearizable, or serializable when asked)
//   write(v)   Put key = v
//   cas(e→v)   Txn: if value(key) == e then Put key = v, else nothing;
//              `succeeded` tells which branch ran. e = 0 compares version == 0
//              instead, since a value comparison never matches a missing key.
import { credentials, Metadata, status, type ServiceError } from '@grpc/grpc-js';
import {
  Compare,
  Compare_CompareResult,
  Compare_CompareTarget,
  KVClient,
  PutRequest,
  RangeRequest,
  RequestOp,
  TxnRequest,
} from '../../proto/gen/etcdserverpb/rpc.js';

/**
 * What a failed write or CAS tells about its effect. Only a refusal the server
 * makes before proposing proves that nothing was applied; every other failure —
 * deadline, lost connection, no leader, leader changed, a server error — may
 * have come after the proposal was committed, so the outcome is unknown.
 */
export type FailureOutcome = 'ambiguous' | 'not-applied';

const notAppliedCodes: ReadonlySet<status> = new Set([status.INVALID_ARGUMENT]);

export interface Failure {
  readonly outcome: FailureOutcome;
  /** "UNAVAILABLE: etcdserver: no leader", for the statistics. */
  readonly cause: string;
}

/** Classifies an RPC error by its gRPC code; anything that is not a gRPC error is a bug in the test and is rethrown. */
export function classifyFailure(error: unknown): Failure {
  const { code, details } = error as Partial<ServiceError>;
  if (typeof code !== 'number') throw error;
  // A deadline's details name addresses and timings; grouped by code alone, the statistics stay short.
  const cause = code === status.DEADLINE_EXCEEDED ? status[code] : `${status[code] ?? code}: ${details ?? ''}`;
  return { outcome: notAppliedCodes.has(code) ? 'not-applied' : 'ambiguous', cause };
}

export interface RegisterClientOptions {
  /** Deadline of every request. */
  requestDeadlineMs: number;
}

/** A client of one member's KV service with its own connection. */
export class RegisterClient {
  private readonly kv: KVClient;

  constructor(readonly endpoint: string, private readonly options: RegisterClientOptions) {
    this.kv = new KVClient(endpoint, credentials.createInsecure(), {
      // Its own TCP connection, not one shared with the other clients of this member.
      'grpc.use_local_subchannel_pool': 1,
      // Reconnect soon after a member restarts, instead of backing off towards two minutes.
      'grpc.initial_reconnect_backoff_ms': 100,
      'grpc.max_reconnect_backoff_ms': 500,
    });
  }

  /**
   * Whether the connection is up, waiting at most waitMs for it. The workload
   * invokes operations only on a connected client: a request refused for want
   * of a connection was never sent, but grpc-js reports it like one lost in flight.
   */
  connected(waitMs: number): Promise<boolean> {
    return new Promise((resolve) => this.kv.waitForReady(Date.now() + waitMs, (error) => resolve(error === undefined)));
  }

  /** The register's value: a linearizable Range unless `serializable`. */
  read(key: string, serializable = false): Promise<number> {
    const request = RangeRequest.fromPartial({ key: Buffer.from(key), serializable });
    return new Promise((resolve, reject) => {
      this.kv.range(request, new Metadata(), this.callOptions(), (error, response) => {
        if (error !== null) return reject(error);
        const kv = response.kvs[0];
        try {
          resolve(kv === undefined ? 0 : decode(key, kv.value));
        } catch (corrupt) {
          reject(corrupt);
        }
      });
    });
  }

  write(key: string, value: number): Promise<void> {
    const request = PutRequest.fromPartial({ key: Buffer.from(key), value: encode(value) });
    return new Promise((resolve, reject) => {
      this.kv.put(request, new Metadata(), this.callOptions(), (error) => (error !== null ? reject(error) : resolve()));
    });
  }

  /** Resolves with whether the register held `expected` (and now holds `value`). */
  compareAndSet(key: string, expected: number, value: number): Promise<boolean> {
    const keyBytes = Buffer.from(key);
    const compare = expected === 0
      ? Compare.fromPartial({ key: keyBytes, target: Compare_CompareTarget.VERSION, result: Compare_CompareResult.EQUAL, version: 0n })
      : Compare.fromPartial({ key: keyBytes, target: Compare_CompareTarget.VALUE, result: Compare_CompareResult.EQUAL, value: encode(expected) });
    const request = TxnRequest.fromPartial({
      compare: [compare],
      success: [RequestOp.fromPartial({ requestPut: PutRequest.fromPartial({ key: keyBytes, value: encode(value) }) })],
      failure: [],
    });
    return new Promise((resolve, reject) => {
      this.kv.txn(request, new Metadata(), this.callOptions(), (error, response) => (error !== null ? reject(error) : resolve(response.succeeded)));
    });
  }

  close(): void {
    this.kv.close();
  }

  private callOptions() {
    return { deadline: Date.now() + this.options.requestDeadlineMs };
  }
}

function encode(value: number): Buffer {
  return Buffer.from(String(value));
}

function decode(key: string, bytes: Buffer): number {
  const text = bytes.toString();
  // Only the workload writes these keys, and only positive integers: anything else is corruption.
  if (!/^[1-9][0-9]*$/.test(text)) throw new Error(`key ${key} holds ${JSON.stringify(text)}, which no client wrote`);
  return Number(text);
}
