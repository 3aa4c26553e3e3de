// One run of the security-cost benchmark: a fresh server of one kind, secured
// one way (secure-flags.ts), measured three ways, one after the other:
//
// 1. `etcdctl check perf` with etcdctl's flags for that security (--cacert,
//    --cert/--key, --user): 50 clients, 150 puts/s for 60 s at load s. Its
//    figures are what it prints: throughput (capped by its own rate limit, so
//    equal on any server that keeps up), slowest request and stddev.
// 2. An SDK put loop of our own, because check perf's fixed rate hides what
//    security costs a server that is busy: one client (one connection) keeps
//    `putsInFlight` puts in flight for `putSeconds`, with check perf's request
//    shape (256-byte keys, 1 KiB values of zero bytes); puts/s and latency
//    percentiles.
// 3. Connects: new SDK clients one after the other, each on a connection of
//    its own, timed from connect() to the answer of a first get — what a TLS
//    handshake and, with auth, an Authenticate (a bcrypt check) cost.
//
// The server and every client share this machine.
import { performance } from 'node:perf_hooks';
import { connect, type Client, type ConnectOptions } from '../client/index.js';
import { etcdctlEach } from '../test/harness/etcdctl.js';
import type { ServerHandle, StartOptions } from '../test/harness/launcher.js';
import { makeTlsFiles, mutualTls, type TlsFiles } from '../test/harness/tls-fixture.js';
import { runCheckPerf, type CheckPerfResult } from './cluster-check-perf.js';
import type { SecureConfig, SecureRun, Security } from './secure-flags.js';
import { withServer } from './server.js';
import { LatencyHistogram } from './stats.js';
import { loadAverage1m } from './table.js';

/** Where the SDK put loop writes; check perf writes under its own /etcdctl-check-perf/. */
const putPrefix = 'secure-perf/';
/** check perf's request shape: a 256-byte key and 1,024 zero bytes of value. */
const keyBytes = 256;
const valueBytes = 1024;
/** A put loop that keeps failing measures nothing: it stops after this many errors. */
const putErrorsMax = 100;
const errorSamplesMax = 5;
const rootPassword = 'bench-root';
const userPassword = 'bench-user';

/** How one security configuration starts its server and how clients reach it. */
interface Secured {
  start: StartOptions;
  scheme: 'http' | 'https';
  /** etcdctl's certificate flags: used for the setup and by check perf. */
  transportFlags: string[];
  /** etcdctl's --user, once auth is on: check perf's only. */
  userFlags: string[];
  /** The SDK's options for the same. */
  sdk: Pick<ConnectOptions, 'tls' | 'auth'>;
  /** etcdctl commands run before measuring, while auth is still off: users, roles, `auth enable`. */
  setup: string[][];
}

const rootSetup = [['user', 'add', 'root', `--new-user-password=${rootPassword}`], ['user', 'grant-role', 'root', 'root']];
/** A user allowed to read and write exactly what check perf and the put loop write. */
const userSetup = [
  ['role', 'add', 'bench'],
  ['role', 'grant-permission', 'bench', 'readwrite', '--prefix', '/etcdctl-check-perf/'],
  ['role', 'grant-permission', 'bench', 'readwrite', '--prefix', putPrefix],
  ['user', 'add', 'bench', `--new-user-password=${userPassword}`],
  ['user', 'grant-role', 'bench', 'bench'],
];

function secured(security: Security, files: TlsFiles): Secured {
  const plaintext: Secured = { start: {}, scheme: 'http', transportFlags: [], userFlags: [], sdk: {}, setup: [] };
  switch (security) {
    case 'plaintext':
      return plaintext;
    case 'tls':
      return {
        ...plaintext, scheme: 'https', start: { tls: { certFile: files.serverCertFile, keyFile: files.serverKeyFile, probe: { caFile: files.caFile } } },
        transportFlags: ['--cacert', files.caFile], sdk: { tls: { ca: files.caFile } },
      };
    case 'mtls':
      return {
        ...plaintext, scheme: 'https', start: { tls: mutualTls(files) },
        transportFlags: ['--cacert', files.caFile, '--cert', files.clientCertFile, '--key', files.clientKeyFile],
        sdk: { tls: { ca: files.caFile, cert: files.clientCertFile, key: files.clientKeyFile } },
      };
    case 'auth':
      return {
        ...plaintext, userFlags: ['--user', `root:${rootPassword}`],
        sdk: { auth: { username: 'root', password: rootPassword } }, setup: [...rootSetup, ['auth', 'enable']],
      };
    case 'auth-user':
      return {
        ...plaintext, userFlags: ['--user', `bench:${userPassword}`],
        sdk: { auth: { username: 'bench', password: userPassword } }, setup: [...rootSetup, ...userSetup, ['auth', 'enable']],
      };
  }
}

export interface PutLoopResult {
  /** Puts sent after the warm-up and answered. */
  puts: number;
  errors: number;
  errorSamples: string[];
  /** From the end of the warm-up to the last answer. */
  seconds: number;
  putsPerSecond: number;
  p50Ms: number;
  p99Ms: number;
  maxMs: number;
}

export interface ConnectResult {
  samples: number;
  p50Ms: number;
  maxMs: number;
}

export interface SecureResult extends SecureRun {
  /** 1-minute load average of the machine when the run started. */
  loadAverage1mAtStart: number;
  /** Null when skipped (--check-perf none). */
  checkPerf: CheckPerfResult | null;
  puts: PutLoopResult;
  connects: ConnectResult;
}

/** Runs `putsInFlight` put loops on one client; only puts sent after the warm-up count. */
async function putLoop(client: Client, config: SecureConfig, runId: string): Promise<PutLoopResult> {
  const value = Buffer.alloc(valueBytes);
  const histogram = new LatencyHistogram();
  const errorSamples = new Set<string>();
  let sequence = 0;
  let errors = 0;
  const measuredFromMs = performance.now() + config.putWarmupSeconds * 1000;
  const endMs = measuredFromMs + config.putSeconds * 1000;
  const loop = async () => {
    while (performance.now() < endMs && errors < putErrorsMax) {
      const key = `${putPrefix}${runId}/${sequence++}`.padEnd(keyBytes, '-');
      const sentMs = performance.now();
      try {
        await client.put(key, value, { deadlineMs: config.requestTimeoutMs });
        if (sentMs >= measuredFromMs) histogram.record((performance.now() - sentMs) * 1000);
      } catch (error) {
        errors++;
        if (errorSamples.size < errorSamplesMax) errorSamples.add((error as Error).message);
      }
    }
  };
  await Promise.all(Array.from({ length: config.putsInFlight }, loop));
  const seconds = Math.max(0, performance.now() - measuredFromMs) / 1000;
  const puts = histogram.count;
  return {
    puts,
    errors,
    errorSamples: [...errorSamples],
    seconds,
    putsPerSecond: seconds > 0 ? puts / seconds : 0,
    p50Ms: histogram.quantileUs(0.5) / 1000,
    p99Ms: histogram.quantileUs(0.99) / 1000,
    maxMs: histogram.maxLatencyUs() / 1000,
  };
}

/** New clients one after the other, each on its own connection (no shared subchannel), to its first answer. */
async function connects(options: ConnectOptions, samples: number): Promise<ConnectResult> {
  const histogram = new LatencyHistogram();
  for (let sample = 0; sample < samples; sample++) {
    const startedMs = performance.now();
    const client = await connect({ ...options, channelOptions: { 'grpc.use_local_subchannel_pool': 1 } });
    try {
      // Inside the put loop's prefix, which the auth-user configuration may read.
      await client.get(`${putPrefix}connect`);
      histogram.record((performance.now() - startedMs) * 1000);
    } finally {
      client.close();
    }
  }
  return { samples, p50Ms: histogram.quantileUs(0.5) / 1000, maxMs: histogram.maxLatencyUs() / 1000 };
}

async function measureServer(server: ServerHandle, run: SecureRun, how: Secured, config: SecureConfig, runId: string): Promise<SecureResult> {
  const url = `${how.scheme}://${server.endpoint}`;
  await etcdctlEach(url, how.setup, how.transportFlags);
  const loadAverage1mAtStart = loadAverage1m();
  const checkPerf = config.checkPerfLoad === null
    ? null
    : await runCheckPerf(run.target, [url], config.checkPerfLoad, [...how.transportFlags, ...how.userFlags]);
  const options: ConnectOptions = { endpoints: [url], dialTimeoutMs: config.requestTimeoutMs, ...how.sdk };
  const client = await connect(options);
  try {
    const puts = await putLoop(client, config, `${runId}-${run.target}-${run.security}`);
    return { ...run, loadAverage1mAtStart, checkPerf, puts, connects: await connects(options, config.connectSamples) };
  } finally {
    client.close();
  }
}

/** Measures `run` on a fresh server (its own certificates, made for it and removed after). */
export async function measureSecure(run: SecureRun, config: SecureConfig, runId: string): Promise<SecureResult> {
  const files = makeTlsFiles();
  try {
    const how = secured(run.security, files);
    return await withServer(run.target, (server) => measureServer(server, run, how, config, runId), how.start);
  } finally {
    files.remove();
  }
}

/** What makes a run's figures unsound; each is one sentence. A check perf FAIL is a result (too slow), not a problem. */
export function secureProblems(result: SecureResult): string[] {
  const problems: string[] = [];
  const { checkPerf, puts } = result;
  if (checkPerf !== null && checkPerf.passed === null) {
    problems.push(`${result.security}: check perf gave no verdict (exit ${checkPerf.exitCode}): ${checkPerf.errorOutput}`);
  }
  if (checkPerf !== null && checkPerf.verdictLines.some((line) => line.startsWith('FAIL: ERROR'))) {
    problems.push(`${result.security}: check perf requests failed: ${checkPerf.verdictLines.join(' | ')}`);
  }
  if (puts.errors > 0) problems.push(`${result.security}: ${puts.errors} SDK puts failed: ${puts.errorSamples.join('; ')}`);
  return problems;
}
