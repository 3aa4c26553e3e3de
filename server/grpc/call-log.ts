// At --log-level debug, one line per client call when it ends: the method,
// its gRPC code and how long it took (etcd logs its requests at debug too).
// Installed only at debug, so other levels pay nothing for it.
import { status } from '@grpc/grpc-js';
import type { Clock } from '../clock.js';
import type { Log } from '../log.js';
import type { CallObserverFactory } from './serving/observer.js';

export function callLog(log: Log, clock: Clock): CallObserverFactory {
  return (method) => {
    const startedMs = clock.nowMs();
    return {
      ended: (code, details) => {
        log.debug('request', { method: method.path, code: status[code] ?? code, took: `${(clock.nowMs() - startedMs).toFixed(3)}ms`, ...(code === status.OK ? {} : { error: details }) });
      },
    };
  };
}
