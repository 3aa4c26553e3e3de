// Certificates replaced without a restart: etcd reads its TLS files again on
// every handshake, so an operator rotates a certificate by overwriting the
// files. cairn reads them again every reloadCheckIntervalMs and, when they
// changed and work together, hands the new material to the servers and the
// peer dialer: handshakes from then on use it; connections already made keep
// theirs, as with etcd. Files that cannot be used (half written, a key that
// does not match) are reported once and the current ones kept.
import type { Log } from '../log.js';
import type { Clock, Timer } from '../clock.js';
import { rereadTlsMaterial, type TlsMaterial } from './tls-material.js';
import type { TransportSide } from './transport-security.js';

export const reloadCheckIntervalMs = 1_000;

/** Watches one side's files; `replace` gets each new material. Cancel the timer to stop. */
export function watchTlsFiles(side: TransportSide, initial: TlsMaterial, clock: Clock, log: Log, replace: (next: TlsMaterial) => void): Timer {
  let current = initial;
  let lastProblem: string | undefined;
  return clock.every(reloadCheckIntervalMs, () => {
    let next: TlsMaterial | undefined;
    try {
      next = rereadTlsMaterial(side, current);
    } catch (error) {
      const problem = (error as Error).message;
      if (problem !== lastProblem) log.warn(`the ${side} TLS files changed but cannot be used; keeping the current ones: ${problem}`);
      lastProblem = problem;
      return;
    }
    lastProblem = undefined;
    if (next === undefined) return;
    current = next;
    replace(next);
    log.info(`reloaded the ${side} TLS certificate from ${next.files?.certFile ?? '?'}`);
  }).unref();
}
