// Queue and PriorityQueue: etcd's recipe.Queue / recipe.PriorityQueue.
//
// Queue: each item is a unique key under `<name>/`; dequeue takes the oldest
// by create revision and claims it by deleting it (only the consumer whose
// delete removed it gets it). Empty: wait for the next put under the prefix.
//
// PriorityQueue: items under `<name>/<priority, 5 digits>/<unique>`; lower
// numbers first (etcd's order), FIFO within a priority.
import { EventType, SortOrder, SortTarget, type Client, type KeyValue } from '../client/index.js';
import { putUnique } from './unique-key.js';
import { abortable, nextEvent, waitScope, type WaitOptions } from './wait.js';

/** Takes the first item found by `find`, waiting for a put under `prefix` while empty. */
async function claim(client: Client, prefix: string, find: () => Promise<{ kv: KeyValue | undefined; revision: bigint }>, options: WaitOptions): Promise<string> {
  const scope = waitScope(options);
  try {
    for (;;) {
      const { kv, revision } = await abortable(find(), scope.signal);
      if (kv === undefined) {
        await nextEvent(client, { prefix }, revision + 1n, (event) => event.type === EventType.Put, scope.signal);
        continue;
      }
      const deleted = await client.delete(kv.key);
      if (deleted.deleted === 1) return kv.value.toString('utf8');
    }
  } finally {
    scope.dispose();
  }
}

/** A FIFO queue of strings. */
export class Queue {
  private readonly prefix: string;
  constructor(private readonly client: Client, readonly name: string) {
    this.prefix = `${name}/`;
  }

  /** Appends `value`. */
  async enqueue(value: string): Promise<void> {
    await putUnique(this.client, this.prefix, value);
  }

  /** Removes and returns the oldest item, waiting while empty. Errors: `LockTimeoutError`, `LockAbortedError`. */
  dequeue(options: WaitOptions = {}): Promise<string> {
    return claim(this.client, this.prefix, async () => {
      const result = await this.client.getRange({ prefix: this.prefix }, { sort: { target: SortTarget.CreateRevision, order: SortOrder.Ascend }, limit: 1 });
      return { kv: result.kvs[0], revision: result.revision };
    }, options);
  }
}

/** Highest priority number a PriorityQueue takes (etcd: uint16). */
export const priorityMax = 65_535;

/** A queue of strings served by priority (lower number first), FIFO within a priority. */
export class PriorityQueue {
  private readonly prefix: string;
  constructor(private readonly client: Client, readonly name: string) {
    this.prefix = `${name}/`;
  }

  /** Adds `value` with `priority` (0 … 65535; 0 is served first). */
  async enqueue(value: string, priority: number): Promise<void> {
    if (!Number.isSafeInteger(priority) || priority < 0 || priority > priorityMax) throw new RangeError(`priority must be an integer in 0…${priorityMax}`);
    await putUnique(this.client, `${this.prefix}${priority.toString().padStart(5, '0')}/`, value);
  }

  /** Removes and returns the first item of the lowest priority number, waiting while empty. */
  dequeue(options: WaitOptions = {}): Promise<string> {
    return claim(this.client, this.prefix, async () => {
      const first = await this.client.getRange({ prefix: this.prefix }, { limit: 1, keysOnly: true });
      const head = first.kvs[0];
      if (head === undefined) return { kv: undefined, revision: first.revision };
      const bucket = head.key.slice(0, this.prefix.length + 6);
      const result = await this.client.getRange({ prefix: bucket }, { sort: { target: SortTarget.CreateRevision, order: SortOrder.Ascend }, limit: 1 });
      return { kv: result.kvs[0], revision: result.revision };
    }, options);
  }
}
