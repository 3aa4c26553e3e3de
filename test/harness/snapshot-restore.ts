// `cairn snapshot restore` for process-level tests: the command line that
// restores one member of a new cluster, and a ClusterOptions.seedDataDirs
// that restores every member of the cluster from one snapshot file.
import type { ClusterSeed } from './cluster.js';
import { runCairn } from './command.js';
import { must0 } from './must.js';

/** A restore takes well under a second for the tests' files; a slow, busy machine gets this long. */
const restoreTimeoutMs = 60_000;

export interface RestoredMember {
  name: string;
  dataDir: string;
  peerUrl: string;
}

/** `cairn snapshot restore FILE` with the flags that make `member` one of the new cluster `initialCluster`. */
export function restoreArgs(file: string, member: RestoredMember, initialCluster: string, token: string): string[] {
  return ['snapshot', 'restore', file, '--name', member.name, '--data-dir', member.dataDir, '--initial-cluster', initialCluster, '--initial-cluster-token', token, '--initial-advertise-peer-urls', member.peerUrl];
}

/** Restores `member` as the only member of a new cluster (token `token`); fails the test unless cairn exits 0. */
export function restoreSolo(file: string, member: RestoredMember, token: string): ReturnType<typeof must0> {
  return must0(runCairn(restoreArgs(file, member, `${member.name}=${member.peerUrl}`, token), { timeoutMs: restoreTimeoutMs }), `restore ${member.name}`);
}

/** A seedDataDirs that restores every member's data directory from `file`. */
export function restoreEveryMember(file: string): (seed: ClusterSeed) => Promise<void> {
  return async ({ members, initialCluster, token }) => {
    for (const member of members) await must0(runCairn(restoreArgs(file, member, initialCluster, token), { timeoutMs: restoreTimeoutMs }), `restore ${member.name}`);
  };
}
