// Unique keys for queue entries and barrier/RW-lock participants: etcd's
// newUniqueKV puts `<prefix>/<nanoseconds>` only if absent; we add a
// per-process random tag and a counter so that two processes never collide.
import { randomBytes } from 'node:crypto';
import { compare, op, type Client, type Key } from '../client/index.js';

const processTag = randomBytes(4).toString('hex');
let counter = 0;

/** A created key and the revision that created it. */
export interface CreatedKey {
  key: string;
  createRevision: bigint;
}

/** Puts `value` under a new key `<prefix><time>-<tag>-<counter>` that did not exist (with `lease` if given). */
export async function putUnique(client: Client, prefix: string, value: Key, lease?: bigint): Promise<CreatedKey> {
  for (;;) {
    const key = `${prefix}${process.hrtime.bigint().toString().padStart(20, '0')}-${processTag}-${counter++}`;
    const result = await client.txn()
      .if(compare.createRevision(key, '=', 0n))
      .then([op.put(key, value, lease === undefined ? {} : { lease })])
      .commit();
    if (result.succeeded) return { key, createRevision: result.revision };
  }
}
