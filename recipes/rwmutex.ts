// RWMutex: etcd's recipe.RWMutex. Readers put `<name>/read/<unique>`, writers
// `<name>/write/<unique>`, on the session's lease. A reader waits until no
// writer key older than its own remains; a writer until no key of either kind
// older than its own remains — each round watching only the newest such key.
import { compare, type Comparison } from '../client/index.js';
import { SessionExpiredError } from './errors.js';
import type { Session } from './session.js';
import { putUnique, type CreatedKey } from './unique-key.js';
import { waitDeletes, waitScope, type WaitOptions } from './wait.js';

/** A read or write lock held by this session. */
export interface HeldRWLock {
  readonly key: string;
  /** The key's create revision. */
  readonly fencingToken: bigint;
  /** A comparison that holds only while this lock is held. */
  guard(): Comparison;
  unlock(): Promise<void>;
}

/** A readers-writer lock: many readers or one writer. */
export class RWMutex {
  constructor(private readonly session: Session, readonly name: string) {}

  /** Takes a read lock. Errors as `Mutex.lock`. */
  readLock(options: WaitOptions = {}): Promise<HeldRWLock> {
    return this.take(`${this.name}/read/`, `${this.name}/write/`, options);
  }

  /** Takes the write lock. Errors as `Mutex.lock`. */
  writeLock(options: WaitOptions = {}): Promise<HeldRWLock> {
    return this.take(`${this.name}/write/`, `${this.name}/`, options);
  }

  private async take(ownPrefix: string, blockingPrefix: string, options: WaitOptions): Promise<HeldRWLock> {
    this.session.assertOpen();
    const client = this.session.client;
    const scope = waitScope(options, this.session);
    let mine: CreatedKey | undefined;
    try {
      mine = await putUnique(client, ownPrefix, '', this.session.lease);
      await waitDeletes(client, blockingPrefix, mine.createRevision - 1n, scope.signal);
      const still = await client.get(mine.key);
      if (still === undefined || still.createRevision !== mine.createRevision) throw new SessionExpiredError('rwmutex: session is expired');
      const { key, createRevision } = mine;
      return { key, fencingToken: createRevision, guard: () => compare.createRevision(key, '=', createRevision), unlock: async () => { await client.delete(key); } };
    } catch (error) {
      if (mine !== undefined) await client.delete(mine.key).catch(() => undefined);
      throw error;
    } finally {
      scope.dispose();
    }
  }
}
