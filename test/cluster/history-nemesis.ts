// The nemesis of the linearizability test: injects faults into a running
// cluster one after another, each aimed at the member that is leader at that
// moment (or at a follower), and undoes each before the next. It never leaves a
// fault in place when it returns or throws: a paused member is resumed, the
// network healed; a killed member is restarted unless the nemesis was stopped
// (the cluster is then about to be destroyed).
import type { Cluster, ClusterMember } from '../harness/cluster.js';
import type { StopSignal } from './history-workload.js';

export const faultKinds = ['kill-leader', 'pause-leader', 'isolate-leader', 'kill-follower'] as const;
export type FaultKind = (typeof faultKinds)[number];

export interface InjectedFault {
  readonly kind: FaultKind;
  readonly member: string;
  /** On the history's clock (HistoryRecorder.elapsedMs). */
  readonly startMs: number;
  /** When the fault was undone: the member resumed, healed, or restarted and answering a linearizable Range. */
  readonly endMs: number;
}

export interface NemesisOptions {
  readonly cluster: Cluster;
  readonly faults: readonly FaultKind[];
  /** Time between one fault's end and the next one's start. */
  readonly gapMs: number;
  /** How long a killed member stays down before it is restarted. */
  readonly killDownMs: number;
  /** SIGSTOP → SIGCONT. */
  readonly pauseMs: number;
  /** isolate → heal. */
  readonly isolateMs: number;
  readonly leaderDeadlineMs: number;
  /** The history's clock, in ms. */
  readonly clockMs: () => number;
  readonly stop: StopSignal;
}

/** Injects `faults` in order; resolves with those injected (fewer when stopped). */
export async function runNemesis(options: NemesisOptions): Promise<InjectedFault[]> {
  const injected: InjectedFault[] = [];
  for (const kind of options.faults) {
    await options.stop.sleep(options.gapMs);
    if (options.stop.stopped) break;
    const leader = await options.cluster.leader(options.leaderDeadlineMs);
    const target = kind === 'kill-follower' ? followerOf(options.cluster, leader) : leader;
    const startMs = options.clockMs();
    await inject(kind, target, options);
    injected.push({ kind, member: target.name, startMs, endMs: options.clockMs() });
  }
  return injected;
}

async function inject(kind: FaultKind, target: ClusterMember, options: NemesisOptions): Promise<void> {
  const { stop } = options;
  switch (kind) {
    case 'kill-leader':
    case 'kill-follower':
      await target.kill9();
      await stop.sleep(options.killDownMs);
      if (!stop.stopped) await target.restart();
      return;
    case 'pause-leader':
      target.pause();
      try {
        await stop.sleep(options.pauseMs);
      } finally {
        target.resume();
      }
      return;
    case 'isolate-leader': {
      const network = options.cluster.network;
      if (network === undefined) throw new Error('isolate-leader needs a cluster started with faultNetwork: true');
      network.isolate(target.name);
      try {
        await stop.sleep(options.isolateMs);
      } finally {
        network.heal();
      }
      return;
    }
  }
}

function followerOf(cluster: Cluster, leader: ClusterMember): ClusterMember {
  const follower = cluster.members.find((member) => member !== leader && member.running());
  if (follower === undefined) throw new Error(`no running follower besides the leader ${leader.name}`);
  return follower;
}
