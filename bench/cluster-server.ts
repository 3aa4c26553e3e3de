// One cluster of one kind for the cluster benchmark: started through the test
// harness (startCluster, the same flags for cairn and etcd), registered for
// cleanup while it lives, and always stopped and removed before the benchmark
// moves on — normal return, error, Ctrl-C or SIGTERM.
import { startCluster, type Cluster } from '../test/harness/cluster.js';
import { onCleanup } from './cleanup.js';
import type { TargetKind } from './flags.js';

const memberOutputTailChars = 1_500;

export interface ClusterShape {
  size: number;
  args: string[];
}

/** The last characters each member wrote (stdout and stderr), by member name; members that wrote nothing are left out. */
export function memberOutputTails(cluster: Cluster): Record<string, string> {
  const tails: Record<string, string> = {};
  for (const member of cluster.members) {
    const output = member.output().trim();
    if (output !== '') tails[member.name] = output.slice(-memberOutputTailChars);
  }
  return tails;
}

function describeTails(tails: Record<string, string>): string {
  return Object.entries(tails).map(([name, tail]) => `--- ${name} output (last ${memberOutputTailChars} chars) ---\n${tail}`).join('\n');
}

/**
 * Starts a fresh cluster of `kind`, runs `use` against it, and destroys it
 * whatever happens. A failure carries the tail of every member's output.
 */
export async function withCluster<T>(kind: TargetKind, shape: ClusterShape, use: (cluster: Cluster) => Promise<T>): Promise<T> {
  const cluster = await startCluster(kind, { size: shape.size, args: shape.args });
  const destroyCluster = onCleanup(async () => {
    // A graceful stop first, so a member run under a profiler (CAIRN_NODE_ARGS=--cpu-prof) writes its profile.
    await Promise.all(cluster.members.map((member) => member.stop()));
    await cluster.destroy();
  });
  try {
    return await use(cluster);
  } catch (error) {
    throw new Error(`${kind}: ${(error as Error).message}\n${describeTails(memberOutputTails(cluster))}`, { cause: error });
  } finally {
    await destroyCluster();
  }
}
