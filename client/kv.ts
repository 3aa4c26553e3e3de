// KV: typed reads and writes, and the conversions between the SDK's types and
// the wire messages (where the namespace is added and stripped).
import {
  CompactionRequest,
  DeleteRangeRequest,
  PutRequest,
  RangeRequest,
  RangeRequest_SortOrder,
  RangeRequest_SortTarget,
  type DeleteRangeResponse,
  type PutResponse,
  type RangeResponse,
  type ResponseHeader,
  type CompactionResponse,
} from '../proto/gen/etcdserverpb/rpc.js';
import type { KeyValue as WireKeyValue } from '../proto/gen/mvccpb/kv.js';
import { bytesCodec, type Codec } from './codec.js';
import { Idempotency, Service, type CallOptions, type Connection } from './connection.js';
import { InvalidOptionError } from './errors.js';
import { keyBytes, type Key, type KeySelector, type Namespace } from './keys.js';

/** A stored key-value pair. `key` is the key as UTF-8 (namespace removed); `keyBytes` is exact. */
export interface KeyValue<V = Buffer> {
  key: string;
  keyBytes: Buffer;
  value: V;
  /** Revision of the last creation of this key. */
  createRevision: bigint;
  /** Revision of the last modification of this key. */
  modRevision: bigint;
  /** Number of modifications since creation (1 after creation; reset by delete). */
  version: bigint;
  /** Lease attached to the key; 0n when none. */
  lease: bigint;
}

/** The response header every call returns. */
export interface Header {
  clusterId: bigint;
  memberId: bigint;
  /** Store revision when the request was applied. */
  revision: bigint;
  raftTerm: bigint;
}

/** Sort order of a range read. */
export const SortOrder = { None: 'none', Ascend: 'ascend', Descend: 'descend' } as const;
/** Sort order of a range read. */
export type SortOrder = (typeof SortOrder)[keyof typeof SortOrder];

/** What a range read sorts by. */
export const SortTarget = {
  Key: 'key',
  Version: 'version',
  CreateRevision: 'createRevision',
  ModRevision: 'modRevision',
  Value: 'value',
} as const;
/** What a range read sorts by. */
export type SortTarget = (typeof SortTarget)[keyof typeof SortTarget];

const sortOrderWire: Record<SortOrder, RangeRequest_SortOrder> = {
  none: RangeRequest_SortOrder.NONE,
  ascend: RangeRequest_SortOrder.ASCEND,
  descend: RangeRequest_SortOrder.DESCEND,
};
const sortTargetWire: Record<SortTarget, RangeRequest_SortTarget> = {
  key: RangeRequest_SortTarget.KEY,
  version: RangeRequest_SortTarget.VERSION,
  createRevision: RangeRequest_SortTarget.CREATE,
  modRevision: RangeRequest_SortTarget.MOD,
  value: RangeRequest_SortTarget.VALUE,
};

/** Options of a range read (etcd's RangeRequest). */
export interface RangeOptions {
  /** At most this many keys; 0 or absent = no limit. `more` tells whether keys were left out. */
  limit?: number;
  /** Sort target and order (order defaults to ascend when a target is given). */
  sort?: { target?: SortTarget; order?: SortOrder };
  /** Read at this revision; absent = latest. A compacted one → `CompactedError`; a future one → `FutureRevisionError`. */
  revision?: bigint;
  /** Omit values (values decode as empty). */
  keysOnly?: boolean;
  /** Return only the count; `kvs` is empty. */
  countOnly?: boolean;
  /** Member-local read without consensus: faster, possibly stale. */
  serializable?: boolean;
  /** Filters; `count` is not affected by them. */
  minModRevision?: bigint;
  maxModRevision?: bigint;
  minCreateRevision?: bigint;
  maxCreateRevision?: bigint;
}

/** Options that choose how values are decoded. */
export interface DecodeOptions<V> {
  /** Decodes values; default: raw bytes. */
  codec?: Codec<V>;
}

/** Result of a range read. */
export interface RangeResult<V = Buffer> {
  header: Header;
  /** Store revision the read saw. */
  revision: bigint;
  kvs: KeyValue<V>[];
  /** Whether the limit left keys out. */
  more: boolean;
  /** Number of keys in the range (not affected by limit or filters). */
  count: number;
}

/** Options of a put (etcd's PutRequest). */
export interface PutOptions {
  /** Attach the key to this lease (0n or absent: no lease). */
  lease?: bigint;
  /** Return the previous key-value. */
  prevKv?: boolean;
  /** Keep the current value (then pass `undefined` as value); the key must exist. */
  ignoreValue?: boolean;
  /** Keep the current lease; the key must exist. */
  ignoreLease?: boolean;
}

/** Result of a put. */
export interface PutResult<V = Buffer> {
  header: Header;
  /** Revision of this write. */
  revision: bigint;
  /** The previous key-value, when `prevKv` was asked and the key existed. */
  prevKv: KeyValue<V> | undefined;
}

/** Options of a delete. */
export interface DeleteOptions {
  /** Return the deleted key-values. */
  prevKv?: boolean;
}

/** Result of a delete. */
export interface DeleteResult<V = Buffer> {
  header: Header;
  /** Store revision after the delete (unchanged when nothing was deleted). */
  revision: bigint;
  deleted: number;
  prevKvs: KeyValue<V>[];
}

/** Options of `compact`. */
export interface CompactOptions {
  /** Wait until the compaction is physically applied to the backend. */
  physical?: boolean;
}

/** A value to write: raw bytes or a UTF-8 string, unless a codec is given. */
export type RawValue = string | Uint8Array;

/** Encodes a raw value. */
export function rawValueBytes(value: RawValue): Buffer {
  return keyBytes(value);
}

/** Converts a wire header. */
export function toHeader(header: ResponseHeader | undefined): Header {
  return {
    clusterId: header?.clusterId ?? 0n,
    memberId: header?.memberId ?? 0n,
    revision: header?.revision ?? 0n,
    raftTerm: header?.raftTerm ?? 0n,
  };
}

/** Converts a wire key-value: strips the namespace and decodes the value. */
export function toKeyValue<V>(namespace: Namespace, kv: WireKeyValue, codec: Codec<V>): KeyValue<V> {
  const bytes = namespace.strip(kv.key);
  return {
    key: bytes.toString('utf8'),
    keyBytes: bytes,
    value: codec.decode(kv.value),
    createRevision: kv.createRevision,
    modRevision: kv.modRevision,
    version: kv.version,
    lease: kv.lease,
  };
}

function nonNegative(name: string, value: bigint | number | undefined): void {
  if (value !== undefined && value < 0) throw new InvalidOptionError(`${name} must not be negative`);
}

/** The wire RangeRequest for a selector and options. */
export function rangeRequest(namespace: Namespace, selector: KeySelector, options: RangeOptions): RangeRequest {
  nonNegative('limit', options.limit);
  nonNegative('revision', options.revision);
  if (options.limit !== undefined && !Number.isSafeInteger(options.limit)) throw new InvalidOptionError('limit must be an integer');
  const range = namespace.range(selector);
  const sortTarget = options.sort?.target ?? SortTarget.Key;
  const sortOrder = options.sort?.order ?? (options.sort?.target !== undefined ? SortOrder.Ascend : SortOrder.None);
  return RangeRequest.fromPartial({
    key: range.key,
    rangeEnd: range.rangeEnd,
    limit: BigInt(options.limit ?? 0),
    revision: options.revision ?? 0n,
    sortOrder: sortOrderWire[sortOrder],
    sortTarget: sortTargetWire[sortTarget],
    serializable: options.serializable ?? false,
    keysOnly: options.keysOnly ?? false,
    countOnly: options.countOnly ?? false,
    minModRevision: options.minModRevision ?? 0n,
    maxModRevision: options.maxModRevision ?? 0n,
    minCreateRevision: options.minCreateRevision ?? 0n,
    maxCreateRevision: options.maxCreateRevision ?? 0n,
  });
}

/** Converts a wire RangeResponse. */
export function toRangeResult<V>(namespace: Namespace, response: RangeResponse, codec: Codec<V>): RangeResult<V> {
  const header = toHeader(response.header);
  return {
    header,
    revision: header.revision,
    kvs: response.kvs.map((kv) => toKeyValue(namespace, kv, codec)),
    more: response.more,
    count: Number(response.count),
  };
}

/** The wire PutRequest. */
export function putRequest(namespace: Namespace, key: Key, value: Buffer, options: PutOptions): PutRequest {
  nonNegative('lease', options.lease);
  return PutRequest.fromPartial({
    key: namespace.key(key),
    value,
    lease: options.lease ?? 0n,
    prevKv: options.prevKv ?? false,
    ignoreValue: options.ignoreValue ?? false,
    ignoreLease: options.ignoreLease ?? false,
  });
}

/** Converts a wire PutResponse. */
export function toPutResult<V>(namespace: Namespace, response: PutResponse, codec: Codec<V>): PutResult<V> {
  const header = toHeader(response.header);
  return {
    header,
    revision: header.revision,
    prevKv: response.prevKv === undefined ? undefined : toKeyValue(namespace, response.prevKv, codec),
  };
}

/** The wire DeleteRangeRequest. */
export function deleteRequest(namespace: Namespace, selector: KeySelector, options: DeleteOptions): DeleteRangeRequest {
  const range = namespace.range(selector);
  return DeleteRangeRequest.fromPartial({ key: range.key, rangeEnd: range.rangeEnd, prevKv: options.prevKv ?? false });
}

/** Converts a wire DeleteRangeResponse. */
export function toDeleteResult<V>(namespace: Namespace, response: DeleteRangeResponse, codec: Codec<V>): DeleteResult<V> {
  const header = toHeader(response.header);
  return {
    header,
    revision: header.revision,
    deleted: Number(response.deleted),
    prevKvs: response.prevKvs.map((kv) => toKeyValue(namespace, kv, codec)),
  };
}

/**
 * The key-value operations of a client. Reads are retried and fail over on
 * Unavailable; writes only when known not to have been applied.
 */
export class KV {
  /** @internal */
  constructor(private readonly connection: Connection, private readonly namespace: Namespace) {}

  /**
   * Reads one key. Resolves `undefined` when it does not exist.
   * Errors: `CompactedError`, `FutureRevisionError` (with `revision`), `EmptyKeyError`, availability errors.
   */
  get(key: Key, options?: RangeOptions & CallOptions): Promise<KeyValue<Buffer> | undefined>;
  get<V>(key: Key, options: RangeOptions & CallOptions & { codec: Codec<V> }): Promise<KeyValue<V> | undefined>;
  async get<V>(key: Key, options: RangeOptions & CallOptions & DecodeOptions<V> = {}): Promise<KeyValue<V> | undefined> {
    const result = await this.getRange<V>(key, options as RangeOptions & CallOptions & { codec: Codec<V> });
    return result.kvs[0];
  }

  /**
   * Reads every key a selector covers (a key, `{ prefix }` or `{ range }`),
   * with etcd's range options: limit, sort, revision, keys-only, count-only,
   * serializable and min/max revision filters.
   */
  getRange(selector: KeySelector, options?: RangeOptions & CallOptions): Promise<RangeResult<Buffer>>;
  getRange<V>(selector: KeySelector, options: RangeOptions & CallOptions & { codec: Codec<V> }): Promise<RangeResult<V>>;
  async getRange<V>(selector: KeySelector, options: RangeOptions & CallOptions & DecodeOptions<V> = {}): Promise<RangeResult<V>> {
    const request = rangeRequest(this.namespace, selector, options);
    const codec = (options.codec ?? bytesCodec) as Codec<V>;
    const response = await this.connection.unary(Service.KV, 'Range', Idempotency.Safe, (endpoint, metadata, callOptions) =>
      this.connection.callOnce<RangeResponse>((callback) => endpoint.kv.range(request, metadata, callOptions, callback), options.signal), options);
    return toRangeResult(this.namespace, response, codec);
  }

  /**
   * Writes a key. Without a codec the value is bytes or a UTF-8 string.
   * A write is never re-sent once it may have reached the server: an
   * ambiguous failure rejects with `UnavailableError` (`applied: 'unknown'`).
   */
  put(key: Key, value: RawValue | undefined, options?: PutOptions & CallOptions): Promise<PutResult<Buffer>>;
  put<V>(key: Key, value: V, options: PutOptions & CallOptions & { codec: Codec<V> }): Promise<PutResult<V>>;
  async put<V>(key: Key, value: V, options: PutOptions & CallOptions & DecodeOptions<V> = {}): Promise<PutResult<V>> {
    const codec = options.codec;
    const bytes = value === undefined ? Buffer.alloc(0) : codec !== undefined ? codec.encode(value) : rawValueBytes(value as RawValue);
    const request = putRequest(this.namespace, key, bytes, options);
    const response = await this.connection.unary(Service.KV, 'Put', Idempotency.Unsafe, (endpoint, metadata, callOptions) =>
      this.connection.callOnce<PutResponse>((callback) => endpoint.kv.put(request, metadata, callOptions, callback), options.signal), options);
    return toPutResult(this.namespace, response, (codec ?? bytesCodec) as Codec<V>);
  }

  /** Deletes every key a selector covers; `deleted` counts them. */
  delete(selector: KeySelector, options?: DeleteOptions & CallOptions): Promise<DeleteResult<Buffer>>;
  delete<V>(selector: KeySelector, options: DeleteOptions & CallOptions & { codec: Codec<V> }): Promise<DeleteResult<V>>;
  async delete<V>(selector: KeySelector, options: DeleteOptions & CallOptions & DecodeOptions<V> = {}): Promise<DeleteResult<V>> {
    const request = deleteRequest(this.namespace, selector, options);
    const response = await this.connection.unary(Service.KV, 'DeleteRange', Idempotency.Unsafe, (endpoint, metadata, callOptions) =>
      this.connection.callOnce<DeleteRangeResponse>((callback) => endpoint.kv.deleteRange(request, metadata, callOptions, callback), options.signal), options);
    return toDeleteResult(this.namespace, response, (options.codec ?? bytesCodec) as Codec<V>);
  }

  /**
   * Discards history before `revision` (cluster-wide; not namespaced).
   * Compacting again at or below the current compact revision → `CompactedError`;
   * above the current revision → `FutureRevisionError`. Safe to retry: repeating it
   * only yields `CompactedError`.
   */
  async compact(revision: bigint, options: CompactOptions & CallOptions = {}): Promise<{ header: Header; revision: bigint }> {
    nonNegative('revision', revision);
    const request = CompactionRequest.fromPartial({ revision, physical: options.physical ?? false });
    const response = await this.connection.unary(Service.KV, 'Compact', Idempotency.Unsafe, (endpoint, metadata, callOptions) =>
      this.connection.callOnce<CompactionResponse>((callback) => endpoint.kv.compact(request, metadata, callOptions, callback), options.signal), options);
    const header = toHeader(response.header);
    return { header, revision: header.revision };
  }
}
