/**
 * In-process throughput of the Raft core: entries committed per second on a 3-node cluster of
 * RawNodes in one process, no faults, no disk (MemoryStorage), messages delivered in FIFO order.
 * It measures the core's CPU cost per entry (what the state machine itself can sustain), not a
 * deployment's throughput, which fsync and the network bound.
 *
 *   npm run build && node dist/bench/raft-throughput.js [--seconds 5] [--batch 64] [--size 128]
 */
import { MemoryStorage, RawNode, SeededRandom, type Message } from '../server/raft/index.js';

interface Peer {
  node: RawNode;
  storage: MemoryStorage;
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
for (const id of ids) {
  const storage = new MemoryStorage(ids);
  peers.set(id, { storage, applied: 0, node: new RawNode({ id, storage, electionTicks: 10, heartbeatTicks: 1, random: new SeededRandom(id), maxInflightMsgs: 256 }) });
}

/** Persist, send, apply, advance for every node until nothing is left to do. */
function stabilize(): void {
  let queue: Message[] = [];
  for (;;) {
    for (const p of peers.values()) {
      if (!p.node.hasReady()) continue;
      const rd = p.node.ready();
      p.storage.append(rd.entries);
      if (rd.hardState !== undefined) p.storage.setHardState(rd.hardState);
      for (const m of rd.messages) queue.push(m);
      if (rd.committedEntries.length > 0) p.applied = rd.committedEntries[rd.committedEntries.length - 1].index;
      p.node.advance(rd);
    }
    if (queue.length === 0) return;
    const delivering = queue;
    queue = [];
    for (const m of delivering) peers.get(m.to)!.node.step(m);
  }
}

const leader = peers.get(1)!;
leader.node.campaign();
stabilize();
const payload = new Uint8Array(sizeBytes);
const startApplied = leader.applied;
const started = performance.now();
let rounds = 0;
while (performance.now() - started < seconds * 1000) {
  for (let i = 0; i < batch; i++) leader.node.propose(payload);
  stabilize();
  rounds++;
  // Keep memory flat: compact what everyone applied.
  if (rounds % 64 === 0) {
    for (const p of peers.values()) {
      const upTo = p.applied - 1;
      if (upTo > p.storage.firstIndex()) {
        p.storage.createSnapshot(upTo, { voters: ids, learners: [] }, new Uint8Array(0));
        p.storage.compact(upTo);
      }
    }
  }
}
const elapsed = (performance.now() - started) / 1000;
const committed = Math.min(...[...peers.values()].map((p) => p.applied)) - startApplied;
console.log(JSON.stringify({
  bench: 'raft-throughput', nodes: 3, batch, entrySizeBytes: sizeBytes, seconds: Number(elapsed.toFixed(2)),
  entriesCommitted: committed, entriesCommittedPerSecond: Math.round(committed / elapsed),
}));
