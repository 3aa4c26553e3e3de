// etcd's warning for a request that took too long to apply ("apply request
// took too long", threshold 100 ms: etcdserver's warnApplyDuration), with the
// request in one line, and the etcd_server_slow_apply_total count.
import type { Log } from '../log.js';
import type { NodeObserver } from '../node/observer.js';
import { requestSummary } from './request-summary.js';

export const slowApplyMs = 100;

/** `observer`, plus the warning and `counted()` for each request slower than slowApplyMs. */
export function slowApplyWarnings(observer: NodeObserver, counted: () => void, log: Log): NodeObserver {
  return {
    ...observer,
    requestApplied: (request, durationMs) => {
      observer.requestApplied(request, durationMs);
      if (durationMs <= slowApplyMs) return;
      counted();
      log.warn('apply request took too long', { took: `${durationMs.toFixed(3)}ms`, 'expected-duration': `${slowApplyMs}ms`, prefix: '', request: requestSummary(request) });
    },
  };
}
