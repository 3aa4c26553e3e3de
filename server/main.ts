#!/usr/bin/env node
// The cairn server binary: parses etcd-style flags, starts one member, and
// shuts down cleanly on SIGINT / SIGTERM. `cairn snapshot …` runs the
// snapshot commands instead (snapshot/cli.ts).
import { realClock } from './clock.js';
import { ConfigError, FlagSyntaxError, parseCommandLine, type ServerConfig } from './config.js';
import { usage } from './usage.js';
import { silentLog, type Log } from './log.js';
import { pinoLog } from './logging/pino-log.js';
import { startServer, type StartedServer } from './server.js';
import { runSnapshotCommand } from './snapshot/cli.js';
import { cairnVersion, etcdApiVersion } from './version.js';

/** Until the flags say where the log goes, nothing is logged (fatal() then writes to stderr). */
let log: Log = silentLog;

async function main(): Promise<void> {
  if (process.argv[2] === 'snapshot') {
    const io = { stdout: (text: string) => void process.stdout.write(text), stderr: (text: string) => void process.stderr.write(text), clock: realClock };
    process.exitCode = await runSnapshotCommand(process.argv.slice(3), io);
    return;
  }
  let parsed;
  try {
    parsed = parseCommandLine(process.argv.slice(2));
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error;
    refuse(error);
  }
  if (parsed.kind === 'help') {
    process.stdout.write(usage);
    return;
  }
  if (parsed.kind === 'version') {
    process.stdout.write(`cairn Version: ${cairnVersion}\nAPI version: ${etcdApiVersion}\nNode.js Version: ${process.version}\n`);
    return;
  }
  const config = parsed.config;
  log = pinoLog(config.logLevel, config.logOutputs);
  for (const warning of parsed.warnings) log.warn(warning);
  if (config.logger === 'capnslog') log.warn('--logger=capnslog is taken as zap: cairn writes structured JSON lines');
  log.info('starting cairn', { 'cairn-version': cairnVersion, 'etcd-api-version': etcdApiVersion, 'node-version': process.version, ...effectiveConfig(config) });
  const traces = config.tracing.enabled ? (await import('./tracing/export.js')).startTraceExport(config.tracing) : undefined;
  if (traces !== undefined) log.info('distributed tracing is enabled', { address: config.tracing.address, 'service-name': config.tracing.serviceName, 'sampling-rate-per-million': config.tracing.samplingRatePerMillion });
  let server: StartedServer | undefined;
  let stopping = false;
  const shutdown = (signal: string): void => {
    if (stopping) return;
    stopping = true;
    log.info('received signal; shutting down', { signal });
    const running = server;
    if (running === undefined) {
      // Still starting (a member of a new cluster waits for a quorum): it serves nothing yet, and what it
      // wrote is durable as after a kill -9, so it ends at once rather than when the grace period does.
      log.info('stopped before serving', { name: config.name, 'data-dir': config.dataDir });
      process.exit(0);
    }
    running.stop().then(
      async () => {
        log.info('closed cairn server', { name: config.name, 'data-dir': config.dataDir });
        await traces?.shutdown().catch((error: unknown) => log.warn('could not send the last spans', { error: String(error) }));
        process.exit(0);
      },
      (error: unknown) => {
        log.error('error during shutdown', { error: String(error) });
        process.exit(1);
      },
    );
  };
  // From before the start: a member that is still starting must stop on SIGTERM too (as PID 1 in a
  // container, a signal without a handler is ignored).
  process.on('SIGINT', () => shutdown('interrupt'));
  process.on('SIGTERM', () => shutdown('terminated'));
  try {
    server = await startServer(config, log);
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error;
    refuse(error);
  }
  const started = server;
  // The lines etcd prints once it serves, which scripts and operators wait for.
  log.info('ready to serve client requests');
  for (const [index, address] of started.boundAddresses.entries()) {
    const secure = new URL(config.listenClientUrls[index] ?? 'http://x').protocol === 'https:';
    log.info(secure ? 'serving client traffic securely' : 'serving client traffic insecurely; this is strongly discouraged!', { address });
    if (config.enableUi) log.info('serving the web console', { url: `${secure ? 'https' : 'http'}://${address}/ui/` });
  }
  void started.ended.then((reason) => {
    (reason.startsWith('fatal') ? log.error : log.info)(reason);
    if (stopping) return;
    stopping = true;
    started.stop().finally(() => process.exit(reason.startsWith('fatal') ? 1 : 0));
  });
}

/** The configuration the member runs with, as fields of its start-up line (etcd's "starting an etcd server"). */
function effectiveConfig(config: ServerConfig): Record<string, unknown> {
  return {
    name: config.name,
    'data-dir': config.dataDir,
    'listen-client-urls': config.listenClientUrls,
    'advertise-client-urls': config.advertiseClientUrls,
    'listen-peer-urls': config.listenPeerUrls,
    'initial-advertise-peer-urls': config.initialAdvertisePeerUrls,
    'listen-metrics-urls': config.listenMetricsUrls,
    'initial-cluster': config.initialCluster,
    'initial-cluster-state': config.initialClusterState,
    'initial-cluster-token': config.initialClusterToken,
    'heartbeat-interval': `${config.heartbeatIntervalMs}ms`,
    'election-timeout': `${config.electionTimeoutMs}ms`,
    'snapshot-count': config.snapshotCount,
    'max-txn-ops': config.maxTxnOps,
    'max-request-bytes': config.maxRequestBytes,
    'quota-backend-bytes': config.quotaBackendBytes,
    'auto-compaction': config.autoCompaction ?? 'off',
    'client-cert-auth': config.clientTls.clientCertAuth,
    'peer-client-cert-auth': config.peerTls.clientCertAuth,
    'auth-token': config.auth.token.kind,
    'log-level': config.logLevel,
    'log-outputs': config.logOutputs,
  };
}

/** As etcd: a command line that does not parse prints the usage and exits 2; a value that cannot be used exits 1. */
function refuse(error: ConfigError): never {
  if (error instanceof FlagSyntaxError) {
    process.stderr.write(`cairn: ${error.message}\n\n${usage}`);
    process.exit(2);
  }
  process.stderr.write(`cairn: ${error.message}\n`);
  process.exit(1);
}

/** Fail-stop (docs/failure-policy.md): what no request handler caught is a broken invariant or a failed write; stop at once, saying why. */
function fatal(error: unknown): never {
  const message = error instanceof Error ? (error.stack ?? error.message) : String(error);
  if (log === silentLog) process.stderr.write(`cairn: fatal: ${message}\n`);
  else log.error(`fatal: ${message}`);
  process.exit(1);
}

process.on('uncaughtException', fatal);
process.on('unhandledRejection', fatal);
main().catch(fatal);
