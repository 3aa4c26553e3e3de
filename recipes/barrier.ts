// Barrier: etcd's recipe.Barrier. One key: while it exists, `wait()` blocks;
// `release()` deletes it and wakes every waiter.
import { compare, op, type Client } from '../client/index.js';
import { waitDelete, waitScope, type WaitOptions } from './wait.js';

/** A barrier on one key. */
export class Barrier {
  constructor(private readonly client: Client, readonly key: string) {}

  /** Raises the barrier (creates the key if absent). Resolves whether it was raised by this call. */
  async hold(): Promise<boolean> {
    const result = await this.client.txn().if(compare.createRevision(this.key, '=', 0n)).then([op.put(this.key, '')]).commit();
    return result.succeeded;
  }

  /** Lowers the barrier: every waiter proceeds. */
  async release(): Promise<void> {
    await this.client.delete(this.key);
  }

  /** Resolves once the barrier is not raised. Errors: `LockTimeoutError`, `LockAbortedError`. */
  async wait(options: WaitOptions = {}): Promise<void> {
    const scope = waitScope(options);
    try {
      const result = await this.client.getRange(this.key);
      if (result.kvs.length === 0) return;
      await waitDelete(this.client, this.key, result.revision, scope.signal);
    } finally {
      scope.dispose();
    }
  }
}
