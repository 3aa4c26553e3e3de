// Forks load workers (the compiled load.js) and turns their IPC messages into
// promises. A worker that exits or fails before answering rejects them, so the
// parent never waits on a dead child.
import { fork, type ChildProcess } from 'node:child_process';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { onCleanup } from './cleanup.js';
import { encodeConfig, type LoadConfig, type LoadResult, type ParentMessage, type WorkerMessage } from './protocol.js';

const loadScript = join(dirname(fileURLToPath(import.meta.url)), 'load.js');

export interface LoadWorker {
  readonly index: number;
  /** Resolves when the worker's connections are open. */
  readonly ready: Promise<void>;
  /** Resolves with the worker's measurements. */
  readonly result: Promise<LoadResult>;
  go(): void;
  /** SIGKILL if still running; safe to call twice. */
  kill(): Promise<void>;
}

interface Deferred<T> {
  promise: Promise<T>;
  resolve(value: T): void;
  reject(error: Error): void;
}

function deferred<T>(): Deferred<T> {
  let resolve!: (value: T) => void;
  let reject!: (error: Error) => void;
  const promise = new Promise<T>((resolveNow, rejectNow) => {
    resolve = resolveNow;
    reject = rejectNow;
  });
  // Whoever awaits only one of a worker's promises must not see the other as an unhandled rejection.
  promise.catch(() => undefined);
  return { promise, resolve, reject };
}

export function forkWorker(config: LoadConfig): LoadWorker {
  const child: ChildProcess = fork(loadScript, [encodeConfig(config)], {
    serialization: 'advanced',
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
    execArgv: [],
  });
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const kill = onCleanup(async () => {
    if (child.exitCode !== null || child.signalCode !== null) return;
    child.kill('SIGKILL');
    await exited;
  });

  const ready = deferred<void>();
  const result = deferred<LoadResult>();
  const rejectBoth = (error: Error) => {
    ready.reject(error);
    result.reject(error);
  };

  child.on('message', (message: WorkerMessage) => {
    if (message.type === 'ready') ready.resolve();
    else if (message.type === 'result') result.resolve(message.result);
    else if (message.type === 'failed') rejectBoth(new Error(`load worker ${config.workerIndex} failed: ${message.message}`));
  });
  // 'disconnect' comes after the last message on the channel ('exit' may overtake messages).
  // Settled promises ignore it; it only matters when the worker died before answering.
  child.once('disconnect', () => {
    rejectBoth(new Error(`load worker ${config.workerIndex} (pid ${child.pid}) went away before reporting`));
  });

  return {
    index: config.workerIndex,
    ready: ready.promise,
    result: result.promise,
    go: () => {
      const message: ParentMessage = { type: 'go' };
      if (child.connected) child.send(message);
    },
    kill,
  };
}
