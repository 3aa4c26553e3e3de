// Range as etcd evaluates it: read (one extra kv to learn `more`), filter by
// mod/create revision, sort, then cut to the limit.
import { RangeRequest_SortOrder, RangeRequest_SortTarget, type RangeRequest, type RangeResponse } from '../../proto/gen/etcdserverpb/rpc.js';
import type { KeyValue } from '../../proto/gen/mvccpb/kv.js';
import type { KeyRange } from '../mvcc/tree-index.js';
import type { MvccStore, RangeOptions, RangeResult } from '../mvcc/store.js';

export interface RangeReader {
  range(range: KeyRange, options: RangeOptions): RangeResult;
}

/**
 * The request's key range: no range_end = one key; range_end "\0" = every
 * key >= key; otherwise [key, range_end).
 */
export function keyRange(key: Buffer, rangeEnd: Buffer): KeyRange {
  const start = key.toString('latin1');
  if (rangeEnd.length === 0) return { start };
  if (rangeEnd.length === 1 && rangeEnd[0] === 0) return { start, end: '' };
  return { start, end: rangeEnd.toString('latin1') };
}

export function evaluateRange(reader: RangeReader, request: RangeRequest): RangeResponse {
  return finishRange(request, reader.range(keyRange(request.key, request.rangeEnd), readOptions(request)));
}

/** As evaluateRange, reading through a store's batched reads (a client's Range outside any txn). */
export async function evaluateRangeBatched(store: MvccStore, request: RangeRequest): Promise<RangeResponse> {
  return finishRange(request, await store.rangeBatched(keyRange(request.key, request.rangeEnd), readOptions(request)));
}

/** What to read for `request`: one kv more than its limit (to learn `more`), all when it filters or sorts. */
function readOptions(request: RangeRequest): RangeOptions {
  const limit = Number(request.limit);
  let fetchLimit = request.sortOrder !== RangeRequest_SortOrder.NONE || isFiltered(request) ? 0 : limit;
  if (fetchLimit > 0) fetchLimit++;
  return { limit: fetchLimit, revision: Number(request.revision), countOnly: request.countOnly };
}

function isFiltered(request: RangeRequest): boolean {
  return request.minModRevision !== 0n || request.maxModRevision !== 0n || request.minCreateRevision !== 0n || request.maxCreateRevision !== 0n;
}

/** Filters, sorts and cuts what was read into the response. */
function finishRange(request: RangeRequest, result: RangeResult): RangeResponse {
  const limit = Number(request.limit);
  const filtered = isFiltered(request);
  let kvs = result.kvs;
  if (filtered) kvs = kvs.filter((kv) => keepByRevision(request, kv));
  let sortOrder = request.sortOrder;
  if (request.sortTarget !== RangeRequest_SortTarget.KEY && sortOrder === RangeRequest_SortOrder.NONE) {
    // The store returns kvs by key, so sorting ascending by key is only needed for other targets.
    sortOrder = RangeRequest_SortOrder.ASCEND;
  }
  if (sortOrder === RangeRequest_SortOrder.ASCEND || sortOrder === RangeRequest_SortOrder.DESCEND) {
    const compare = comparator(request.sortTarget);
    const sign = sortOrder === RangeRequest_SortOrder.DESCEND ? -1 : 1;
    kvs = [...kvs].sort((a, b) => sign * compare(a, b));
  }
  let more = false;
  if (limit > 0 && kvs.length > limit) {
    kvs = kvs.slice(0, limit);
    more = true;
  }
  if (request.keysOnly) kvs = kvs.map((kv) => ({ ...kv, value: Buffer.alloc(0) }));
  return { header: { clusterId: 0n, memberId: 0n, revision: BigInt(result.revision), raftTerm: 0n }, kvs, more, count: BigInt(result.count) };
}

function keepByRevision(request: RangeRequest, kv: KeyValue): boolean {
  if (request.maxModRevision !== 0n && kv.modRevision > request.maxModRevision) return false;
  if (request.minModRevision !== 0n && kv.modRevision < request.minModRevision) return false;
  if (request.maxCreateRevision !== 0n && kv.createRevision > request.maxCreateRevision) return false;
  if (request.minCreateRevision !== 0n && kv.createRevision < request.minCreateRevision) return false;
  return true;
}

function comparator(target: RangeRequest_SortTarget): (a: KeyValue, b: KeyValue) => number {
  switch (target) {
    case RangeRequest_SortTarget.VERSION:
      return (a, b) => compareBigints(a.version, b.version);
    case RangeRequest_SortTarget.CREATE:
      return (a, b) => compareBigints(a.createRevision, b.createRevision);
    case RangeRequest_SortTarget.MOD:
      return (a, b) => compareBigints(a.modRevision, b.modRevision);
    case RangeRequest_SortTarget.VALUE:
      return (a, b) => Buffer.compare(a.value, b.value);
    default:
      return (a, b) => Buffer.compare(a.key, b.key);
  }
}

function compareBigints(a: bigint, b: bigint): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
