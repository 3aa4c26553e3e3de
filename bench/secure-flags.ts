// Command-line flags of the security-cost benchmark (secure-perf.ts),
// validated up front with one sentence per rule, and the order of its runs.
import { parseArgs } from 'node:util';
import { checkPerfLoads, type CheckPerfLoad } from './cluster-check-perf.js';
import { listOf, measuringOrder } from './cluster-flags.js';
import { integer, targetsOf, type TargetKind } from './flags.js';

/**
 * How a server is secured in one run (each also names how etcdctl and the SDK reach it):
 * - plaintext: an http:// client URL;
 * - tls: an https:// client URL with --cert-file/--key-file; clients verify the server against the CA;
 * - mtls: tls plus --trusted-ca-file and --client-cert-auth; clients present a certificate;
 * - auth: plaintext with auth enabled; every request carries the token of `root` (etcdctl --user root:…);
 * - auth-user: as auth, but as a user whose role grants read-write on the benchmark's prefixes only,
 *   so each request is checked against key ranges (root skips that check on both servers).
 */
export const securities = ['plaintext', 'tls', 'mtls', 'auth', 'auth-user'] as const;
export type Security = (typeof securities)[number];

/** The configurations the task compares; auth-user on request. */
export const securitiesDefault: readonly Security[] = ['plaintext', 'tls', 'mtls', 'auth'];

/** One server to start and measure. */
export interface SecureRun {
  target: TargetKind;
  security: Security;
}

export interface SecureConfig {
  /** The kinds in measuring order, one per run (what runBenchmark walks). */
  targets: TargetKind[];
  /** The runs in the same order: each configuration on both kinds back to back, the first kind alternating. */
  runs: SecureRun[];
  securities: Security[];
  /** check perf's load, or null to skip it. */
  checkPerfLoad: CheckPerfLoad | null;
  /** SDK put loop: puts in flight from one client (one connection). */
  putsInFlight: number;
  putWarmupSeconds: number;
  putSeconds: number;
  /** New SDK clients, one after the other, each timed from connect() to its first answer. */
  connectSamples: number;
  requestTimeoutMs: number;
  json: boolean;
}

const putsInFlightMax = 1024;
const secondsMax = 600;
const connectSamplesMax = 1000;

export const secureUsage = `usage: node dist/bench/secure-perf.js [flags]     (npm run bench:secure -- [flags])
  --target etcd|cairn|both     servers to measure (default both)
  --security NAME[,NAME]       ${securities.join(', ')} (default ${securitiesDefault.join(',')})
  --check-perf LOAD|none       etcdctl check perf load on each fresh server: ${checkPerfLoads.join(', ')} (default s; ~65 s per run)
  --puts-in-flight N           SDK put loop: puts in flight from one client (default 64)
  --put-seconds S              SDK put loop: measured phase per run (default 10)
  --put-warmup-seconds S       SDK put loop: unmeasured warm-up per run (default 1)
  --connect-samples N          SDK clients connected one after the other, each to its first answer (default 10)
  --request-timeout-ms N       deadline of one SDK request (default 10000)
  --json                       print one JSON document instead of the table
Each run starts a fresh server (fresh data directory) of one kind with one security configuration, runs
check perf against it with etcdctl's matching flags, then the SDK put loop and the connects.`;

/** Each configuration on every kind back to back; with two kinds the one that goes first alternates. */
export function secureRuns(kinds: TargetKind[], chosen: readonly Security[]): SecureRun[] {
  const order = measuringOrder(kinds, chosen.length);
  return order.map((target, index) => {
    const security = chosen[Math.floor(index / kinds.length)];
    if (security === undefined) throw new Error(`secure runs: no configuration for run ${index + 1}`);
    return { target, security };
  });
}

/** Parses argv (without node and script); throws with one clear sentence on bad input. */
export function parseSecureFlags(argv: string[]): SecureConfig | 'help' {
  const { values } = parseArgs({
    args: argv,
    strict: true,
    options: {
      target: { type: 'string', default: 'both' },
      security: { type: 'string' },
      'check-perf': { type: 'string', default: 's' },
      'puts-in-flight': { type: 'string' },
      'put-seconds': { type: 'string' },
      'put-warmup-seconds': { type: 'string' },
      'connect-samples': { type: 'string' },
      'request-timeout-ms': { type: 'string' },
      json: { type: 'boolean', default: false },
      help: { type: 'boolean', default: false },
    },
  });
  if (values.help) return 'help';
  const chosen = listOf('security', values.security, securities, securitiesDefault);
  const checkPerf = values['check-perf'];
  if (checkPerf !== 'none' && !(checkPerfLoads as readonly string[]).includes(checkPerf)) {
    throw new Error(`--check-perf takes ${checkPerfLoads.join(', ')} or none, got ${JSON.stringify(checkPerf)}`);
  }
  const runs = secureRuns(targetsOf(values.target), chosen);
  return {
    targets: runs.map((run) => run.target),
    runs,
    securities: chosen,
    checkPerfLoad: checkPerf === 'none' ? null : checkPerf as CheckPerfLoad,
    putsInFlight: integer('puts-in-flight', values['puts-in-flight'], 64, 1, putsInFlightMax),
    putSeconds: integer('put-seconds', values['put-seconds'], 10, 1, secondsMax),
    putWarmupSeconds: integer('put-warmup-seconds', values['put-warmup-seconds'], 1, 0, secondsMax),
    connectSamples: integer('connect-samples', values['connect-samples'], 10, 1, connectSamplesMax),
    requestTimeoutMs: integer('request-timeout-ms', values['request-timeout-ms'], 10_000, 100, 600_000),
    json: values.json,
  };
}
