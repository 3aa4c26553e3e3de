// Shared helpers of the SDK matrix suite: the targets, a recording gRPC
// interceptor (to assert on what the server sent), and polling.
import { InterceptingCall, ListenerBuilder, RequesterBuilder, type Interceptor } from '@grpc/grpc-js';
import type { WatchResponse } from '../../proto/gen/etcdserverpb/rpc.js';
import { etcdAvailable, startCairn, startEtcd, type ServerHandle, type StartOptions } from '../harness/launcher.js';

/** A server kind the suite runs against. */
export interface Target {
  readonly kind: 'cairn' | 'etcd';
  start(options?: StartOptions): Promise<ServerHandle>;
  available(): boolean;
}

export const targets: readonly Target[] = [
  { kind: 'cairn', start: startCairn, available: () => true },
  { kind: 'etcd', start: startEtcd, available: etcdAvailable },
];

/** Targets chosen by SDK_TARGET (cairn | etcd); both when unset. */
export function selectedTargets(): Target[] {
  const wanted = process.env.SDK_TARGET;
  if (wanted === undefined || wanted === '') return [...targets];
  const chosen = targets.filter((target) => target.kind === wanted);
  if (chosen.length === 0) throw new Error(`SDK_TARGET must be cairn or etcd, not ${wanted}`);
  return chosen;
}

/**
 * etcdctl commands that create `root` (password "secret"), a role `app` that
 * may read and write every key under `app/`, a user `app` (password
 * "app-secret") with that role, and then enable auth.
 */
export const confinedUserSetup: readonly string[][] = [
  ['user', 'add', 'root', '--new-user-password=secret'],
  ['user', 'grant-role', 'root', 'root'],
  ['role', 'add', 'app'],
  ['role', 'grant-permission', 'app', 'readwrite', '--prefix', 'app/'],
  ['user', 'add', 'app', '--new-user-password=app-secret'],
  ['user', 'grant-role', 'app', 'app'],
  ['auth', 'enable'],
];

/** Records Watch streams opened and every WatchResponse received, via a client interceptor. */
export class WatchRecorder {
  streamsOpened = 0;
  readonly responses: WatchResponse[] = [];

  readonly interceptor: Interceptor = (options, nextCall) => {
    const isWatch = options.method_definition.path === '/etcdserverpb.Watch/Watch';
    if (!isWatch) return new InterceptingCall(nextCall(options));
    this.streamsOpened++;
    const requester = new RequesterBuilder()
      .withStart((metadata, listener, next) => {
        next(metadata, new ListenerBuilder()
          .withOnReceiveMessage((message: WatchResponse, nextMessage) => {
            this.responses.push(message);
            nextMessage(message);
          })
          .build());
        void listener;
      })
      .build();
    return new InterceptingCall(nextCall(options), requester);
  };
}

/** Polls `check` until it returns true or `timeoutMs` passes. */
export async function eventually(check: () => boolean | Promise<boolean>, timeoutMs = 10_000, what = 'condition'): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(25);
  }
}

export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** Awaits a rejection and returns the error (fails if it resolves). */
export async function rejection(promise: Promise<unknown>): Promise<Error> {
  try {
    await promise;
  } catch (error) {
    return error as Error;
  }
  throw new Error('expected a rejection');
}

/** Counts the calls and streams a client starts, by method path (`/etcdserverpb.KV/Txn`), via a client interceptor. */
export class CallRecorder {
  readonly started = new Map<string, number>();

  readonly interceptor: Interceptor = (options, nextCall) => {
    const path = options.method_definition.path;
    this.started.set(path, (this.started.get(path) ?? 0) + 1);
    return new InterceptingCall(nextCall(options));
  };

  /** Calls started on `path` so far. */
  count(path: string): number {
    return this.started.get(path) ?? 0;
  }
}
