/**
 * In-process throughput of the Raft core under the server's node loop: entries committed per
 * second on a 3-node cluster of NodeLoops (server/node/loop.ts) in one process, no faults, no disk
 * (every sync completes at once), messages delivered in FIFO order, time virtual. It measures the
 * CPU cost per entry of the core and the loop (what they can sustain), not a deployment's
 * throughput, which fsync and the network bound.
 *
 *   npm run build && node dist/bench/raft-throughput.js [--seconds 5] [--batch 64] [--size 128]
 */
import { NodeLoop, type LogStorage } from '../server/node/loop.js';
import { MemoryStorage, SeededRandom, type Entry, type HardState, type Message, type Snapshot } from '../server/raft/index.js';
import { SimClock } from '../test/sim/clock.js';

/** A log whose syncs complete at once: the bench measures CPU, not disks. */
class InstantLog implements LogStorage {
  readonly storage: MemoryStorage;

  constructor(voters: number[]) {
    this.storage = new MemoryStorage(voters);
  }

  write(entries: readonly Entry[], hardState: HardState | undefined): void {
    this.storage.append(entries);
    if (hardState !== undefined) this.storage.setHardState(hardState);
  }

  sync(done: (error?: Error) => void): void {
    done();
  }

  installSnapshot(snapshot: Snapshot): void {
    this.storage.applySnapshot(snapshot);
  }
}

interface Peer {
  loop: NodeLoop;
  clock: SimClock;
  log: InstantLog;
  applied: number;
}

function arg(name: string, fallback: number): number {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? Number(process.argv[i + 1]) : fallback;
}

const seconds = arg('seconds', 5);
const batch = arg('batch', 64);
const sizeBytes = arg('size', 128);
const ids = [1, 2, 3];
const peers = new Map<number, Peer>();
let queue: Message[] = [];
for (const id of ids) {
  const log = new InstantLog(ids);
  const clock = new SimClock();
  const peer: Peer = { log, clock, applied: 0, loop: undefined as unknown as NodeLoop };
  peer.loop = new NodeLoop(
    {
      clock,
      sender: { send: (messages) => queue.push(...messages) },
      log,
      stateMachine: {
        apply: (entries) => {
          const last = entries[entries.length - 1];
          if (last !== undefined) peer.applied = last.index;
        },
        install: (_snapshot, done) => done(),
        // Keep memory flat: compact what this member applied.
        checkpoint: (appliedIndex, confState) => {
          const upTo = appliedIndex - 1;
          if (upTo - log.storage.firstIndex() < 4096) return;
          log.storage.createSnapshot(upTo, confState, new Uint8Array(0));
          log.storage.compact(upTo);
        },
      },
      events: { beforeReady: () => {}, roleChanged: () => {}, applied: () => {}, fatal: (error) => { throw error; } },
    },
    { id, tickMs: 100, electionTicks: 10, heartbeatTicks: 1, random: new SeededRandom(id), applied: 0, maxSizePerMsgBytes: 1024 * 1024, maxInflightMsgs: 256 },
  );
  peers.set(id, peer);
}

/** Runs every member's queued turns and delivers messages until nothing is left to do. */
function stabilize(): void {
  for (;;) {
    for (const p of peers.values()) p.clock.drain();
    if (queue.length === 0) return;
    const delivering = queue;
    queue = [];
    for (const m of delivering) peers.get(m.to)?.loop.step(m);
  }
}

const leader = peers.get(1);
if (leader === undefined) throw new Error('no member 1');
leader.loop.campaign();
stabilize();
const payload = new Uint8Array(sizeBytes);
const startApplied = leader.applied;
const started = performance.now();
while (performance.now() - started < seconds * 1000) {
  for (let i = 0; i < batch; i++) leader.loop.propose(payload);
  stabilize();
}
const elapsed = (performance.now() - started) / 1000;
const committed = Math.min(...[...peers.values()].map((p) => p.applied)) - startApplied;
console.log(JSON.stringify({
  bench: 'raft-throughput', nodes: 3, batch, entrySizeBytes: sizeBytes, seconds: Number(elapsed.toFixed(2)),
  entriesCommitted: committed, entriesCommittedPerSecond: Math.round(committed / elapsed),
}));
