// The member's log, as every part of the server sees it: a message at a
// level, with fields where a value deserves its own key (etcd's zap lines:
// {"level":"warn","msg":"apply request took too long","took":"149ms",…}).
// main.ts writes it as JSON lines with pino (logging/pino-log.ts); an
// embedding program gives its own, or none.
export type LogFields = Readonly<Record<string, unknown>>;

export interface Log {
  /** What only someone debugging wants (each request at --log-level debug). */
  debug(message: string, fields?: LogFields): void;
  /** What an operator follows: start-up, leadership, membership, snapshots, compactions. */
  info(message: string, fields?: LogFields): void;
  /** Something is wrong but the member goes on: an unreachable peer, a slow request, an alarm. */
  warn(message: string, fields?: LogFields): void;
  /** A failure: the member stops, or a request failed in a way that is a bug. */
  error(message: string, fields?: LogFields): void;
}

/** For a member nobody reads the log of. */
export const silentLog: Log = {
  debug: () => undefined,
  info: () => undefined,
  warn: () => undefined,
  error: () => undefined,
};
