// Raw gRPC calls for the requests etcdctl cannot make (count_only, nested
// txns, lease compares, oversized requests), as promises of an Outcome so
// that a failure is data to compare rather than an exception.
import { Metadata, type ServiceError } from '@grpc/grpc-js';
import type {
  CompactionRequest,
  CompactionResponse,
  DeleteRangeRequest,
  DeleteRangeResponse,
  HashKVRequest,
  HashKVResponse,
  KVClient,
  MaintenanceClient,
  PutRequest,
  PutResponse,
  RangeRequest,
  RangeResponse,
  TxnRequest,
  TxnResponse,
} from '../../proto/gen/etcdserverpb/rpc.js';

/** A server that never answers fails the test after this long instead of hanging it. */
const rpcDeadlineMs = 10_000;

/** Raw gRPC clients of one server. */
export interface Clients {
  readonly kv: KVClient;
  readonly maintenance: MaintenanceClient;
}

/** A unary call's result: the response, or the gRPC status it failed with. */
export type Outcome<T> = { ok: true; response: T } | { ok: false; code: number; details: string };

type Done<T> = (error: ServiceError | null, response: T) => void;

/**
 * Adapts a grpc-js unary call to a promise of its outcome.
 * Usage: `unary<PutResponse>((metadata, options, done) => kv.put(request, metadata, options, done))`.
 */
export function unary<T>(start: (metadata: Metadata, options: { deadline: number }, done: Done<T>) => unknown): Promise<Outcome<T>> {
  return new Promise((resolve) => {
    start(new Metadata(), { deadline: Date.now() + rpcDeadlineMs }, (error, response) => {
      if (error !== null) resolve({ ok: false, code: error.code, details: error.details });
      else resolve({ ok: true, response });
    });
  });
}

export function rangeRaw(clients: Clients, request: RangeRequest): Promise<Outcome<RangeResponse>> {
  return unary((metadata, options, done: Done<RangeResponse>) => clients.kv.range(request, metadata, options, done));
}

export function putRaw(clients: Clients, request: PutRequest): Promise<Outcome<PutResponse>> {
  return unary((metadata, options, done: Done<PutResponse>) => clients.kv.put(request, metadata, options, done));
}

export function deleteRangeRaw(clients: Clients, request: DeleteRangeRequest): Promise<Outcome<DeleteRangeResponse>> {
  return unary((metadata, options, done: Done<DeleteRangeResponse>) => clients.kv.deleteRange(request, metadata, options, done));
}

export function txnRaw(clients: Clients, request: TxnRequest): Promise<Outcome<TxnResponse>> {
  return unary((metadata, options, done: Done<TxnResponse>) => clients.kv.txn(request, metadata, options, done));
}

export function compactRaw(clients: Clients, request: CompactionRequest): Promise<Outcome<CompactionResponse>> {
  return unary((metadata, options, done: Done<CompactionResponse>) => clients.kv.compact(request, metadata, options, done));
}

export function hashKvRaw(clients: Clients, request: HashKVRequest): Promise<Outcome<HashKVResponse>> {
  return unary((metadata, options, done: Done<HashKVResponse>) => clients.maintenance.hashKv(request, metadata, options, done));
}
