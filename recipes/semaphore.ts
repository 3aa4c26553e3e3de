// Semaphore: `permits` holders at a time, on the Mutex's principles — one key
// `<name>/<lease hex>` per session, queued by create revision; a session holds a
// permit while fewer than `permits` keys were created before its own. Waiting
// re-counts after each deletion of an older key; after waiting, ownership is
// re-checked. All users of a name must agree on `permits` (it is not stored).
// Unlike the Mutex this wakes every waiter on each release (at most the
// queue's length, and only keys older than the waiter's count).
import { compare, EventType, op, type Comparison, type OpResult } from '../client/index.js';
import { SessionExpiredError } from './errors.js';
import { sessionKey } from './mutex.js';
import type { Session } from './session.js';
import { abortable, nextEvent, waitScope, type WaitOptions } from './wait.js';

/** A permit this session holds. */
export interface HeldPermit {
  readonly key: string;
  /** The key's create revision. */
  readonly fencingToken: bigint;
  /** A comparison that holds only while the permit is held. */
  guard(): Comparison;
  release(): Promise<void>;
}

/** A counting semaphore with `permits` permits. */
export class Semaphore {
  private readonly prefix: string;
  private readonly key: string;

  constructor(private readonly session: Session, readonly name: string, readonly permits: number) {
    if (!Number.isSafeInteger(permits) || permits < 1) throw new RangeError('permits must be a positive integer');
    this.prefix = `${name}/`;
    this.key = sessionKey(name, session);
  }

  /** Takes a permit, waiting as needed. Errors as `Mutex.lock`. */
  async acquire(options: WaitOptions = {}): Promise<HeldPermit> {
    this.session.assertOpen();
    const client = this.session.client;
    const scope = waitScope(options, this.session);
    try {
      const created = await client.txn()
        .if(compare.createRevision(this.key, '=', 0n))
        .then([op.put(this.key, '', { lease: this.session.lease })])
        .else([op.get(this.key)])
        .commit();
      const myRevision = created.succeeded ? created.revision : existingCreateRevision(created.responses[0]);
      try {
        for (;;) {
          // Not countOnly: etcd's count ignores the create-revision filter.
          const older = await abortable(client.getRange({ prefix: this.prefix }, { maxCreateRevision: myRevision - 1n, keysOnly: true }), scope.signal);
          if (older.kvs.length < this.permits) break;
          await nextEvent(client, { prefix: this.prefix }, older.revision + 1n, (event) => event.type === EventType.Delete, scope.signal);
        }
      } catch (error) {
        await client.delete(this.key).catch(() => undefined);
        throw error;
      }
      const mine = await client.get(this.key);
      if (mine === undefined || mine.createRevision !== myRevision) throw new SessionExpiredError('semaphore: session is expired');
      const key = this.key;
      return { key, fencingToken: myRevision, guard: () => compare.createRevision(key, '=', myRevision), release: async () => { await client.delete(key); } };
    } finally {
      scope.dispose();
    }
  }
}

/**
 * The create revision of our key, read by the else branch of the acquire txn. The create compare
 * failed, so the key existed when the same txn read it: a missing response or key is a bug.
 */
function existingCreateRevision(response: OpResult | undefined): bigint {
  if (response === undefined) throw new Error('semaphore: the acquire txn answered its else branch without a response');
  if (response.type !== 'get') return -1n;
  const existing = response.kvs[0];
  if (existing === undefined) throw new Error('semaphore: the acquire txn found our key but its read returned none');
  return existing.createRevision;
}
