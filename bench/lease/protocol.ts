// What the lease benchmark's parent (measure.ts) and its keep-alive processes
// (keepalive.ts) exchange; the message sequence is ipc.ts's: a process grants
// its leases and sends `ready`, renews them after `go`, and sends `result`.
import type { HistogramSnapshot } from '../stats.js';

export interface KeepAliveWorkerConfig {
  endpoint: string;
  workerIndex: number;
  /** Leases this process grants and keeps alive. */
  leases: number;
  leaseTtlSeconds: number;
  connections: number;
  streamsPerConnection: number;
  inFlightPerStream: number;
  grantInFlight: number;
  warmupMs: number;
  durationMs: number;
  requestTimeoutMs: number;
  /** How long granting may take at most. */
  grantTimeoutMs: number;
}

export interface GrantReport {
  granted: number;
  grantMs: number;
  /** CPU this process used while granting (user + system): is the load what bounds the grants? */
  cpuMicroseconds: number;
  histogram: HistogramSnapshot;
}

export interface KeepAliveResult {
  workerIndex: number;
  /** Keep-alives sent during the measured phase and answered. */
  keepAlives: number;
  warmupKeepAlives: number;
  /** Answers with TTL <= 0: the server no longer knew the lease (expired or unknown). */
  expired: number;
  /** Answers for a lease this stream had not asked about. */
  unexpected: number;
  /** Keep-alives still unanswered `requestTimeoutMs` after the measured phase. */
  unanswered: number;
  streamErrors: number;
  errorSamples: string[];
  /** From the start of the measured phase to the last measured answer. */
  measuredMs: number;
  histogram: HistogramSnapshot;
}
