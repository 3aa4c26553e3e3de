// Forks crash-writer processes and turns their IPC messages into promises; a
// writer that dies before answering rejects them instead of leaving the test waiting.
import { fork, type ChildProcess } from 'node:child_process';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { FromWriter, ToWriter, WriterConfig, WriterReport } from './crash-protocol.js';

const writerScript = join(dirname(fileURLToPath(import.meta.url)), 'crash-writer.js');

export interface Writer {
  readonly ready: Promise<void>;
  readonly report: Promise<WriterReport>;
  send(message: ToWriter): void;
  /** SIGKILL if still running. */
  kill(): Promise<void>;
}

function deferred<T>() {
  let resolve!: (value: T) => void;
  let reject!: (error: Error) => void;
  const promise = new Promise<T>((resolveNow, rejectNow) => {
    resolve = resolveNow;
    reject = rejectNow;
  });
  promise.catch(() => undefined); // Awaited later, or not at all when the test already failed.
  return { promise, resolve, reject };
}

export function forkWriter(name: string, config: WriterConfig): Writer {
  const child: ChildProcess = fork(writerScript, [JSON.stringify(config)], {
    serialization: 'advanced', // Carries bigint revisions as they are.
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
    execArgv: [],
  });
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const ready = deferred<void>();
  const report = deferred<WriterReport>();
  child.on('message', (message: FromWriter) => {
    if (message.type === 'ready') ready.resolve();
    else if (message.type === 'report') report.resolve(message.report);
    else {
      ready.reject(new Error(`${name} failed: ${message.message}`));
      report.reject(new Error(`${name} failed: ${message.message}`));
    }
  });
  // 'disconnect' follows the last message on the channel; 'exit' may overtake messages.
  child.once('disconnect', () => {
    const gone = new Error(`${name} (pid ${child.pid}) went away before answering`);
    ready.reject(gone);
    report.reject(gone);
  });
  return {
    ready: ready.promise,
    report: report.promise,
    send: (message) => {
      if (child.connected) child.send(message);
    },
    async kill() {
      if (child.exitCode !== null || child.signalCode !== null) return;
      child.kill('SIGKILL');
      await exited;
    },
  };
}
