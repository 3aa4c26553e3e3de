// Forks bench workers (compiled scripts under dist/bench) and turns their IPC
// messages into promises. A worker that exits or fails before answering
// rejects them, so the parent never waits on a dead child.
import { fork, type ChildProcess } from 'node:child_process';
import { onCleanup } from './cleanup.js';
import { encodeArgument, type ParentMessage, type WorkerMessage } from './ipc.js';

export interface Worker<Ready, Result, Up = never, Down = never> {
  /** Names the worker in errors, e.g. "load worker 1". */
  readonly label: string;
  /** Resolves when the worker is prepared (connected, watchers created, leases granted). */
  readonly ready: Promise<Ready>;
  /** Resolves with the worker's measurements. */
  readonly result: Promise<Result>;
  go(): void;
  /** Sends a `data` message; dropped if the worker is gone (its promises say why). */
  send(data: Down): void;
  /** Calls `listener` with every `data` message from the worker, in the order sent. */
  onData(listener: (data: Up) => void): void;
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

/** Forks `scriptPath` (a compiled .js file) with `config` as its one argument. */
export function forkWorker<Ready, Result, Up = never, Down = never>(
  scriptPath: string,
  config: unknown,
  label: string,
): Worker<Ready, Result, Up, Down> {
  const child: ChildProcess = fork(scriptPath, [encodeArgument(config)], {
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

  const ready = deferred<Ready>();
  const result = deferred<Result>();
  const dataListeners: Array<(data: Up) => void> = [];
  const rejectBoth = (error: Error) => {
    ready.reject(error);
    result.reject(error);
  };

  child.on('message', (message: WorkerMessage<Ready, Result, Up>) => {
    if (message.type === 'ready') ready.resolve(message.ready);
    else if (message.type === 'result') result.resolve(message.result);
    else if (message.type === 'data') for (const listener of dataListeners) listener(message.data);
    else if (message.type === 'failed') rejectBoth(new Error(`${label} failed: ${message.message}`));
  });
  // 'disconnect' comes after the last message on the channel ('exit' may overtake messages).
  // Settled promises ignore it; it only matters when the worker died before answering.
  child.once('disconnect', () => {
    rejectBoth(new Error(`${label} (pid ${child.pid}) went away before reporting`));
  });

  const send = (message: ParentMessage<Down>) => {
    if (child.connected) child.send(message);
  };
  return {
    label,
    ready: ready.promise,
    result: result.promise,
    go: () => send({ type: 'go' }),
    send: (data) => send({ type: 'data', data }),
    onData: (listener) => {
      dataListeners.push(listener);
    },
    kill,
  };
}
