// A distributed mutex as etcd's server-side lock service runs it: a queue of
// <name>/<lease hex> keys ordered by create revision; Lock blocks until every
// earlier key is gone. After the wait it checks the key still exists (etcd
// 3.5's fix: a lease that expired while queued must not be told it holds the
// lock).
import type { ResponseHeader } from '../../proto/gen/etcdserverpb/rpc.js';
import { Coordination, type Cancellation } from './coordination.js';
import { SessionExpiredError } from './errors.js';

/**
 * Acquires the lock `name` for `lease` (0: a fresh session lease of 60 s, as
 * etcd's session), waiting for every holder queued before it. Resolves with
 * the key that holds the lock (<name>/<lease hex>; deleting it unlocks) and
 * the header of the write that queued it, or of the last wait. A cancelled
 * wait takes the key out of the queue and throws WaitCancelledError; a lease
 * that expired while queued throws SessionExpiredError.
 */
export async function lock(coordination: Coordination, name: Buffer, lease: bigint, cancellation: Cancellation): Promise<{ header: ResponseHeader; key: Buffer }> {
  const holder = lease !== 0n ? lease : await coordination.grantSessionLease();
  const prefix = `${name.toString('latin1')}/`;
  const key = Coordination.queueKey(prefix, holder);
  const queued = await coordination.enqueue(key, Buffer.alloc(0), holder);
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
}

/** Releases the lock held by `key` (what lock resolved with): deletes it. */
export function unlock(coordination: Coordination, key: Buffer): Promise<ResponseHeader> {
  return coordination.delete(key.toString('latin1'));
}
