// Maintenance: a member's status, defragmentation, alarms, hashes of the key
// space, snapshots, and leader transfer (etcd's Maintenance service).
//
// Calls about one member (status, defragment, hashKv, snapshot) go to the
// active endpoint, or to the member named by `endpoint`, which is then never
// swapped for another. Alarms are cluster-wide (they go through consensus).
import { createWriteStream } from 'node:fs';
import { rename, rm } from 'node:fs/promises';
import { Transform, type Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { Observable } from 'rxjs';
import {
  AlarmRequest,
  AlarmRequest_AlarmAction,
  AlarmType as WireAlarmType,
  DefragmentRequest,
  HashKVRequest,
  MoveLeaderRequest,
  SnapshotRequest,
  StatusRequest,
  type AlarmMember as WireAlarmMember,
  type AlarmResponse,
  type DefragmentResponse,
  type HashKVResponse,
  type MoveLeaderResponse,
  type SnapshotResponse,
  type StatusResponse,
} from '../proto/gen/etcdserverpb/rpc.js';
import { cancelUnheard, Idempotency, Service, type CallOptions, type Connection, type Endpoint } from './connection.js';
import { AbortedError, classify, ClientClosedError, DeadlineExceededError, SnapshotChecksumError, type EtcdError } from './errors.js';
import { toHeader, type Header } from './kv.js';
import { SnapshotVerifier, type SnapshotInfo } from './snapshot.js';

export type { SnapshotInfo } from './snapshot.js';

/** Status of one member. */
export interface MemberStatus {
  header: Header;
  /** Server version string (etcd's or cairn's). */
  version: string;
  dbSizeBytes: bigint;
  dbSizeInUseBytes: bigint;
  /** Member ID of the current leader (0n when none). */
  leader: bigint;
  raftIndex: bigint;
  raftTerm: bigint;
  raftAppliedIndex: bigint;
  /** Alarm and health messages. */
  errors: string[];
  isLearner: boolean;
}

/** Options of a call about one member. */
export interface MemberCallOptions extends CallOptions {
  /** The member to ask: one of the client's endpoints (`host:port`, with or without scheme). Default: the active endpoint. */
  endpoint?: string;
}

/** Kinds of alarm. */
export const AlarmType = {
  /** The backend reached its quota (`--quota-backend-bytes`): writes fail with `NoSpaceError` until compacted, defragmented and disarmed. */
  NoSpace: 'nospace',
  /** A member's data differs from the others' (corruption check). */
  Corrupt: 'corrupt',
  /** Alarm type 0: stored when raised by hand with no type; listed as etcd lists it. */
  None: 'none',
} as const;
/** Kinds of alarm. */
export type AlarmType = (typeof AlarmType)[keyof typeof AlarmType];

/** An alarm raised on a member. */
export interface AlarmMember {
  memberId: bigint;
  alarm: AlarmType;
}

/** A hash of a member's key space at a revision (etcd's HashKV). */
export interface KeyValueHash {
  header: Header;
  /** CRC-32 (Castagnoli) over the keys and values up to the revision; equal on members that agree. */
  hash: number;
  /** The member's compaction revision when it hashed. */
  compactRevision: bigint;
}

const alarmTypeFromWire = (type: WireAlarmType): AlarmType =>
  type === WireAlarmType.NOSPACE ? AlarmType.NoSpace : type === WireAlarmType.CORRUPT ? AlarmType.Corrupt : AlarmType.None;
const alarmTypeToWire: Record<AlarmType, WireAlarmType> = {
  nospace: WireAlarmType.NOSPACE,
  corrupt: WireAlarmType.CORRUPT,
  none: WireAlarmType.NONE,
};
const toAlarmMember = (alarm: WireAlarmMember): AlarmMember => ({ memberId: alarm.memberID, alarm: alarmTypeFromWire(alarm.alarm) });

/** Maintenance operations of a client. */
export class Maintenance {
  /** @internal */
  constructor(private readonly connection: Connection) {}

  /** Status of one member (the active endpoint unless `endpoint`). Retried when unreachable; on the next endpoint unless `endpoint`. */
  async status(options: MemberCallOptions = {}): Promise<MemberStatus> {
    const request = StatusRequest.fromPartial({});
    const response = await this.connection.unary(Service.Maintenance, 'Status', Idempotency.Safe, (endpoint, metadata, callOptions) =>
      this.connection.callOnce<StatusResponse>((callback) => endpoint.maintenance.status(request, metadata, callOptions, callback), options.signal),
    options, this.pinned(options));
    return {
      header: toHeader(response.header),
      version: response.version,
      dbSizeBytes: response.dbSize,
      dbSizeInUseBytes: response.dbSizeInUse,
      leader: response.leader,
      raftIndex: response.raftIndex,
      raftTerm: response.raftTerm,
      raftAppliedIndex: response.raftAppliedIndex,
      errors: [...response.errors],
      isLearner: response.isLearner,
    };
  }

  /**
   * Defragments one member's backend, giving the space freed by compaction
   * back to the file system (`dbSizeBytes` drops towards `dbSizeInUseBytes`).
   * The member does not serve meanwhile; defragment members one at a time.
   * Retried like a read: defragmenting twice is harmless. With auth, only
   * root may (etcd 3.4 answers others with code Unknown,
   * `auth: permission denied`: an `UnknownServerError`).
   */
  async defragment(options: MemberCallOptions = {}): Promise<void> {
    const request = DefragmentRequest.fromPartial({});
    await this.connection.unary(Service.Maintenance, 'Defragment', Idempotency.Safe, (endpoint, metadata, callOptions) =>
      this.connection.callOnce<DefragmentResponse>((callback) => endpoint.maintenance.defragment(request, metadata, callOptions, callback), options.signal),
    options, this.pinned(options));
  }

  /**
   * Hash of one member's keys and values at `revision` (0n or absent: the
   * latest), for comparing members: at the same revision, members that agree
   * have the same hash. A compacted revision → `CompactedError`; a future one
   * → `FutureRevisionError`.
   */
  async hashKv(revision = 0n, options: MemberCallOptions = {}): Promise<KeyValueHash> {
    const request = HashKVRequest.fromPartial({ revision });
    const response = await this.connection.unary(Service.Maintenance, 'HashKV', Idempotency.Safe, (endpoint, metadata, callOptions) =>
      this.connection.callOnce<HashKVResponse>((callback) => endpoint.maintenance.hashKv(request, metadata, callOptions, callback), options.signal),
    options, this.pinned(options));
    return { header: toHeader(response.header), hash: response.hash, compactRevision: response.compactRevision };
  }

  /** The alarms raised in the cluster (a consensus read). */
  async alarms(options: CallOptions = {}): Promise<AlarmMember[]> {
    const response = await this.alarm(AlarmRequest.fromPartial({ action: AlarmRequest_AlarmAction.GET }), options);
    return response.alarms.map(toAlarmMember);
  }

  /**
   * Clears `alarm` (one member's alarm of one type), or with no argument
   * every raised alarm, as `etcdctl alarm disarm` does. Resolves with the
   * alarms cleared (an alarm not raised clears nothing). A NOSPACE alarm
   * raised again at the next write if the backend is still over its quota:
   * compact and defragment first.
   */
  async disarmAlarm(alarm?: AlarmMember, options: CallOptions = {}): Promise<AlarmMember[]> {
    const targets = alarm === undefined ? await this.alarms(options) : [alarm];
    const cleared: AlarmMember[] = [];
    for (const target of targets) {
      const request = AlarmRequest.fromPartial({
        action: AlarmRequest_AlarmAction.DEACTIVATE,
        memberID: target.memberId,
        alarm: alarmTypeToWire[target.alarm],
      });
      const response = await this.alarm(request, options);
      cleared.push(...response.alarms.map(toAlarmMember));
    }
    return cleared;
  }

  /** One Alarm call: GET is a read, and DEACTIVATE may be repeated without harm. */
  private alarm(request: AlarmRequest, options: CallOptions): Promise<AlarmResponse> {
    return this.connection.unary(Service.Maintenance, 'Alarm', Idempotency.Safe, (endpoint, metadata, callOptions) =>
      this.connection.callOnce<AlarmResponse>((callback) => endpoint.maintenance.alarm(request, metadata, callOptions, callback), options.signal), options);
  }

  /**
   * A cold Observable of one member's snapshot, as the server streams it:
   * the backend's bytes, then the 32-byte SHA-256 of them (the file
   * `etcdctl snapshot save` writes, which `etcdutl snapshot restore` and
   * `cairn snapshot restore` check). Subscribing starts the stream;
   * unsubscribing cancels it. Errors with `SnapshotChecksumError` at the end
   * when the trailer does not match — the chunks emitted must then be
   * discarded. Not retried. With auth, only root may.
   */
  snapshot$(options: { endpoint?: string } = {}): Observable<Buffer> {
    return new Observable<Buffer>((subscriber) => {
      if (this.connection.isClosed) {
        subscriber.error(new ClientClosedError('client is closed'));
        return undefined;
      }
      const endpoint = this.pinned(options) ?? this.connection.current();
      const call = endpoint.maintenance.snapshot(SnapshotRequest.fromPartial({}), this.connection.metadata());
      const verifier = new SnapshotVerifier();
      let ended = false;
      call.on('data', (response: SnapshotResponse) => {
        verifier.update(response.blob);
        subscriber.next(response.blob);
      });
      call.on('error', (error: unknown) => {
        ended = true;
        subscriber.error(classify(error));
      });
      call.on('end', () => {
        ended = true;
        try {
          verifier.finish();
          subscriber.complete();
        } catch (error) {
          subscriber.error(error);
        }
      });
      return () => {
        if (ended) call.removeAllListeners();
        else cancelUnheard(call);
      };
    });
  }

  /**
   * Saves one member's snapshot (see `snapshot$`) to `destination`: a file
   * path, or a Node `Writable`. A file is written beside its final name and
   * renamed into place only once the SHA-256 trailer checked out, so a file
   * at `destination` is always a whole snapshot; a `Writable` is ended on
   * success and destroyed with the error on failure, as `stream.pipeline`
   * does. Honours backpressure. Errors: `SnapshotChecksumError`, the
   * stream's typed error, `AbortedError`, `DeadlineExceededError`.
   */
  async snapshot(destination: string | Writable, options: MemberCallOptions = {}): Promise<SnapshotInfo> {
    if (this.connection.isClosed) throw new ClientClosedError('client is closed');
    const endpoint = this.pinned(options) ?? this.connection.current();
    const partPath = typeof destination === 'string' ? `${destination}.part` : undefined;
    const sink = partPath === undefined ? destination as Writable : createWriteStream(partPath);
    const verifier = new SnapshotVerifier();
    const signals = [options.signal, options.deadlineMs === undefined ? undefined : AbortSignal.timeout(options.deadlineMs)].filter((signal) => signal !== undefined);
    const call = endpoint.maintenance.snapshot(SnapshotRequest.fromPartial({}), this.connection.metadata());
    const check = new Transform({
      writableObjectMode: true,
      transform(response: SnapshotResponse, _encoding, callback) {
        verifier.update(response.blob);
        callback(null, response.blob);
      },
      flush(callback) {
        try {
          verifier.finish();
          callback();
        } catch (error) {
          callback(error as Error);
        }
      },
    });
    try {
      await pipeline(call, check, sink, signals.length === 0 ? {} : { signal: AbortSignal.any(signals) });
      if (partPath !== undefined) await rename(partPath, destination as string);
      return verifier.info();
    } catch (error) {
      call.cancel();
      if (partPath !== undefined) await rm(partPath, { force: true });
      throw this.snapshotError(error, options);
    }
  }

  private snapshotError(error: unknown, options: MemberCallOptions): EtcdError {
    if (options.signal?.aborted === true) return new AbortedError('snapshot aborted', { cause: options.signal.reason });
    if ((error as Error).name === 'AbortError') return new DeadlineExceededError('deadline exceeded', { cause: error });
    if (error instanceof SnapshotChecksumError) return error;
    return classify(error);
  }

  /**
   * Asks the leader to hand leadership to member `targetId` (must be sent to
   * the leader; etcd answers `NotLeaderError` otherwise, and
   * `BadLeaderTransfereeError` for a target that cannot lead). Not retried.
   */
  async moveLeader(targetId: bigint, options: CallOptions = {}): Promise<{ header: Header }> {
    const request = MoveLeaderRequest.fromPartial({ targetID: targetId });
    const response = await this.connection.unary(Service.Maintenance, 'MoveLeader', Idempotency.Unsafe, (endpoint, metadata, callOptions) =>
      this.connection.callOnce<MoveLeaderResponse>((callback) => endpoint.maintenance.moveLeader(request, metadata, callOptions, callback), options.signal), options);
    return { header: toHeader(response.header) };
  }

  private pinned(options: { endpoint?: string }): Endpoint | undefined {
    return options.endpoint === undefined ? undefined : this.connection.endpointFor(options.endpoint);
  }
}
