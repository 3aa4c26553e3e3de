// Messages between a bench parent and the worker processes it forks, sent over
// the fork IPC channel with 'advanced' serialization (typed arrays and bigints
// cross it as they are).
//
// Sequence, the same for every benchmark: the parent forks with the worker's
// config as one JSON argument → the worker prepares (connects, creates
// watchers, grants leases) and sends `ready` → the parent sends `go` to all
// workers at once → the worker runs and sends `result`, then exits. Either side
// may send `data` in between (the watch benchmark relays put acks this way).

export type ParentMessage<Down> = { type: 'go' } | { type: 'data'; data: Down };

export type WorkerMessage<Ready, Result, Up> =
  | { type: 'ready'; ready: Ready }
  | { type: 'result'; result: Result }
  | { type: 'data'; data: Up }
  | { type: 'failed'; message: string };

/** How the parent passes the config: one JSON argument, so the worker needs no IPC round trip to start. */
export function encodeArgument(config: unknown): string {
  return JSON.stringify(config);
}

export function decodeArgument<Config>(argument: string | undefined, what: string): Config {
  if (argument === undefined) throw new Error(`${what}: missing config argument`);
  return JSON.parse(argument) as Config;
}
