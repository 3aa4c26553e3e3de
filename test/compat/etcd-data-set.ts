// A realistic etcd data set for the tests that read etcd snapshot files
// (etcd-snapshot-read.test.ts, etcd-migration.test.ts): enough to make etcd's
// bbolt file use every kind of page (thousands of keys: branch pages; values
// over 4 KiB: overflow pages; small buckets "meta" and "lease": inline
// buckets), with history: keys written in Txns (sub revisions), several
// revisions of a key, deletes, a lease revoked with its keys, leases kept
// with keys attached, and a compaction in the middle.
import { credentials } from '@grpc/grpc-js';
import {
  KVClient, LeaseClient, RequestOp, type CompactionResponse, type DeleteRangeResponse, type LeaseGrantResponse,
  type LeaseRevokeResponse, type PutResponse, type TxnResponse,
} from '../../proto/gen/etcdserverpb/rpc.js';
import { responseOf, unary } from './rpc.js';

export const plainKeys = 3_000;
/** Puts per Txn: below etcd's default --max-txn-ops of 128. */
const putsPerTxn = 100;
/** Over bbolt's 4 KiB page: each of these records spans overflow pages. */
export const bigValueBytes = [5_000, 9_000, 20_000];
/** Live keys the data set leaves: the plain keys less the deleted ones, the big values, mig/multi and mig/compacted. */
export const liveKeys = plainKeys - 10 - 100 + 3 + 2;
/** TTLs of the leases still granted when the writes end. */
export const keptLeaseTtlsSeconds = [600n, 900n];

const plainKey = (index: number): string => `mig/key/${String(index).padStart(4, '0')}`;

/** One KeyValue as etcdctl's JSON prints it, with its 64-bit integers kept exact. */
export interface PrintedKv {
  key: string;
  value: string;
  create_revision: string;
  mod_revision: string;
  version: string;
  lease?: string;
}

/** etcdctl's JSON, with every integer as a string: lease IDs pass 2^53. */
export function parseExact<T>(text: string): T {
  return JSON.parse(text.replace(/("[a-z_A-Z]+":)(-?\d+)/g, '$1"$2"')) as T;
}

export interface EtcdDataSet {
  /** The revision the data set compacted at. */
  compactRevision: bigint;
}

/** Writes the data set into the etcd at `endpoint` (host:port). */
export async function writeEtcdDataSet(endpoint: string): Promise<EtcdDataSet> {
  const kv = new KVClient(endpoint, credentials.createInsecure());
  const leases = new LeaseClient(endpoint, credentials.createInsecure());
  try {
    const put = async (key: string, value: string | Buffer, lease = 0n): Promise<bigint> => {
      const request = { key: Buffer.from(key), value: Buffer.from(value), lease, prevKv: false, ignoreValue: false, ignoreLease: false };
      return responseOf(await unary<PutResponse>((m, o, done) => kv.put(request, m, o, done)), `put ${key}`).header!.revision;
    };
    const remove = async (key: string, rangeEnd = ''): Promise<void> => {
      const request = { key: Buffer.from(key), rangeEnd: Buffer.from(rangeEnd), prevKv: false };
      responseOf(await unary<DeleteRangeResponse>((m, o, done) => kv.deleteRange(request, m, o, done)), `delete ${key}`);
    };
    const grant = async (ttlSeconds: bigint): Promise<bigint> =>
      responseOf(await unary<LeaseGrantResponse>((m, o, done) => leases.leaseGrant({ TTL: ttlSeconds, ID: 0n }, m, o, done)), 'grant').ID;
    /** Puts keys [from, to) in Txns, so that their revisions have sub revisions too; `lease` for those below `leasedBelow`. */
    const putPlainKeys = async (from: number, to: number, value: (index: number) => string, lease: bigint, leasedBelow: number): Promise<void> => {
      for (let start = from; start < to; start += putsPerTxn) {
        const success: RequestOp[] = [];
        for (let index = start; index < Math.min(to, start + putsPerTxn); index++) {
          const requestPut = { key: Buffer.from(plainKey(index)), value: Buffer.from(value(index)), lease: index < leasedBelow ? lease : 0n };
          success.push(RequestOp.fromPartial({ requestPut }));
        }
        responseOf(await unary<TxnResponse>((m, o, done) => kv.txn({ compare: [], success, failure: [] }, m, o, done)), 'txn');
      }
    };

    const [keptTtl, otherTtl] = keptLeaseTtlsSeconds as [bigint, bigint];
    const kept = await grant(keptTtl);
    const other = await grant(otherTtl);
    const revoked = await grant(300n);
    await putPlainKeys(0, plainKeys, (index) => `value ${index} `.repeat(8), kept, 50);
    for (const [index, bytes] of bigValueBytes.entries()) await put(`mig/big/${index}`, Buffer.alloc(bytes, 0x61 + index));
    for (let round = 1; round <= 5; round++) await put('mig/multi', `round ${round}`, round === 5 ? other : 0n);
    await put('mig/revoked/a', 'gone', revoked);
    await put('mig/revoked/b', 'gone', revoked);
    await remove('mig/key/2990', 'mig/key/3000');

    // Compact in the middle of the history: the snapshot keeps only the last revision at or below it of each key.
    const compactRevision = await put('mig/compacted', 'before');
    responseOf(await unary<CompactionResponse>((m, o, done) => kv.compact({ revision: compactRevision, physical: true }, m, o, done)), 'compact');

    await putPlainKeys(100, 200, (index) => `rewritten ${index}`, 0n, 0);
    await remove('mig/key/0200', 'mig/key/0300');
    await remove('mig/multi');
    await put('mig/multi', 'reborn');
    await put('mig/big/0', Buffer.alloc(bigValueBytes[0]!, 0x7a));
    await put('mig/compacted', 'after');
    responseOf(await unary<LeaseRevokeResponse>((m, o, done) => leases.leaseRevoke({ ID: revoked }, m, o, done)), 'revoke');
    return { compactRevision };
  } finally {
    kv.close();
    leases.close();
  }
}
