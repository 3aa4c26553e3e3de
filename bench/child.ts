// The worker side of ipc.ts: what every forked bench worker does the same way.
// A worker exits by itself when its parent goes away or when it runs far past
// its planned end, so no worker outlives the bench that started it.
import type { ParentMessage, WorkerMessage } from './ipc.js';

/** The worker exits on its own this long after its planned end, whatever happens. */
const exitGraceMs = 15_000;

/** Resolves once the message is handed to the IPC channel, so that exiting next cannot drop it. */
export function sendToParent<Ready, Result, Up>(message: WorkerMessage<Ready, Result, Up>): Promise<void> {
  return new Promise((resolve) => {
    if (process.send === undefined) throw new Error('bench worker must be forked with an IPC channel');
    process.send(message, undefined, {}, () => resolve());
  });
}

/** Calls `listener` with every `data` message from the parent. */
export function onParentData<Down>(listener: (data: Down) => void): void {
  process.on('message', (message: ParentMessage<Down>) => {
    if (message.type === 'data') listener(message.data);
  });
}

/** Resolves when the parent says `go`. Register it before sending `ready`. */
export function parentGo(): Promise<void> {
  return new Promise((resolve) => {
    process.on('message', (message: ParentMessage<unknown>) => {
      if (message.type === 'go') resolve();
    });
  });
}

/**
 * Runs a worker's main function: exits 0 when it returns, sends `failed` and
 * exits 1 when it throws, exits 1 at once if the parent goes away, and exits 2
 * when it is still running `exitGraceMs` after `plannedMs`.
 */
export function runWorker(label: string, plannedMs: number, main: () => Promise<void>): void {
  setTimeout(() => {
    console.error(`${label}: still running ${exitGraceMs} ms after its planned end; exiting`);
    process.exit(2);
  }, plannedMs + exitGraceMs).unref();
  // Without a parent nobody reads the result: stop at once.
  process.on('disconnect', () => process.exit(1));
  // Exit explicitly: the IPC channel would otherwise keep the process alive.
  main().then(
    () => process.exit(0),
    async (error: unknown) => {
      await sendToParent({ type: 'failed', message: (error as Error).stack ?? String(error) });
      process.exit(1);
    },
  );
}
