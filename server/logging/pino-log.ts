// The member's log as JSON lines, one per event, written by pino to the
// outputs of --log-outputs at --log-level, in the shape etcd's zap logger
// gives them: {"level":"info","ts":"2026-12-07T02:38:34.001Z","msg":"…", fields…}.
// Writes are synchronous: a member that stops at once (fail-stop) has said why
// before it exits.
import { pino, type DestinationStream, type Level } from 'pino';
import { realClock } from '../clock.js';
import type { LogLevel } from '../config.js';
import type { Log, LogFields } from '../log.js';

/** etcd's levels as pino's: panic and fatal both stop etcd; cairn logs them as fatal. */
const pinoLevels: Readonly<Record<LogLevel, Level>> = { debug: 'debug', info: 'info', warn: 'warn', error: 'error', panic: 'fatal', fatal: 'fatal' };

/** A Log writing to `outputs` (stderr, stdout, or file paths appended to; "default" and "journal" are stderr). */
export function pinoLog(level: LogLevel, outputs: readonly string[]): Log {
  const destinations = [...new Set(outputs.map(destinationOf))].map(openDestination);
  const stream = destinations.length === 1 ? destinations[0] : pino.multistream(destinations.map((destination) => ({ stream: destination, level: pinoLevels[level] })));
  const logger = pino(
    {
      level: pinoLevels[level],
      base: undefined,
      messageKey: 'msg',
      timestamp: () => `,"ts":"${new Date(realClock.wallMs()).toISOString()}"`,
      formatters: { level: (label) => ({ level: label }) },
    },
    stream,
  );
  return {
    debug: (message: string, fields: LogFields = {}) => logger.debug(fields, message),
    info: (message: string, fields: LogFields = {}) => logger.info(fields, message),
    warn: (message: string, fields: LogFields = {}) => logger.warn(fields, message),
    error: (message: string, fields: LogFields = {}) => logger.error(fields, message),
  };
}

/** Where an output writes: a file descriptor for the standard streams (systemd's journal reads stderr), else the path. */
function destinationOf(output: string): number | string {
  if (output === 'default' || output === 'stderr' || output === 'journal') return 2;
  if (output === 'stdout') return 1;
  return output;
}

function openDestination(destination: number | string): DestinationStream {
  return pino.destination({ dest: destination, sync: true, append: true, mkdir: typeof destination === 'string' });
}
