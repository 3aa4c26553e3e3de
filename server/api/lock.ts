// v3lockpb.Lock on the wire: decodes a call, runs the mutex of
// server/coordination/lock.ts, and answers as etcd's lock service does.
import { status, type sendUnaryData, type ServerUnaryCall } from '@grpc/grpc-js';
import type { LockRequest, LockResponse, LockServer, UnlockRequest, UnlockResponse } from '../../proto/gen/v3lockpb/v3lock.js';
import { CancellationSource, type Cancellation, type Coordination } from '../coordination/coordination.js';
import { WaitCancelledError } from '../coordination/errors.js';
import { lock, unlock } from '../coordination/lock.js';
import { toServiceError } from '../grpc/errors.js';
import type { CallIdentity } from '../grpc/unary.js';
import type { RequestAuth } from '../../proto/gen/cairnpb/internal.js';

/** Who a call runs as (api/caller.ts); throws for a token this member does not know. */
export type CallerAuth = (call: CallIdentity) => Promise<RequestAuth>;

export function lockService(coordination: Coordination, callerAuth: CallerAuth): LockServer {
  return {
    lock: (call: ServerUnaryCall<LockRequest, LockResponse>, callback: sendUnaryData<LockResponse>) => {
      const cancellation = callCancellation(call);
      respond(callback, async () => lock(coordination.as(await callerAuth(call)), call.request.name, call.request.lease, cancellation));
    },
    unlock: (call: ServerUnaryCall<UnlockRequest, UnlockResponse>, callback: sendUnaryData<UnlockResponse>) => {
      respond(callback, async () => ({ header: await unlock(coordination.as(await callerAuth(call)), call.request.key) }));
    },
  };
}

/**
 * Answers a Lock or Election call. etcd runs these services as clients of
 * itself and returns the client's errors unwrapped, so every error reaches
 * the caller with gRPC code Unknown and the error's message (a cancelled
 * wait aside).
 */
export function respond<T>(callback: sendUnaryData<T>, work: () => Promise<T>): void {
  // An error thrown before the work's first await (an unknown token) is answered as a rejection.
  Promise.resolve().then(work).then(
    (response) => callback(null, response),
    (error: unknown) => {
      const wire = toServiceError(error);
      callback(error instanceof WaitCancelledError ? wire : { ...wire, code: status.UNKNOWN }, null);
    },
  );
}

/** A Cancellation tied to a gRPC call: set when the client cancels or goes away. */
export function callCancellation(call: { on(event: 'cancelled', listener: () => void): unknown }): Cancellation {
  const cancellation = new CancellationSource();
  call.on('cancelled', () => cancellation.cancel());
  return cancellation;
}
