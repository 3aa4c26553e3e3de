// `cairn snapshot status|restore`: etcdctl 3.4's snapshot commands for the
// files `etcdctl snapshot save` fetches from a cairn member, and from an etcd
// 3.4 member (a restore of one migrates its keys and leases to cairn). Same
// flags, same defaults as the cairn server's own (so a restore with no flags
// is found by `cairn` with no flags), same output, same error texts
// (prefixed "Error: ") and exit codes.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, dirname, join, resolve } from 'node:path';
import type { Clock } from '../clock.js';
import { defaultDataDir, flagDefault } from '../config.js';
import { hexId } from '../membership/ids.js';
import { booleanFlag, parseFlags, stringFlag, type FlagSpecs, type ParsedFlags } from './cli-flags.js';
import { InvalidSnapshotError, SnapshotArgumentsError, SnapshotCommandError, SnapshotFlagError } from './errors.js';
import { planMembership } from './restore-plan.js';
import { refuseExistingDataDir, restoreDataDir } from './restore.js';
import { etcdSnapshotStatus } from './etcd/etcd-status.js';
import { openSnapshotFile, type OpenedSnapshot } from './snapshot-format.js';
import { formatStatus, statusFormat } from './status-format.js';
import { snapshotStatus, type SnapshotStatus } from './status.js';

export interface SnapshotCommandIo {
  stdout(text: string): void;
  stderr(text: string): void;
  clock: Clock;
}

export const snapshotUsage = `Usage:
  cairn snapshot status FILE [-w simple|table|json|fields]
      Prints the hash, revision, total keys and total size of a snapshot file (cairn's or etcd 3.4's).
  cairn snapshot restore FILE [--data-dir DIR] [--name NAME] [--initial-cluster NAME=URL,...]
                              [--initial-cluster-token TOKEN] [--initial-advertise-peer-urls URL,...]
                              [--skip-hash-check]
      Writes a new data directory from a snapshot file (cairn's, or etcd 3.4's to migrate from etcd);
      start cairn on it with the same flags.
`;

const statusFlags: FlagSpecs = {
  'write-out': { type: 'string', short: 'w', default: 'simple' },
};

const restoreFlags: FlagSpecs = {
  'data-dir': { type: 'string', default: '' },
  name: { type: 'string', default: String(flagDefault('name')) },
  'initial-cluster': { type: 'string', default: '' },
  'initial-cluster-token': { type: 'string', default: String(flagDefault('initial-cluster-token')) },
  'initial-advertise-peer-urls': { type: 'string', default: String(flagDefault('initial-advertise-peer-urls')) },
  'skip-hash-check': { type: 'boolean', default: false },
};

/** Runs `cairn snapshot <argv>`; resolves with the exit code. Never throws: every error is printed. */
export async function runSnapshotCommand(argv: readonly string[], io: SnapshotCommandIo): Promise<number> {
  try {
    const [command, ...rest] = argv;
    if (command === undefined || command === 'help' || command === '-h' || command === '--help') {
      io.stdout(snapshotUsage);
      return 0;
    }
    if (command === 'status' || command === 'restore') {
      const flags = parseFlags(rest, command === 'status' ? statusFlags : restoreFlags);
      if (flags.help) {
        io.stdout(snapshotUsage);
        return 0;
      }
      const file = onlyArgument(flags.positionals, `snapshot ${command} requires exactly one argument`);
      await (command === 'status' ? status(file, flags, io) : restore(file, flags, io));
      return 0;
    }
    throw new SnapshotFlagError(`unknown command "${command}" for "cairn snapshot"`);
  } catch (error) {
    if (error instanceof SnapshotCommandError) {
      io.stderr(`Error: ${error.message}\n`);
      if (error instanceof InvalidSnapshotError) io.stderr(`${error.detail}\n`);
      return error.exitCode;
    }
    // A failure of the machine (a full disk, a directory it may not write): its own words, no stack.
    io.stderr(`Error: ${error instanceof Error ? error.message : String(error)}\n`);
    return 1;
  }
}

async function status(file: string, flags: ParsedFlags, io: SnapshotCommandIo): Promise<void> {
  const format = statusFormat(stringFlag(flags, 'write-out'));
  // A cairn image is copied beside the system's temporary files (TMPDIR) and removed after.
  const staging = join(mkdtempSync(join(tmpdir(), 'cairn-snapshot-status-')), 'image');
  try {
    const opened = await openSnapshotFile(file, staging, 'if-present');
    try {
      io.stdout(formatStatus(statusOf(opened), format));
    } finally {
      await opened.source.close();
    }
  } finally {
    rmSync(dirname(staging), { recursive: true, force: true });
  }
}

async function restore(file: string, flags: ParsedFlags, io: SnapshotCommandIo): Promise<void> {
  const name = stringFlag(flags, 'name');
  const dataDir = stringFlag(flags, 'data-dir') || defaultDataDir(name);
  const peerUrls = stringFlag(flags, 'initial-advertise-peer-urls').split(',');
  const plan = planMembership({
    name,
    initialCluster: stringFlag(flags, 'initial-cluster') || `${name}=${peerUrls[0] ?? ''}`,
    initialClusterToken: stringFlag(flags, 'initial-cluster-token'),
    initialAdvertisePeerUrls: peerUrls,
  });
  refuseExistingDataDir(dataDir);
  // A cairn image is copied beside the data directory to be: the restore needs that disk's space anyway.
  const staging = join(dirname(resolve(dataDir)), `.${basename(resolve(dataDir))}.image-${process.pid}`);
  rmSync(staging, { recursive: true, force: true });
  const { format, source } = await openSnapshotFile(file, staging, booleanFlag(flags, 'skip-hash-check') ? 'skip' : 'required');
  try {
    const log = (line: string): void => io.stderr(`${line}\n`);
    const summary = await restoreDataDir(source, { dataDir, name, plan }, io.clock, log);
    io.stderr(
      `restored ${format} snapshot ${file} into ${dataDir}: revision ${source.revision}, ${summary.revisionRecords} revision records, ${summary.leases} leases; ` +
        `member ${name} (${hexId(plan.self.id)}) of new cluster ${hexId(plan.clusterId)}\n`,
    );
  } finally {
    await source.close();
  }
}

/** The four numbers etcdctl prints for the file: computed as etcd computes them for an etcd file (etcd-status.ts), over the lmdb image for a cairn file (status.ts). */
function statusOf(opened: OpenedSnapshot): SnapshotStatus {
  return opened.format === 'etcd' ? etcdSnapshotStatus(opened.source.snapshot.bolt) : snapshotStatus(opened.source);
}

function onlyArgument(positionals: string[], message: string): string {
  const [file] = positionals;
  if (file === undefined || positionals.length !== 1) throw new SnapshotArgumentsError(message);
  return file;
}
