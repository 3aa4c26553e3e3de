#!/usr/bin/env node
// The cairn server binary: parses etcd-style flags, starts one member, and
// shuts down cleanly on SIGINT / SIGTERM.
import { realClock } from './clock.js';
import { ConfigError, FlagSyntaxError, parseCommandLine, usage } from './config.js';
import { startServer } from './server.js';
import { runSnapshotCommand } from './snapshot/cli.js';
import { cairnVersion, etcdApiVersion } from './version.js';

function log(line: string): void {
  process.stderr.write(`${new Date(realClock.wallMs()).toISOString()} cairn: ${line}\n`);
}

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
  for (const warning of parsed.warnings) log(`warning: ${warning}`);
  log(`starting member "${config.name}" with data dir ${config.dataDir}`);
  let server;
  try {
    server = await startServer(config, log);
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error;
    refuse(error);
  }
  log(`serving client requests on ${server.boundAddresses.join(', ')}`);
  let stopping = false;
  const shutdown = (signal: string): void => {
    if (stopping) return;
    stopping = true;
    log(`received ${signal}, shutting down`);
    server.stop().then(
      () => process.exit(0),
      (error: unknown) => {
        log(`error during shutdown: ${String(error)}`);
        process.exit(1);
      },
    );
  };
  void server.ended.then((reason) => {
    log(reason);
    if (stopping) return;
    stopping = true;
    server.stop().finally(() => process.exit(reason.startsWith('fatal') ? 1 : 0));
  });
  process.on('SIGINT', () => shutdown('SIGINT'));
  process.on('SIGTERM', () => shutdown('SIGTERM'));
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
  log(`fatal: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}`);
  process.exit(1);
}

process.on('uncaughtException', fatal);
process.on('unhandledRejection', fatal);
main().catch(fatal);
