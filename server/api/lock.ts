// v3lockpb.Lock: a distributed mutex as etcd's server-side lock service
// runs it — a queue of <name>/<lease hex> keys ordered by create revision;
// Lock blocks until every earlier key is gone. After the wait it checks the
// key still exists (etcd 3.5's fix: a lease that expired while queued must
// not be told it holds the lock).
import { status, type sendUnaryData, type ServerUnaryCall } from '@grpc/grpc-js';
import type { LockRequest, LockResponse, LockServer, UnlockRequest, UnlockResponse } from '../../proto/gen/v3lockpb/v3lock.js';
import { callCancellation, Coordination } from './concurrency.js';
import { SessionExpiredError, WaitCancelledError } from './coordination-errors.js';
import { toServiceError } from '../grpc/errors.js';

export function lockService(coordination: Coordination): LockServer {
  return {
    lock: (call: ServerUnaryCall<LockRequest, LockResponse>, callback: sendUnaryData<LockResponse>) => {
      const cancellation = callCancellation(call);
      respond(callback, async () => {
        const lease = call.request.lease !== 0n ? call.request.lease : await coordination.grantSessionLease();
        const prefix = `${call.request.name.toString('latin1')}/`;
        const key = Coordination.queueKey(prefix, lease);
        const queued = await coordination.enqueue(key, Buffer.alloc(0), lease);
        const owner = coordination.first(prefix).kv;
        let header = queued.header;
        if (owner !== undefined && Number(owner.createRevision) !== queued.createRevision) {
          try {
            header = await coordination.waitPredecessors(prefix, queued.createRevision, cancellation);
          } catch (error) {
            await coordination.delete(key).catch(() => undefined);
            throw error;
          }
          if (coordination.get(key) === undefined) throw new SessionExpiredError();
        }
        return { header, key: Buffer.from(key, 'latin1') };
      });
    },
    unlock: (call: ServerUnaryCall<UnlockRequest, UnlockResponse>, callback: sendUnaryData<UnlockResponse>) => {
      respond(callback, async () => ({ header: await coordination.delete(call.request.key.toString('latin1')) }));
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
  work().then(
    (response) => callback(null, response),
    (error: unknown) => {
      const wire = toServiceError(error);
      callback(error instanceof WaitCancelledError ? wire : { ...wire, code: status.UNKNOWN }, null);
    },
  );
}
