// At --log-level debug, one line per client call when it ends: the method,
// its gRPC code and how long it took (etcd logs its requests at debug too).
// Installed only at debug, so other levels pay nothing for it.
import { ServerInterceptingCall, status, type ServerInterceptor } from '@grpc/grpc-js';
import type { Clock } from '../clock.js';
import type { Log } from '../log.js';

export function callLog(log: Log, clock: Clock): ServerInterceptor {
  return (method, call) => {
    const startedMs = clock.nowMs();
    return new ServerInterceptingCall(call, {
      sendStatus: (sent, next) => {
        log.debug('request', { method: method.path, code: status[sent.code] ?? sent.code, took: `${(clock.nowMs() - startedMs).toFixed(3)}ms`, ...(sent.code === status.OK ? {} : { error: sent.details }) });
        next(sent);
      },
    });
  };
}
