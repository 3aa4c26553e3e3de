// The key-value calls the console makes. Writes are transactions guarded by
// the revision the user saw: an edit never overwrites a change the user has
// not seen (the page shows the conflict and the key's new value instead).
import { prefixEnd, toBase64, utf8 } from './bytes.js';
import { call, keyValue, type KeyValue, type RangeOptions, type RangeResponse, type ResponseHeader } from './gateway.js';

export interface Range {
  readonly kvs: KeyValue[];
  readonly more: boolean;
  readonly count: bigint;
  readonly revision: bigint;
}

/** The range a prefix covers, as a range or watch takes it: every key for "". */
export function prefixSpan(prefix: string): { key: Uint8Array; rangeEnd: Uint8Array } {
  if (prefix === '') return { key: new Uint8Array([0]), rangeEnd: new Uint8Array([0]) };
  const key = utf8(prefix);
  return { key, rangeEnd: prefixEnd(key) };
}

export async function range(key: Uint8Array, options: RangeOptions = {}): Promise<Range> {
  const body = {
    key: toBase64(key),
    ...(options.rangeEnd === undefined ? {} : { range_end: toBase64(options.rangeEnd) }),
    ...(options.limit === undefined ? {} : { limit: String(options.limit) }),
    ...(options.keysOnly === true ? { keys_only: true } : {}),
    ...(options.countOnly === true ? { count_only: true } : {}),
    ...(options.revision === undefined || options.revision === 0n ? {} : { revision: String(options.revision) }),
  };
  const response = await call<RangeResponse>('kv/range', body, options.signal);
  return {
    kvs: (response.kvs ?? []).map(keyValue),
    more: response.more === true,
    count: BigInt(response.count ?? '0'),
    revision: BigInt(response.header?.revision ?? '0'),
  };
}

/** One key as of now (undefined: it does not exist), with the store's revision. */
export async function get(key: Uint8Array, revision?: bigint): Promise<{ kv: KeyValue | undefined; revision: bigint }> {
  const found = await range(key, revision === undefined ? {} : { revision });
  return { kv: found.kvs[0], revision: found.revision };
}

/** What the user last saw of a key: its mod revision, or 0n for "it did not exist". */
export type SeenRevision = bigint;

export interface WriteResult {
  /** false: the key changed since `seen`, and nothing was written. */
  readonly succeeded: boolean;
  readonly revision: bigint;
}

interface TxnResponse {
  header?: ResponseHeader;
  succeeded?: boolean;
}

/**
 * Puts `value` at `key` unless the key changed since the user saw it
 * (mod revision `seen`; 0n: it must not exist). A key with a lease keeps it
 * (a plain put would detach it).
 */
export async function putIfUnchanged(key: Uint8Array, value: Uint8Array, seen: SeenRevision, keepLease: boolean): Promise<WriteResult> {
  const put = { request_put: { key: toBase64(key), value: toBase64(value), ...(keepLease ? { ignore_lease: true } : {}) } };
  return guarded(key, seen, put);
}

/** Deletes `key` unless it changed since the user saw it (mod revision `seen`). */
export async function deleteIfUnchanged(key: Uint8Array, seen: SeenRevision): Promise<WriteResult> {
  return guarded(key, seen, { request_delete_range: { key: toBase64(key) } });
}

async function guarded(key: Uint8Array, seen: SeenRevision, operation: object): Promise<WriteResult> {
  // Comparing create_revision with 0 is etcd's "the key does not exist".
  const compare = seen === 0n
    ? { key: toBase64(key), target: 'CREATE', result: 'EQUAL', create_revision: '0' }
    : { key: toBase64(key), target: 'MOD', result: 'EQUAL', mod_revision: String(seen) };
  const response = await call<TxnResponse>('kv/txn', { compare: [compare], success: [operation] });
  return { succeeded: response.succeeded === true, revision: BigInt(response.header?.revision ?? '0') };
}
