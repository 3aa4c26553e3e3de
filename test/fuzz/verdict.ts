// The per-answer oracle: every answer to a fuzzed request is a response (with
// this member's identity in its header) or a gRPC error whose code and
// message are among etcd's. Anything else is a finding. The allowed set is
// built from the server's one error table (knownWireErrors in
// server/grpc/errors.ts), plus what gRPC itself answers and what the client
// caused (its own deadline or cancel).
import { status } from '@grpc/grpc-js';
import type { ResponseHeader, WatchResponse } from '../../proto/gen/etcdserverpb/rpc.js';
import { knownWireErrors } from '../../server/grpc/errors.js';
import type { FuzzCall } from './calls.js';

/** A unary call's result, or how a stream ended: OK, or a gRPC status. */
export type Answer = { ok: true; response: unknown } | { ok: false; code: number; details: string };

/** Who answered, for the header check. */
export interface Identity {
  clusterId: bigint;
  memberId: bigint;
}

const etcdErrors = knownWireErrors();
const etcdMessages = new Set(etcdErrors.map((error) => error.message));

/** Reasons etcd gives in a watch response's cancel_reason (mvcc/watcher.go, v3rpc/watch.go). */
const watchCancelReasons = new Set(['mvcc: watcher range is empty', 'mvcc: duplicate watch ID provided on the WatchStream', 'mvcc: watcher does not exist']);
/** cairn's bound on watchers per stream, in etcd's style (server/api/watch.ts). */
const tooManyWatchers = /^etcdserver: too many watchers on one stream \(\d+\)$/;

/** gRPC's own answers: a message over the receive limit, and (for garbage only) a body that does not decode. */
const messageTooLarge = /^Received message larger than max \(\d+ vs\.? \d+\)$/;
const undecodable = /^Error deserializing request(: .*)?$/;

/** Lock and Election answer errors with code UNKNOWN and etcd's message, as etcd's own services do. */
function isCoordination(call: FuzzCall): boolean {
  return (call.kind === 'unary' || call.kind === 'garbage') && (call.method.startsWith('Lock.') || call.method.startsWith('Election.'));
}

/** What the client did that makes some answers expected: its short deadline, its cancel, its garbage. */
export interface ClientCaused {
  deadline: boolean;
  cancelled: boolean;
  garbage: boolean;
}

/** Why an error answer is not etcd's, or undefined when it is. */
export function judgeError(call: FuzzCall, code: number, details: string, caused: ClientCaused): string | undefined {
  if (etcdErrors.some((error) => error.code === code && error.message === details)) return undefined;
  if (isCoordination(call) && code === status.UNKNOWN && etcdMessages.has(details)) return undefined;
  if (isCoordination(call) && code === status.CANCELLED && details === 'context canceled') return undefined;
  if (code === status.RESOURCE_EXHAUSTED && messageTooLarge.test(details)) return undefined;
  if (code === status.INTERNAL && undecodable.test(details) && caused.garbage) return undefined;
  if (code === status.DEADLINE_EXCEEDED && caused.deadline) return undefined;
  if (code === status.CANCELLED && caused.cancelled) return undefined;
  return `answered ${status[code] ?? code} "${details}", which is not among etcd's errors`;
}

/** Why a response's header does not name the member that answered, or undefined. */
export function judgeHeader(header: ResponseHeader | undefined, identity: Identity): string | undefined {
  if (header === undefined) return undefined;
  if (header.clusterId !== identity.clusterId) return `header names cluster ${header.clusterId.toString(16)}, not ${identity.clusterId.toString(16)}`;
  if (header.memberId !== identity.memberId) return `header names member ${header.memberId.toString(16)}, not ${identity.memberId.toString(16)}`;
  return undefined;
}

/** Why an answer is a finding, or undefined. */
export function judgeAnswer(call: FuzzCall, answer: Answer, identity: Identity, caused: ClientCaused): string | undefined {
  if (!answer.ok) return judgeError(call, answer.code, answer.details, caused);
  if (call.kind === 'garbage') return undefined; // the identity deserializer leaves the response as bytes
  return judgeHeader((answer.response as { header?: ResponseHeader }).header, identity);
}

/** Why a watch response is a finding, or undefined. */
export function judgeWatchResponse(response: WatchResponse, identity: Identity): string | undefined {
  if (response.canceled && response.cancelReason !== '') {
    if (!watchCancelReasons.has(response.cancelReason) && !tooManyWatchers.test(response.cancelReason)) {
      return `watch cancelled with reason "${response.cancelReason}", which is not etcd's`;
    }
  }
  return judgeHeader(response.header, identity);
}

/** Lines a member must never log, whatever the input: an error that missed the error table, a fatal stop, an ejection. */
const forbiddenLogLines = [
  /unexpected error while serving a request/,
  /cairn: fatal:|"msg":"fatal: /,
  /was removed from the cluster/,
  /cannot reach member/,
  /Unhandled|uncaught/i,
];

/** The lines of `output` that are findings. */
export function forbiddenLines(output: string): string[] {
  return output.split('\n').filter((line) => forbiddenLogLines.some((pattern) => pattern.test(line)));
}
