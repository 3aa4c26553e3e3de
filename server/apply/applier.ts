// Applies committed requests to the MVCC store, as etcd's applier does:
// checks first (so a failing request changes nothing), then writes, all in
// one write transaction = one revision. Applying reads no clock. Raised
// alarms refuse writes before anything else is looked at (alarm-gate.ts).
import type {
  AlarmRequest,
  AlarmResponse,
  CompactionRequest,
  CompactionResponse,
  LeaseGrantRequest,
  LeaseGrantResponse,
  LeaseRevokeRequest,
  LeaseRevokeResponse,
  DeleteRangeRequest,
  DeleteRangeResponse,
  PutRequest,
  PutResponse,
  RangeRequest,
  RangeResponse,
  ResponseHeader,
  ResponseOp,
  TxnRequest,
  TxnResponse,
} from '../../proto/gen/etcdserverpb/rpc.js';
import type { InternalRequest } from '../../proto/gen/cairnpb/internal.js';
import type { KeyValue } from '../../proto/gen/mvccpb/kv.js';
import type { MvccStore, WriteTxn } from '../mvcc/store.js';
import { CompactedError, FutureRevisionError } from '../mvcc/errors.js';
import { KeyNotFoundError, LeaseNotFoundError } from './errors.js';
import { LeaseExistsError, LeaseTtlTooLargeError } from '../lease/errors.js';
import { txnPath } from './compare.js';
import { KeyPresence } from './presence.js';
import { evaluateRange, evaluateRangeBatched, keyRange } from './range.js';
import { alarmRefusal, type RaisedAlarms } from './alarm-gate.js';
import { authRefusal, type AuthChecks, type LeaseKeys } from './auth-gate.js';
import type { AuthenticateResponse, AuthEnableResponse } from '../../proto/gen/etcdserverpb/rpc.js';
import type { RequestAuth } from '../../proto/gen/cairnpb/internal.js';
import { isAuthRequest } from '../auth/store.js';
import * as authErrors from '../auth/errors.js';

/** Which leases exist. */
export interface LeaseLookup {
  exists(id: bigint): boolean;
}

/** The replicated lease state the applier changes (server/lease/table.ts). */
export interface AppliedLeases extends LeaseLookup, LeaseKeys {
  grant(id: bigint, ttlSeconds: bigint): { ttlSeconds: bigint };
  revoke(id: bigint, txn: WriteTxn): void;
  /** Follows a put or delete, to keep key attachments. */
  track(type: 'put' | 'delete', kv: KeyValue): void;
}

/** The replicated alarm set the applier consults and changes (server/alarm/alarms.ts). */
export interface AppliedAlarms extends RaisedAlarms {
  apply(request: AlarmRequest): AlarmResponse;
}

/** The replicated auth store the applier consults and changes (server/auth/store.ts). */
export interface AppliedAuth extends AuthChecks {
  /** Applies an auth request committed at `index`; the token for Authenticate. */
  apply(request: InternalRequest, auth: RequestAuth | undefined, index: number): string | undefined;
}

/** Every auth request but Authenticate answers with a header alone. */
type AuthResponse = AuthEnableResponse | AuthenticateResponse;

export type ApplyResponse = PutResponse | DeleteRangeResponse | TxnResponse | CompactionResponse | LeaseGrantResponse | LeaseRevokeResponse | AlarmResponse | AuthResponse;
export type ApplyResult = { ok: true; response: ApplyResponse } | { ok: false; error: Error };

export class Applier {
  constructor(
    private readonly store: MvccStore,
    private readonly leases: AppliedLeases,
    private readonly alarms: AppliedAlarms,
    private readonly auth: AppliedAuth,
  ) {}

  /** Applies one request, committed at log index `index`; must run inside a backend transaction. */
  apply(request: InternalRequest, index: number): ApplyResult {
    const refused = alarmRefusal(request, this.alarms) ?? authRefusal(request, this.auth, this.leases);
    if (refused !== undefined) return { ok: false, error: refused };
    try {
      if (isAuthRequest(request)) {
        const token = this.auth.apply(request, request.auth, index);
        const response: AuthResponse = token === undefined ? { header: header(this.store.currentRevision) } : { header: header(this.store.currentRevision), token };
        return { ok: true, response };
      }
      if (request.put !== undefined) return { ok: true, response: this.put(request.put) };
      if (request.deleteRange !== undefined) return { ok: true, response: this.deleteRange(request.deleteRange) };
      if (request.txn !== undefined) return { ok: true, response: this.txn(request.txn) };
      if (request.compaction !== undefined) return { ok: true, response: this.compaction(request.compaction) };
      if (request.leaseGrant !== undefined) return { ok: true, response: this.leaseGrant(request.leaseGrant) };
      if (request.leaseRevoke !== undefined) return { ok: true, response: this.leaseRevoke(request.leaseRevoke) };
      if (request.alarm !== undefined) return { ok: true, response: this.alarms.apply(request.alarm) };
      throw new Error('applier: empty request');
    } catch (error) {
      if (isOperatingError(error)) return { ok: false, error };
      throw error;
    }
  }

  /** A read outside the log: sees every applied write. */
  range(request: RangeRequest): RangeResponse {
    return evaluateRange(this.store, request);
  }

  /** As `range`, for a client's Range: many keys are read in batches, the member's loop running between them. */
  rangeBatched(request: RangeRequest): Promise<RangeResponse> {
    return evaluateRangeBatched(this.store, request);
  }

  private put(request: PutRequest): PutResponse {
    // Outside a txn etcd looks the lease up before the key.
    if (request.lease !== 0n && !this.leases.exists(request.lease)) throw new LeaseNotFoundError();
    const txn = this.store.write();
    this.checkPut((key) => txn.range(keyRange(key, Buffer.alloc(0)), {}).kvs.length > 0, request);
    const response = this.putIn(txn, request);
    this.end(txn);
    return response;
  }

  private deleteRange(request: DeleteRangeRequest): DeleteRangeResponse {
    const txn = this.store.write();
    const response = this.deleteRangeIn(txn, request);
    this.end(txn);
    return response;
  }

  private txn(request: TxnRequest): TxnResponse {
    const txn = this.store.write();
    const path = txnPath(txn, request);
    const presence = new KeyPresence(txn);
    this.checkOps(txn, request, [...path], (op) => {
      if (op.requestPut !== undefined) {
        this.checkPut((key) => presence.exists(key), op.requestPut);
        presence.put(op.requestPut.key);
      }
      if (op.requestDeleteRange !== undefined) presence.delete(keyRange(op.requestDeleteRange.key, op.requestDeleteRange.rangeEnd));
      if (op.requestRange !== undefined) this.checkRangeRevision(txn, op.requestRange);
    });
    const response = this.txnIn(txn, request, path);
    response.header = header(this.end(txn));
    return response;
  }

  private leaseGrant(request: LeaseGrantRequest): LeaseGrantResponse {
    const lease = this.leases.grant(request.ID, request.TTL);
    return { header: header(this.store.currentRevision), ID: request.ID, TTL: lease.ttlSeconds, error: '' };
  }

  /** Deletes the lease's keys in one revision (none if it has no keys). */
  private leaseRevoke(request: LeaseRevokeRequest): LeaseRevokeResponse {
    const txn = this.store.write();
    this.leases.revoke(request.ID, txn);
    return { header: header(this.end(txn)) };
  }

  /** Ends a write and keeps lease attachments in step with what it changed. */
  private end(txn: WriteTxn): number {
    const revision = txn.end();
    for (const event of txn.events) this.leases.track(event.type, event.kv);
    return revision;
  }

  private compaction(request: CompactionRequest): CompactionResponse {
    this.store.compact(Number(request.revision));
    return { header: header(this.store.currentRevision) };
  }

  /** A put's preconditions: the key exists if ignore_* asks for its old value or lease; the lease exists. */
  private checkPut(exists: (key: Buffer) => boolean, request: PutRequest): void {
    if ((request.ignoreValue || request.ignoreLease) && !exists(request.key)) throw new KeyNotFoundError();
    if (request.lease !== 0n && !this.leases.exists(request.lease)) throw new LeaseNotFoundError();
  }

  private checkRangeRevision(txn: WriteTxn, request: RangeRequest): void {
    const revision = Number(request.revision);
    if (revision === 0) return;
    if (revision > txn.revision) throw new FutureRevisionError();
    if (revision < this.store.compactRevision) throw new CompactedError();
  }

  /** Runs `check` on every op of the branches `path` selects, nested txns included. */
  private checkOps(txn: WriteTxn, request: TxnRequest, path: boolean[], check: (op: TxnRequest['success'][number]) => void): void {
    const succeeded = path.shift();
    for (const op of succeeded === true ? request.success : request.failure) {
      if (op.requestTxn !== undefined) this.checkOps(txn, op.requestTxn, path, check);
      else check(op);
    }
  }

  private putIn(txn: WriteTxn, request: PutRequest): PutResponse {
    let value = request.value;
    let lease = request.lease;
    let prevKv;
    if (request.ignoreValue || request.ignoreLease || request.prevKv) {
      const previous = txn.range(keyRange(request.key, Buffer.alloc(0)), {}).kvs[0];
      if ((request.ignoreValue || request.ignoreLease) && previous === undefined) throw new KeyNotFoundError();
      if (request.ignoreValue && previous !== undefined) value = previous.value;
      if (request.ignoreLease && previous !== undefined) lease = previous.lease;
      if (request.prevKv) prevKv = previous;
    }
    return { header: header(txn.put(request.key, value, lease)), prevKv };
  }

  private deleteRangeIn(txn: WriteTxn, request: DeleteRangeRequest): DeleteRangeResponse {
    const range = keyRange(request.key, request.rangeEnd);
    const prevKvs = request.prevKv ? txn.range(range, {}).kvs : [];
    const deleted = txn.deleteRange(range);
    return { header: header(txn.revision), deleted: BigInt(deleted), prevKvs };
  }

  /** Executes the chosen branches; consumes `path` front to back. */
  private txnIn(txn: WriteTxn, request: TxnRequest, path: boolean[]): TxnResponse {
    const succeeded = path.shift() === true;
    const responses: ResponseOp[] = [];
    for (const op of succeeded ? request.success : request.failure) {
      if (op.requestRange !== undefined) responses.push({ responseRange: evaluateRange(txn, op.requestRange) });
      else if (op.requestPut !== undefined) responses.push({ responsePut: this.putIn(txn, op.requestPut) });
      else if (op.requestDeleteRange !== undefined) responses.push({ responseDeleteRange: this.deleteRangeIn(txn, op.requestDeleteRange) });
      else if (op.requestTxn !== undefined) responses.push({ responseTxn: this.txnIn(txn, op.requestTxn, path) });
      else responses.push({});
    }
    return { header: header(0), succeeded, responses };
  }
}

function header(revision: number): ResponseHeader {
  return { clusterId: 0n, memberId: 0n, revision: BigInt(revision), raftTerm: 0n };
}

/** The auth store's errors: all of them are answers to the request. */
const authErrorTypes: ReadonlyArray<new () => Error> = Object.values(authErrors);

function isOperatingError(error: unknown): error is Error {
  return (
    authErrorTypes.some((type) => error instanceof type) ||
    error instanceof LeaseExistsError ||
    error instanceof LeaseTtlTooLargeError ||
    error instanceof KeyNotFoundError ||
    error instanceof LeaseNotFoundError ||
    error instanceof CompactedError ||
    error instanceof FutureRevisionError
  );
}
