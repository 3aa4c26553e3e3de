// Shared waiting primitives of the recipes: "wait until this key is deleted",
// "wait for the next event under a prefix", and one abort signal combining a
// caller's signal, a timeout and the loss of a session.
import type { Observable } from 'rxjs';
import { EventType, SortOrder, SortTarget, type Client, type KeyValue, type WatchEvent } from '../client/index.js';
import { LockAbortedError, LockTimeoutError, SessionExpiredError } from './errors.js';

/** How a wait may end early. */
export interface WaitOptions {
  /** Aborts the wait; it rejects with `LockAbortedError`. */
  signal?: AbortSignal;
  /** Gives up after this long; rejects with `LockTimeoutError`. */
  timeoutMs?: number;
}

/** Something whose loss aborts a wait (a Session). */
export interface Losable {
  readonly lost$: Observable<Error>;
}

/**
 * One AbortSignal that fires on the caller's signal, on the timeout, or when
 * `losable` is lost; `reason` is the typed error to reject with. `dispose()`
 * removes the timer and subscriptions (always call it).
 */
export function waitScope(options: WaitOptions, losable?: Losable): { signal: AbortSignal; dispose: () => void } {
  const controller = new AbortController();
  const onAbort = () => controller.abort(new LockAbortedError('the wait was aborted', { cause: options.signal?.reason }));
  if (options.signal?.aborted === true) onAbort();
  options.signal?.addEventListener('abort', onAbort, { once: true });
  const timer = options.timeoutMs === undefined ? undefined
    : setTimeout(() => controller.abort(new LockTimeoutError(`gave up after ${options.timeoutMs} ms`)), options.timeoutMs);
  const lost = losable?.lost$.subscribe((error) => controller.abort(new SessionExpiredError('session is expired', { cause: error })));
  return {
    signal: controller.signal,
    dispose: () => {
      if (timer !== undefined) clearTimeout(timer);
      options.signal?.removeEventListener('abort', onAbort);
      lost?.unsubscribe();
    },
  };
}

/** Rejects with the signal's reason when it fires; otherwise settles as `promise`. */
export function abortable<T>(promise: Promise<T>, signal: AbortSignal): Promise<T> {
  if (signal.aborted) return Promise.reject(signal.reason as Error);
  return new Promise<T>((resolve, reject) => {
    const onAbort = () => reject(signal.reason as Error);
    signal.addEventListener('abort', onAbort, { once: true });
    promise.then(
      (value) => { signal.removeEventListener('abort', onAbort); resolve(value); },
      (error: unknown) => { signal.removeEventListener('abort', onAbort); reject(error); },
    );
  });
}

/**
 * The first watch event on `selector` from `startRevision` (inclusive) that
 * satisfies `accept`. Unsubscribes the watch when it resolves or is aborted.
 */
export function nextEvent(
  client: Client,
  selector: Parameters<Client['watch$']>[0],
  startRevision: bigint,
  accept: (event: WatchEvent) => boolean,
  signal: AbortSignal,
): Promise<WatchEvent> {
  return new Promise<WatchEvent>((resolve, reject) => {
    if (signal.aborted) return reject(signal.reason as Error);
    const onAbort = () => {
      subscription.unsubscribe();
      reject(signal.reason as Error);
    };
    const subscription = client.watch$(selector, { startRevision }).subscribe({
      next: (batch) => {
        const event = batch.events.find(accept);
        if (event === undefined) return;
        signal.removeEventListener('abort', onAbort);
        subscription.unsubscribe();
        resolve(event);
      },
      error: (error: unknown) => { signal.removeEventListener('abort', onAbort); reject(error); },
      complete: () => { signal.removeEventListener('abort', onAbort); reject(new LockAbortedError('the watch completed (client closed)')); },
    });
    signal.addEventListener('abort', onAbort, { once: true });
  });
}

/** Waits until `key` is deleted at a revision after `revision` (the key existed at `revision`). */
export async function waitDelete(client: Client, key: string, revision: bigint, signal: AbortSignal): Promise<void> {
  await nextEvent(client, key, revision + 1n, (event) => event.type === EventType.Delete, signal);
}

/**
 * etcd's `waitDeletes`: waits until no key under `prefix` has a create revision
 * ≤ `maxCreateRevision`, watching only the newest such key each round (the
 * immediate predecessor), so a release wakes one waiter, not all of them.
 */
export async function waitDeletes(client: Client, prefix: string, maxCreateRevision: bigint, signal: AbortSignal): Promise<void> {
  for (;;) {
    const result = await abortable(client.getRange({ prefix }, {
      sort: { target: SortTarget.CreateRevision, order: SortOrder.Descend },
      limit: 1,
      maxCreateRevision,
      keysOnly: true,
    }), signal);
    const predecessor: KeyValue | undefined = result.kvs[0];
    if (predecessor === undefined) return;
    await waitDelete(client, predecessor.key, result.revision, signal);
  }
}

/** The first-created key under `prefix` (etcd's WithFirstCreate), with the read's revision. */
export async function firstCreated(client: Client, prefix: string): Promise<{ kv: KeyValue | undefined; revision: bigint }> {
  const result = await client.getRange({ prefix }, { sort: { target: SortTarget.CreateRevision, order: SortOrder.Ascend }, limit: 1 });
  return { kv: result.kvs[0], revision: result.revision };
}
