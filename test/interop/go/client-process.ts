// etcd-client processes (etcd's Go client, see build.ts) in tests: started
// through EtcdctlProcesses, so killAll() ends them, and read as the JSON lines
// they print, one event per line ({"event": "acquired", "key": ..., ...}).
import type { BackgroundEtcdctl, EtcdctlProcesses } from '../etcdctl-process.js';

/** One line etcd-client printed. Revisions and lease IDs are decimal or hex strings. */
export interface ClientEvent {
  readonly event: string;
  readonly [field: string]: string | number | undefined;
}

export interface GoClientProcess {
  readonly background: BackgroundEtcdctl;
  /** The events printed so far, in order. */
  events(): ClientEvent[];
  /** The names of the events printed so far. */
  eventNames(): string[];
  /** Resolves with the first `event` printed; rejects after `timeoutMs` or when the process exits without it. */
  waitForEvent(event: string, timeoutMs?: number): Promise<ClientEvent>;
  /** Closes stdin: a holder releases, a candidate resigns, an observer stops. */
  stop(): void;
}

/** Parses the complete lines of `stdout` (a last line still being written is left out). */
export function parseEvents(stdout: string): ClientEvent[] {
  const complete = stdout.slice(0, stdout.lastIndexOf('\n') + 1);
  return complete.split('\n').filter((line) => line !== '').map((line) => {
    try {
      return JSON.parse(line) as ClientEvent;
    } catch {
      throw new Error(`etcd-client printed a line that is not JSON: ${line}`);
    }
  });
}

/** Starts `etcd-client <args>` in the background. */
export function startGoClient(processes: EtcdctlProcesses, binary: string, args: string[]): GoClientProcess {
  const background = processes.startCommand(binary, args);
  const events = () => parseEvents(background.stdout());
  return {
    background,
    events,
    eventNames: () => events().map((item) => item.event),
    async waitForEvent(event, timeoutMs) {
      const find = () => events().find((item) => item.event === event);
      await background.waitForStdout(() => find() !== undefined, `a "${event}" event`, timeoutMs);
      const found = find();
      if (found === undefined) throw new Error(`etcd-client ${args.join(' ')}: the "${event}" event vanished`);
      return found;
    },
    stop: () => background.closeStdin(),
  };
}

/** A field of an event that must be there, as a string. */
export function field(event: ClientEvent, name: string): string {
  const value = event[name];
  if (value === undefined) throw new Error(`etcd-client event ${JSON.stringify(event)} has no "${name}"`);
  return String(value);
}
