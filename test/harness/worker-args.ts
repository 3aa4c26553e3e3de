/**
 * A positional argument of a worker process that a test spawns (`node x-worker.js <endpoint> …`):
 * `workerArg(0, 'endpoint')` is process.argv[2]. A missing one means the test spawned the worker
 * wrongly, so the worker fails at once naming it rather than run with undefined.
 */
export function workerArg(position: number, name: string): string {
  const value = process.argv[2 + position];
  if (value === undefined) throw new Error(`worker: argument ${position + 1} <${name}> is missing`);
  return value;
}
