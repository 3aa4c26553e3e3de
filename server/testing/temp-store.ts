// Test helper (not used by the server): an MvccStore on a real lmdb Backend
// in a fresh temporary directory, with a restart and a cleanup that tests
// call from afterEach.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { realClock, type Clock } from '../clock.js';
import { Backend } from '../mvcc/backend.js';
import { MvccStore, type WriteTxn } from '../mvcc/store.js';

export interface TempStore {
  readonly dir: string;
  readonly backend: Backend;
  readonly store: MvccStore;
  /** Runs `work` on one WriteTxn inside one backend transaction; returns the txn's end revision. */
  write(work: (txn: WriteTxn) => void): number;
  /** Compacts at `revision` as applying a Compact does, and waits until its records are removed. */
  compact(revision: number): Promise<void>;
  /** Closes the backend and opens the directory again with a new MvccStore (a restart). */
  restart(): Promise<void>;
  /** Closes the backend and removes the directory. */
  remove(): Promise<void>;
}

/** `clock` paces the store's batched reads and removals (the real one unless a test drives them itself). */
export function openTempStore(clock: Clock = realClock): TempStore {
  const dir = mkdtempSync(join(tmpdir(), 'cairn-store-test-'));
  let backend = new Backend(dir);
  let store = new MvccStore(backend, clock);
  let closed = false;
  return {
    dir,
    get backend() {
      return backend;
    },
    get store() {
      return store;
    },
    write(work) {
      return backend.transaction(() => {
        const txn = store.write();
        work(txn);
        return txn.end();
      });
    },
    compact(revision) {
      backend.transaction(() => store.compact(revision));
      return store.compacted();
    },
    async restart() {
      store.stop();
      await backend.close();
      backend = new Backend(dir);
      store = new MvccStore(backend, clock);
    },
    async remove() {
      store.stop();
      if (!closed) await backend.close();
      closed = true;
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
