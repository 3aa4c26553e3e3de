// DoubleBarrier: etcd's recipe.DoubleBarrier. `count` participants enter
// together and leave together.
//
// Keys: `<name>/waiters/<unique>` per participant (on the session's lease, so a
// dead participant leaves), and `<name>/ready`, put by the participant that
// completes the count. Leaving: the participant with the lowest waiter key
// leaves last — it waits for the highest to go; every other deletes its key and
// waits for the lowest to go; the last one deletes `ready` with its own key.
import { EventType, op, SortOrder, SortTarget } from '../client/index.js';
import { TooManyParticipantsError } from './errors.js';
import type { Session } from './session.js';
import { putUnique } from './unique-key.js';
import { abortable, nextEvent, waitDelete, waitScope, type WaitOptions } from './wait.js';

/** A barrier that `count` participants enter and leave together. */
export class DoubleBarrier {
  private readonly waiters: string;
  private readonly ready: string;
  private myKey: string | undefined;

  constructor(private readonly session: Session, readonly name: string, readonly count: number) {
    if (!Number.isSafeInteger(count) || count < 1) throw new RangeError('double barrier count must be a positive integer');
    this.waiters = `${name}/waiters/`;
    this.ready = `${name}/ready`;
  }

  /** Joins and resolves when `count` participants have joined. More than `count` → `TooManyParticipantsError`. */
  async enter(options: WaitOptions = {}): Promise<void> {
    this.session.assertOpen();
    const client = this.session.client;
    const scope = waitScope(options, this.session);
    try {
      const mine = await putUnique(client, this.waiters, '', this.session.lease);
      this.myKey = mine.key;
      const all = await client.getRange({ prefix: this.waiters }, { countOnly: true });
      if (all.count > this.count) {
        await client.delete(mine.key);
        this.myKey = undefined;
        throw new TooManyParticipantsError('barrier: too many clients');
      }
      if (all.count === this.count) {
        await client.put(this.ready, '');
        return;
      }
      await nextEvent(client, this.ready, mine.createRevision + 1n, (event) => event.type === EventType.Put, scope.signal);
    } finally {
      scope.dispose();
    }
  }

  /** Leaves and resolves when every participant has left. */
  async leave(options: WaitOptions = {}): Promise<void> {
    const client = this.session.client;
    const scope = waitScope(options, this.session);
    try {
      for (;;) {
        const result = await abortable(client.getRange({ prefix: this.waiters }, { sort: { target: SortTarget.ModRevision, order: SortOrder.Ascend } }), scope.signal);
        const lowest = result.kvs[0];
        const highest = result.kvs[result.kvs.length - 1];
        if (lowest === undefined || highest === undefined || this.myKey === undefined) return;
        const isLowest = lowest.key === this.myKey;
        if (result.kvs.length === 1 && isLowest) {
          await client.txn().then([op.delete(this.ready), op.delete(this.myKey)]).commit();
          this.myKey = undefined;
          return;
        }
        if (isLowest) {
          await waitDelete(client, highest.key, result.revision, scope.signal);
          continue;
        }
        await client.delete(this.myKey);
        await waitDelete(client, lowest.key, result.revision, scope.signal);
        this.myKey = undefined;
        return;
      }
    } finally {
      scope.dispose();
    }
  }
}
