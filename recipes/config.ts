// observeConfig: a typed, validated view of every key under a prefix.
//
// Read the prefix at one revision R, decode, emit; watch the prefix from R+1
// and apply each revision's events as one unit (the SDK delivers one batch per
// revision, so a txn that changes several keys is applied whole — never torn).
// A decode that throws keeps the last good value and emits an `invalid` update
// carrying the error. The SDK's watch resumes across reconnects from the last
// delivered revision; if that revision was compacted, the whole prefix is
// re-listed and the view rebuilt.
import { Observable, type Subscription } from 'rxjs';
import { CompactedError, EventType, type Client } from '../client/index.js';

/** The keys under the prefix (prefix removed) and their raw values. */
export type ConfigEntries = ReadonlyMap<string, Buffer>;

/** One update of an observed configuration. */
export type ConfigUpdate<T> =
  | { status: 'valid'; revision: bigint; value: T }
  | { status: 'invalid'; revision: bigint; error: Error; lastGood: T | undefined; lastGoodRevision: bigint | undefined };

/** Options of `observeConfig`. */
export interface ObserveConfigOptions {
  /** Re-listings after compaction allowed in a row before erroring; default 5. */
  relistsMax?: number;
}

/**
 * A cold Observable of the configuration under `prefix`: `decode` validates
 * the whole set of entries and returns the typed value (or throws). Emits at
 * once for the current state, then after every revision that changes a key
 * under the prefix. Unsubscribing cancels the watch.
 * Errors: the SDK's errors except `CompactedError`, which triggers a re-list.
 */
export function observeConfig<T>(client: Client, prefix: string, decode: (entries: ConfigEntries) => T, options: ObserveConfigOptions = {}): Observable<ConfigUpdate<T>> {
  return new Observable<ConfigUpdate<T>>((subscriber) => {
    const relistsMax = options.relistsMax ?? 5;
    let relists = 0;
    let watch: Subscription | undefined;
    let stopped = false;
    let lastGood: { value: T; revision: bigint } | undefined;
    const entries = new Map<string, Buffer>();

    const publish = (revision: bigint) => {
      try {
        const value = decode(entries);
        lastGood = { value, revision };
        subscriber.next({ status: 'valid', revision, value });
      } catch (error) {
        subscriber.next({ status: 'invalid', revision, error: error as Error, lastGood: lastGood?.value, lastGoodRevision: lastGood?.revision });
      }
    };
    const list = async () => {
      const result = await client.getRange({ prefix });
      if (stopped) return;
      entries.clear();
      for (const kv of result.kvs) entries.set(kv.key.slice(prefix.length), kv.value);
      publish(result.revision);
      watch = client.watch$({ prefix }, { startRevision: result.revision + 1n }).subscribe({
        next: (batch) => {
          relists = 0;
          for (const event of batch.events) {
            const name = event.kv.key.slice(prefix.length);
            if (event.type === EventType.Put) entries.set(name, event.kv.value);
            else entries.delete(name);
          }
          if (batch.events.length > 0) publish(batch.revision);
        },
        error: (error: unknown) => {
          if (error instanceof CompactedError && relists++ < relistsMax) return start();
          subscriber.error(error);
        },
        complete: () => subscriber.complete(),
      });
    };
    const start = () => {
      watch?.unsubscribe();
      list().catch((error: unknown) => subscriber.error(error));
    };
    start();
    return () => {
      stopped = true;
      watch?.unsubscribe();
    };
  });
}
