// The coordination primitives behind the Lock and Election services
// (lock.ts, election.ts), written over the server's own KV path (proposals
// through the log, reads of the applied state, and internal watchers on the
// hub). Key layout as etcd's concurrency package: <prefix>/<lease id in hex>,
// queued by create revision, so these interoperate with etcdctl lock / elect
// and jetcd. Nothing here knows gRPC: the services' wire adapters are in
// server/api/ (lock.ts, election.ts).
import {
  Compare_CompareResult,
  Compare_CompareTarget,
  RangeRequest,
  RangeRequest_SortOrder,
  RangeRequest_SortTarget,
  type Compare,
  type DeleteRangeResponse,
  type RangeResponse,
  type RequestOp,
  type ResponseHeader,
  type TxnResponse,
} from '../../proto/gen/etcdserverpb/rpc.js';
import type { QuotaRequest } from '../alarm/quota.js';
import type { Clock } from '../clock.js';
import type { KeyRange } from '../mvcc/tree-index.js';
import type { Proposal } from '../node/raft-node.js';
import { WaitCancelledError } from './errors.js';
import type { KeyValue } from '../../proto/gen/mvccpb/kv.js';
import type { RequestAuth } from '../../proto/gen/cairnpb/internal.js';
import type { ChangeEvent } from '../mvcc/store.js';
import type { WatchHub } from '../watch/hub.js';
import { Watcher, type WatchSink } from '../watch/watcher.js';
import { checkDelete, checkTxn } from '../requests/checks.js';

/** etcd's default session TTL, used when a Lock or Campaign request names no lease. */
const sessionTtlSeconds = 60n;

/** An abort signal for waits: set when the client goes away. */
export interface Cancellation {
  readonly cancelled: boolean;
  onCancel(listener: () => void): void;
}

/** A Cancellation its owner sets with `cancel()`; listeners added afterwards run at once. */
export class CancellationSource implements Cancellation {
  private cancelledValue = false;
  private listeners: Array<() => void> = [];

  get cancelled(): boolean {
    return this.cancelledValue;
  }

  onCancel(listener: () => void): void {
    if (this.cancelledValue) listener();
    else this.listeners.push(listener);
  }

  cancel(): void {
    this.cancelledValue = true;
    for (const listener of this.listeners.splice(0)) listener();
  }
}

/**
 * The server's own KV path, as these services use it. etcd runs them as
 * clients of its own KV API, so their writes meet the backend quota and go
 * through the log, and their reads see this member's applied state.
 */
export interface KvPath {
  /** Weighs a write against the backend quota before it is proposed; throws NoSpaceError when it does not fit. */
  admit(request: QuotaRequest): Promise<void>;
  /** Proposes a request through the log; its response, the header filled in. */
  propose<T extends { header?: ResponseHeader | undefined }>(proposal: Proposal): Promise<T>;
  /** A range of this member's applied state. */
  range(request: RangeRequest): RangeResponse;
  /** This member's response header, at `header`'s revision (or the current one when it has none). */
  header(header: ResponseHeader | undefined): ResponseHeader;
  /** Grants a fresh lease of `ttlSeconds` through the log (after the quota admits it) and starts its deadline; its ID. */
  grantLease(ttlSeconds: bigint): Promise<bigint>;
  /** --max-txn-ops */
  readonly txnOpsMax: number;
  /**
   * The same path run as `auth` (a Lock or Election caller): its writes are
   * proposed as that user and its reads checked against its permissions, as
   * etcd's services pass their caller's token to the client they run on.
   */
  as(auth: RequestAuth): KvPath;
}

export class Coordination {
  constructor(
    private readonly kv: KvPath,
    private readonly hub: WatchHub,
    private readonly clock: Clock,
  ) {}

  /** The same services, run as `auth` (KvPath.as). */
  as(auth: RequestAuth): Coordination {
    return new Coordination(this.kv.as(auth), this.hub, this.clock);
  }

  /** The queue key of a lease under a prefix (prefix must end in "/"). */
  static queueKey(prefix: string, lease: bigint): string {
    return `${prefix}${lease.toString(16)}`;
  }

  /**
   * Puts `key` (value, lease) unless it exists; returns its create revision
   * and current value, and the header of the txn. The backend quota weighs
   * it first, as etcd's Lock and Election services go through its quota KV
   * server.
   */
  async enqueue(key: string, value: Buffer, lease: bigint): Promise<{ createRevision: number; kv: KeyValue | undefined; header: ResponseHeader }> {
    const keyBytes = Buffer.from(key, 'latin1');
    const txn = {
      compare: [createRevisionIs(keyBytes, 0n)],
      success: [{ requestPut: { key: keyBytes, value, lease, prevKv: false, ignoreValue: false, ignoreLease: false } }],
      failure: [{ requestRange: RangeRequest.fromPartial({ key: keyBytes }) }],
    };
    await this.kv.admit({ txn });
    const response = await this.kv.propose<TxnResponse>({ txn });
    const header = response.header as ResponseHeader;
    if (response.succeeded) return { createRevision: Number(header.revision), kv: undefined, header };
    const kv = response.responses[0]?.responseRange?.kvs[0];
    return { createRevision: Number(kv?.createRevision ?? 0n), kv, header };
  }

  /** Waits until every key under `prefix` created before `createRevision` is deleted. */
  async waitPredecessors(prefix: string, createRevision: number, cancellation: Cancellation): Promise<ResponseHeader> {
    for (;;) {
      if (cancellation.cancelled) throw new WaitCancelledError();
      const last = this.byCreateRevision(prefix, RangeRequest_SortOrder.DESCEND, BigInt(createRevision - 1));
      const predecessor = last.kvs[0];
      if (predecessor === undefined) return this.kv.header(last.header);
      await this.waitDelete(predecessor.key.toString('latin1'), Number(last.header?.revision ?? 0n) + 1, cancellation);
    }
  }

  /** The first-created key under `prefix` (the owner / leader), if any. */
  first(prefix: string): { kv: KeyValue | undefined; header: ResponseHeader } {
    const found = this.byCreateRevision(prefix, RangeRequest_SortOrder.ASCEND, 0n);
    return { kv: found.kvs[0], header: this.kv.header(found.header) };
  }

  /** The first key under `prefix` in create-revision `order`, among those created at or before `maxCreateRevision` (0 = any). */
  private byCreateRevision(prefix: string, order: RangeRequest_SortOrder, maxCreateRevision: bigint): RangeResponse {
    const key = Buffer.from(prefix, 'latin1');
    return this.kv.range(
      RangeRequest.fromPartial({ key, rangeEnd: prefixEnd(key), sortOrder: order, sortTarget: RangeRequest_SortTarget.CREATE, maxCreateRevision, limit: 1n }),
    );
  }

  get(key: string): KeyValue | undefined {
    return this.kv.range(RangeRequest.fromPartial({ key: Buffer.from(key, 'latin1') })).kvs[0];
  }

  /** Resolves once `key` is deleted at or after `fromRevision`. */
  waitDelete(key: string, fromRevision: number, cancellation: Cancellation): Promise<void> {
    return this.watchUntil({ start: key }, fromRevision, cancellation, (event) => event.type === 'delete');
  }

  /** Proposes a delete of one key. */
  async delete(key: string): Promise<ResponseHeader> {
    const deleteRange = { key: Buffer.from(key, 'latin1'), rangeEnd: Buffer.alloc(0), prevKv: false };
    // etcd runs these services as clients of its own KV API, so their requests meet its checks too.
    checkDelete(deleteRange);
    const response = await this.kv.propose<DeleteRangeResponse>({ deleteRange });
    return response.header as ResponseHeader;
  }

  /** Runs a txn `If(create_revision(key) == createRevision) Then(op)` (a put is weighed by the quota first); returns whether it held. */
  async ifCreated(key: string, createRevision: bigint, op: RequestOp): Promise<{ succeeded: boolean; header: ResponseHeader }> {
    const txn = { compare: [createRevisionIs(Buffer.from(key, 'latin1'), createRevision)], success: [op], failure: [] };
    await this.kv.admit({ txn });
    checkTxn(txn, this.kv.txnOpsMax);
    const response = await this.kv.propose<TxnResponse>({ txn });
    return { succeeded: response.succeeded, header: response.header as ResponseHeader };
  }

  /** Grants a lease for a request that named none, as etcd's session does (TTL 60 s). */
  async grantSessionLease(): Promise<bigint> {
    return this.kv.grantLease(sessionTtlSeconds);
  }

  /**
   * Watches `key` from `fromRevision` and resolves with the first event
   * `done` accepts (each event is also passed to `onEvent`).
   */
  watchUntil(
    range: KeyRange,
    fromRevision: number,
    cancellation: Cancellation,
    done: (event: ChangeEvent) => boolean,
    onEvent: (event: ChangeEvent) => void = () => {},
  ): Promise<void> {
    return new Promise((resolve, reject) => {
      let watcher: Watcher | undefined = undefined;
      const finish = (error?: Error): void => {
        if (watcher === undefined) return;
        this.hub.remove(watcher);
        watcher = undefined;
        if (error !== undefined) reject(error);
        else resolve();
      };
      const sink: WatchSink = {
        deliver: (_watcher, _revision, events) => {
          for (const event of events) {
            onEvent(event);
            if (done(event)) {
              this.clock.soon(() => finish());
              break;
            }
          }
          return true;
        },
        compacted: () => finish(new Error('etcdserver: mvcc: required revision has been compacted')),
        hasRoom: () => true,
      };
      watcher = new Watcher(-1n, range, fromRevision, { noPut: false, noDelete: false }, false, sink);
      cancellation.onCancel(() => finish(new WaitCancelledError()));
      this.hub.add(watcher);
    });
  }
}

/** The compare `create_revision(key) == createRevision` (0: the key does not exist). */
function createRevisionIs(key: Buffer, createRevision: bigint): Compare {
  return { key, rangeEnd: Buffer.alloc(0), target: Compare_CompareTarget.CREATE, result: Compare_CompareResult.EQUAL, createRevision };
}

/** The smallest key after every key with this prefix (etcd's GetPrefixRangeEnd). */
export function prefixEnd(prefix: Buffer): Buffer {
  const end = Buffer.from(prefix);
  for (let i = end.length - 1; i >= 0; i--) {
    const byte = end.readUInt8(i);
    if (byte < 0xff) {
      end.writeUInt8(byte + 1, i);
      return end.subarray(0, i + 1);
    }
  }
  return Buffer.from([0]); // all 0xff: every key from the prefix on
}
