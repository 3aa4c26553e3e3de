// Concurrent register clients for the linearizability test: each has one
// operation outstanding at a time, is bound to one member's endpoint, and draws
// its operations (kind, key) from its own seeded generator. Written values are
// unique across the whole run (1, 2, 3, ...), so a read names the one write it
// saw.
//
// Processes, after Jepsen: a client starts as process `index`. When one of its
// writes or CAS becomes ambiguous, that operation stays pending forever, so the
// client carries on as a new process (numbered from clients.length upwards):
// a process never has two operations outstanding.
import { SeededRandom } from '../../server/raft/random.js';
import { must } from '../harness/must.js';
import { classifyFailure, RegisterClient } from './history-client.js';
import type { HistoryRecorder, OperationKind } from './history-recorder.js';
import type { RegisterInput, RegisterOutput } from '../sim/linearizability.js';

/** Relative weights of the operation kinds; a kind of weight 0 is never drawn. */
export type OperationMix = Readonly<Record<OperationKind, number>>;

export interface WorkloadClientConfig {
  readonly endpoint: string;
  readonly mix: OperationMix;
  /** Reads are serializable (served from the member's own state): only for the checker's self-test. */
  readonly serializableReads?: boolean;
  /** The client invokes its first operation once this resolves (or never, if the workload stops first). */
  readonly startAfter?: Promise<void>;
}

export interface WorkloadOptions {
  readonly clients: readonly WorkloadClientConfig[];
  readonly keys: readonly string[];
  readonly seed: number;
  readonly recorder: HistoryRecorder;
  readonly stop: StopSignal;
  readonly requestDeadlineMs: number;
  /** A client that finds its member unreachable waits this long for the connection before looking at `stop` again. */
  readonly connectWaitMs: number;
  /** Pause of a client after a failed operation, so a member that refuses at once is not flooded. */
  readonly failureBackoffMs: number;
}

export interface WorkloadResult {
  /** For each client (by index), the processes it ran as. */
  readonly processes: number[][];
}

/** Stops loops, and cuts short the sleeps they are in. */
export class StopSignal {
  private stoppedFlag = false;
  private readonly wakers = new Set<() => void>();
  private resolveStopped!: () => void;
  /** Resolves when stopped. */
  readonly whenStopped = new Promise<void>((resolve) => (this.resolveStopped = resolve));

  get stopped(): boolean {
    return this.stoppedFlag;
  }

  stop(): void {
    this.stoppedFlag = true;
    this.resolveStopped();
    for (const wake of this.wakers) wake();
    this.wakers.clear();
  }

  /** Resolves after `ms`, or at once when stopped. */
  sleep(ms: number): Promise<void> {
    if (this.stoppedFlag) return Promise.resolve();
    return new Promise((resolve) => {
      const wake = (): void => {
        clearTimeout(timer);
        this.wakers.delete(wake);
        resolve();
      };
      const timer = setTimeout(wake, ms);
      this.wakers.add(wake);
    });
  }
}

/** Runs every client until `stop`, then resolves once each has finished its outstanding operation. */
export async function runWorkload(options: WorkloadOptions): Promise<WorkloadResult> {
  let nextValue = 1;
  let nextProcess = options.clients.length;
  /** The latest value any client saw per key: a CAS expects it, so that CAS often succeeds. */
  const latest = new Map<string, number>();
  const shared: SharedState = {
    newValue: () => nextValue++,
    newProcess: () => nextProcess++,
    latest,
  };
  const processes: number[][] = [];
  await Promise.all(options.clients.map((config, index) => {
    const own = [index];
    processes.push(own);
    return clientLoop(index, config, options, shared, own);
  }));
  return { processes };
}

interface SharedState {
  newValue(): number;
  newProcess(): number;
  readonly latest: Map<string, number>;
}

async function clientLoop(index: number, config: WorkloadClientConfig, options: WorkloadOptions, shared: SharedState, processes: number[]): Promise<void> {
  const { recorder, stop, keys } = options;
  const random = new SeededRandom(options.seed + index * 7919);
  const client = new RegisterClient(config.endpoint, { requestDeadlineMs: options.requestDeadlineMs });
  let process = index;
  try {
    if (config.startAfter !== undefined) await Promise.race([config.startAfter, stop.whenStopped]);
    while (!stop.stopped) {
      if (!(await client.connected(options.connectWaitMs)) || stop.stopped) continue;
      const key = must(keys[random.intBelow(keys.length)], `one of the ${keys.length} keys`);
      const input = chooseInput(random, config.mix, shared, key);
      const id = recorder.invoke(process, key, input);
      try {
        const output = await perform(client, key, input, config.serializableReads === true);
        recorder.complete(id, output);
        learn(shared.latest, key, input, output);
      } catch (error) {
        const failure = classifyFailure(error);
        if (input.kind === 'read' || failure.outcome === 'not-applied') {
          recorder.drop(id, failure.cause);
        } else {
          recorder.ambiguous(id, failure.cause);
          process = shared.newProcess();
          processes.push(process);
        }
        await stop.sleep(options.failureBackoffMs);
      }
    }
  } finally {
    client.close();
  }
}

function chooseInput(random: SeededRandom, mix: OperationMix, shared: SharedState, key: string): RegisterInput {
  const total = mix.read + mix.write + mix.cas;
  let draw = random.next() * total;
  if ((draw -= mix.read) < 0) return { kind: 'read' };
  if ((draw -= mix.write) < 0) return { kind: 'write', value: shared.newValue() };
  return { kind: 'cas', expected: shared.latest.get(key) ?? 0, value: shared.newValue() };
}

async function perform(client: RegisterClient, key: string, input: RegisterInput, serializable: boolean): Promise<RegisterOutput> {
  switch (input.kind) {
    case 'read':
      return { value: await client.read(key, serializable) };
    case 'write':
      await client.write(key, input.value);
      return { done: true };
    case 'cas':
      return { ok: await client.compareAndSet(key, input.expected, input.value) };
  }
}

function learn(latest: Map<string, number>, key: string, input: RegisterInput, output: RegisterOutput): void {
  if ('value' in output) latest.set(key, output.value);
  else if (input.kind === 'write') latest.set(key, input.value);
  else if (input.kind === 'cas' && 'ok' in output && output.ok) latest.set(key, input.value);
}
