// What the fuzzer sends: one FuzzCall is one unary request, a body of random
// bytes for a unary method, or a short script on one stream (Watch,
// LeaseKeepAlive, Election.Observe). Calls are plain data, so fast-check can
// shrink them and print them, and a failure names the request exactly.
import type { MethodDefinition } from '@grpc/grpc-js';
import {
  ClusterService,
  KVService,
  LeaseService,
  MaintenanceService,
  type WatchCreateRequest,
} from '../../proto/gen/etcdserverpb/rpc.js';
import { ElectionService } from '../../proto/gen/v3electionpb/v3election.js';
import { LockService } from '../../proto/gen/v3lockpb/v3lock.js';

// eslint-disable-next-line @typescript-eslint/no-explicit-any -- one table over methods of every request type
type AnyMethod = MethodDefinition<any, any>;

/** Every unary client method the fuzzer calls, by "Service.Method". */
export const unaryMethods = {
  'KV.Range': KVService.range,
  'KV.Put': KVService.put,
  'KV.DeleteRange': KVService.deleteRange,
  'KV.Txn': KVService.txn,
  'KV.Compact': KVService.compact,
  'Lease.LeaseGrant': LeaseService.leaseGrant,
  'Lease.LeaseRevoke': LeaseService.leaseRevoke,
  'Lease.LeaseTimeToLive': LeaseService.leaseTimeToLive,
  'Lease.LeaseLeases': LeaseService.leaseLeases,
  'Maintenance.Status': MaintenanceService.status,
  'Maintenance.Hash': MaintenanceService.hash,
  'Maintenance.HashKV': MaintenanceService.hashKv,
  'Maintenance.Alarm': MaintenanceService.alarm,
  'Maintenance.Defragment': MaintenanceService.defragment,
  'Cluster.MemberList': ClusterService.memberList,
  'Cluster.MemberAdd': ClusterService.memberAdd,
  'Cluster.MemberRemove': ClusterService.memberRemove,
  'Cluster.MemberUpdate': ClusterService.memberUpdate,
  'Cluster.MemberPromote': ClusterService.memberPromote,
  'Lock.Lock': LockService.lock,
  'Lock.Unlock': LockService.unlock,
  'Election.Campaign': ElectionService.campaign,
  'Election.Proclaim': ElectionService.proclaim,
  'Election.Leader': ElectionService.leader,
  'Election.Resign': ElectionService.resign,
} satisfies Record<string, AnyMethod>;

export type UnaryMethod = keyof typeof unaryMethods;

export const streamMethods = {
  watch: '/etcdserverpb.Watch/Watch',
  keepAlive: '/etcdserverpb.Lease/LeaseKeepAlive',
  observe: '/v3electionpb.Election/Observe',
} as const;

/**
 * A request field set at send time to the latest revision seen minus
 * `back`: revisions near the present are where compaction and future-revision
 * checks live, and the present is not known when the call is generated.
 */
export interface NearCurrent {
  field: 'revision';
  back: number;
}

export interface UnaryCall {
  kind: 'unary';
  method: UnaryMethod;
  request: object;
  /** A short deadline (Lock, Campaign wait by design); DEADLINE_EXCEEDED is then a fine answer. */
  deadlineMs?: number;
  nearCurrent?: NearCurrent;
}

/** Random or mutated bytes as the request body of a unary method. */
export interface GarbageCall {
  kind: 'garbage';
  method: UnaryMethod;
  body: Buffer;
  /** As UnaryCall's: set for the methods that wait by design, since garbage may decode into a valid wait. */
  deadlineMs?: number;
}

/** Methods that wait by design (for a lock, for leadership): their calls get short deadlines. */
export const waitingMethods: readonly UnaryMethod[] = ['Lock.Lock', 'Election.Campaign'];

/** Bounds of those short deadlines. */
export const waitDeadlineMs = { min: 50, max: 600 } as const;

export type WatchAction =
  | { create: WatchCreateRequest; startBack?: number }
  | { cancel: bigint }
  | { progress: true }
  | { garbage: Buffer };

/** How a stream script ends: the client cancels, or half-closes and waits for the server to end it. */
export type StreamEnding = 'cancel' | 'half-close';

export interface WatchCall {
  kind: 'watch';
  actions: WatchAction[];
  /** How long to read responses after the last action. */
  settleMs: number;
  ending: StreamEnding;
}

export type KeepAliveAction = { id: bigint } | { garbage: Buffer };

export interface KeepAliveCall {
  kind: 'keep-alive';
  actions: KeepAliveAction[];
  ending: StreamEnding;
}

export interface ObserveCall {
  kind: 'observe';
  name: Buffer;
  /** How long the stream stays open before the client cancels it. */
  openMs: number;
}

export type FuzzCall = UnaryCall | GarbageCall | WatchCall | KeepAliveCall | ObserveCall;

/** A call and the member it goes to (an index into the target's members). */
export interface Addressed {
  call: FuzzCall;
  member: number;
}

/** The name a call is counted under in the statistics. */
export function callName(call: FuzzCall): string {
  switch (call.kind) {
    case 'unary':
      return call.method;
    case 'garbage':
      return `${call.method} (garbage)`;
    case 'watch':
      return 'Watch.Watch';
    case 'keep-alive':
      return 'Lease.LeaseKeepAlive';
    case 'observe':
      return 'Election.Observe';
  }
}

/**
 * A call as JSON a person can read and paste into a test: bytes as
 * {"utf8": ...} when printable, else {"hex": ...}; bigints as strings with n.
 */
export function callJson(call: unknown): string {
  return JSON.stringify(call, (_key, value: unknown) => {
    if (typeof value === 'bigint') return `${value}n`;
    if (isSerializedBuffer(value)) return describeBytes(Buffer.from(value.data));
    return value;
  });
}

/** Bytes shortened for printing: the first and last bytes of long ones, and the length. */
const printedBytesMax = 64;

function describeBytes(bytes: Buffer): object {
  const printable = /^[\x20-\x7e]*$/.test(bytes.toString('latin1'));
  const shown = bytes.length > printedBytesMax ? bytes.subarray(0, printedBytesMax) : bytes;
  const text = printable ? { utf8: shown.toString('latin1') } : { hex: shown.toString('hex') };
  return bytes.length > printedBytesMax ? { ...text, length: bytes.length, repeated: `first ${printedBytesMax} bytes shown` } : text;
}

/** JSON.stringify hands a Buffer to the replacer already as {type: 'Buffer', data}. */
function isSerializedBuffer(value: unknown): value is { type: 'Buffer'; data: number[] } {
  return typeof value === 'object' && value !== null && (value as { type?: unknown }).type === 'Buffer' && Array.isArray((value as { data?: unknown }).data);
}
