// Mutex: etcd's concurrency.Mutex, key for key, so a cairn-SDK Mutex and
// `etcdctl lock` (or any Go client) exclude each other.
//
// Worked example, name "jobs", three sessions with leases 1a, 2b, 3c:
//   rev 10  put jobs/1a   (lease 1a)   → first created under "jobs/": 1a holds
//   rev 11  put jobs/2b   (lease 2b)   → waits for the newest key created ≤ 10: jobs/1a
//   rev 12  put jobs/3c   (lease 3c)   → waits for the newest key created ≤ 11: jobs/2b (not 1a)
//   rev 13  delete jobs/1a             → 2b re-reads: nothing created ≤ 10 → re-checks jobs/2b exists → holds
// A release wakes exactly one waiter (no thundering herd). The fencing token of a
// holder is its key's create revision (10, 11, 12 …): strictly increasing in
// the order holders acquire.
import { BehaviorSubject, distinctUntilChanged, type Observable } from 'rxjs';
import { compare, op, SortOrder, SortTarget, type Comparison, type KeyValue, type OpResult } from '../client/index.js';
import { SessionExpiredError } from './errors.js';
import type { Session } from './session.js';
import { waitDeletes, waitScope, type WaitOptions } from './wait.js';

/** A lock this process holds. */
export interface HeldLock {
  /** The lock key, `<name>/<lease hex>`. */
  readonly key: string;
  /** The key's create revision: strictly increasing across successive holders. Pass it to whatever the lock protects. */
  readonly fencingToken: bigint;
  /**
   * A txn comparison that holds only while this lock is held (etcd's
   * `IsOwner()`): put it in every txn that writes what the lock protects, so a
   * holder that lost the lock without knowing (a pause, a partition) cannot write.
   */
  guard(): Comparison;
  /** Releases the lock (deletes its key). */
  unlock(): Promise<void>;
}

/** `<name>/<lease hex>`, etcd's key of a session's lock/candidacy. */
export function sessionKey(name: string, session: Session): string {
  return `${name}/${session.leaseHex}`;
}

/** Result of one acquisition attempt: our key's create revision and the current owner. */
interface Attempt {
  myRevision: bigint;
  owner: KeyValue | undefined;
  revision: bigint;
}

/**
 * A distributed mutex on `name` for one session. Re-entrant per session, as
 * etcd's: two `lock()` calls through the same session share one key.
 * A lock alone does not guarantee mutual exclusion (a holder may be paused past
 * its lease's TTL): protect resources with `guard()` or `fencingToken`.
 */
export class Mutex {
  private readonly prefix: string;
  private readonly key: string;
  private myRevision = -1n;
  private readonly held = new BehaviorSubject<boolean>(false);

  /** No work is started here; `lock()` / `tryLock()` do it. */
  constructor(private readonly session: Session, readonly name: string) {
    this.prefix = `${name}/`;
    this.key = sessionKey(name, session);
    session.lost$.subscribe({ next: () => this.held.next(false) });
  }

  /** Whether this mutex believes it holds the lock (false once the session is lost or after unlock). */
  get isHeld$(): Observable<boolean> {
    return this.held.pipe(distinctUntilChanged());
  }

  /** Step 1 of etcd's algorithm: create our key unless it exists, and read the first-created key, in one txn. */
  private async attempt(): Promise<Attempt> {
    const client = this.session.client;
    const owner = op.get({ prefix: this.prefix }, { sort: { target: SortTarget.CreateRevision, order: SortOrder.Ascend }, limit: 1 });
    const result = await client.txn()
      .if(compare.createRevision(this.key, '=', 0n))
      .then([op.put(this.key, '', { lease: this.session.lease }), owner])
      .else([op.get(this.key), owner])
      .commit();
    const ranges = result.responses.filter((item): item is Extract<OpResult, { type: 'get' }> => item.type === 'get');
    // then: [put, owner]; else: [get of our key, owner]. The owner range is the last either way.
    const ownerRange = ranges[ranges.length - 1];
    if (ownerRange === undefined) throw new Error('mutex: the lock txn returned no range for the owner');
    let myRevision = result.revision;
    if (!result.succeeded) {
      // The create compare failed, so our key existed when the same txn read it.
      const mine = ranges[0]?.kvs[0];
      if (mine === undefined) throw new Error('mutex: the lock txn found our key but its read returned none');
      myRevision = mine.createRevision;
    }
    return { myRevision, owner: ownerRange.kvs[0], revision: result.revision };
  }

  private acquired(myRevision: bigint): HeldLock {
    this.myRevision = myRevision;
    this.held.next(true);
    const key = this.key;
    return { key, fencingToken: myRevision, guard: () => compare.createRevision(key, '=', myRevision), unlock: () => this.unlock() };
  }

  /**
   * Acquires the lock, waiting as long as needed (bounded by `timeoutMs` or
   * `signal`). Errors: `LockTimeoutError`, `LockAbortedError` (our key is deleted
   * again, so we leave the queue), `SessionExpiredError` when the session is lost
   * while waiting or our key vanished meanwhile (etcd 3.5's re-check, the fix
   * for the Jepsen 3.4.3 finding), and the SDK's errors.
   */
  async lock(options: WaitOptions = {}): Promise<HeldLock> {
    this.session.assertOpen();
    const scope = waitScope(options, this.session);
    try {
      const attempt = await this.attempt();
      if (attempt.owner === undefined || attempt.owner.createRevision === attempt.myRevision) return this.acquired(attempt.myRevision);
      try {
        await waitDeletes(this.session.client, this.prefix, attempt.myRevision - 1n, scope.signal);
      } catch (error) {
        await this.session.client.delete(this.key).catch(() => undefined);
        throw error;
      }
      // Post-wait ownership re-check: our key may have gone with our lease while we waited.
      const mine = await this.session.client.get(this.key);
      if (mine === undefined || mine.createRevision !== attempt.myRevision) throw new SessionExpiredError('mutex: session is expired');
      return this.acquired(attempt.myRevision);
    } finally {
      scope.dispose();
    }
  }

  /** Acquires the lock if nobody holds it; otherwise leaves no trace and resolves `undefined` (etcd's ErrLocked). */
  async tryLock(): Promise<HeldLock | undefined> {
    this.session.assertOpen();
    const attempt = await this.attempt();
    if (attempt.owner === undefined || attempt.owner.createRevision === attempt.myRevision) return this.acquired(attempt.myRevision);
    await this.session.client.delete(this.key);
    return undefined;
  }

  /** Releases the lock: deletes our key. Unlocking a lock not held is a no-op on the server. */
  async unlock(): Promise<void> {
    await this.session.client.delete(this.key);
    this.myRevision = -1n;
    this.held.next(false);
  }

  /** The held lock's guard (etcd's IsOwner); throws when not held. */
  guard(): Comparison {
    if (this.myRevision < 0n) throw new SessionExpiredError('mutex: not held');
    return compare.createRevision(this.key, '=', this.myRevision);
  }
}
