/**
 * A tiny synchronous cluster for unit tests of the Raft core (test support only; the randomized
 * fault-injecting cluster is test/sim). Messages are delivered in FIFO order until quiescence;
 * links can be cut. Each node persists its Ready into a MemoryStorage and records what it applied.
 */
import { decodeConfChange } from '../conf-change.js';
import { UnknownPeerError } from '../errors.js';
import type { RaftConfig } from '../config.js';
import { MemoryStorage } from '../memory-storage.js';
import { SeededRandom } from '../random.js';
import { RawNode } from '../rawnode.js';
import { EntryType, MessageType, type Entry, type Message } from '../types.js';

export interface TestPeer {
  node: RawNode;
  storage: MemoryStorage;
  applied: Entry[];
}

export class TestNetwork {
  readonly peers = new Map<number, TestPeer>();
  private readonly cut = new Set<string>();
  /** Every message delivered, for assertions on traffic. */
  readonly delivered: Message[] = [];
  private readonly dropTypes = new Set<string>();

  constructor(ids: number[], overrides: Partial<RaftConfig> = {}, seed = 1) {
    for (const id of ids) this.add(id, new MemoryStorage(ids), overrides, seed);
  }

  add(id: number, storage: MemoryStorage, overrides: Partial<RaftConfig> = {}, seed = 1): TestPeer {
    const node = new RawNode({
      id, storage, electionTicks: 10, heartbeatTicks: 1, random: new SeededRandom(seed * 1000 + id), ...overrides,
    });
    const peer = { node, storage, applied: [] };
    this.peers.set(id, peer);
    return peer;
  }

  peer(id: number): TestPeer {
    const p = this.peers.get(id);
    if (p === undefined) throw new Error(`no peer ${id}`);
    return p;
  }

  raft(id: number) {
    return this.peer(id).node.raft;
  }

  isolate(id: number): void {
    for (const other of this.peers.keys()) {
      if (other === id) continue;
      this.cut.add(`${id}->${other}`);
      this.cut.add(`${other}->${id}`);
    }
  }

  cutLink(from: number, to: number): void {
    this.cut.add(`${from}->${to}`);
  }

  heal(): void {
    this.cut.clear();
    this.dropTypes.clear();
  }

  dropType(type: string): void {
    this.dropTypes.add(type);
  }

  /** Process one node's Ready: persist, then collect messages, then apply, then advance. */
  private drain(peer: TestPeer): Message[] {
    const rd = peer.node.ready();
    if (rd.snapshot !== undefined) peer.storage.applySnapshot(rd.snapshot);
    peer.storage.append(rd.entries);
    if (rd.hardState !== undefined) peer.storage.setHardState(rd.hardState);
    for (const e of rd.committedEntries) {
      peer.applied.push(e);
      if (e.type === EntryType.ConfChange) peer.node.applyConfChange(decodeConfChange(e.data));
    }
    peer.node.advance(rd);
    return rd.messages;
  }

  /** Deliver everything until no node has anything to do. Returns the number of messages. */
  stabilize(maxRounds = 1000): number {
    let count = 0;
    for (let round = 0; round < maxRounds; round++) {
      const queue: Message[] = [];
      for (const peer of this.peers.values()) if (peer.node.hasReady()) queue.push(...this.drain(peer));
      if (queue.length === 0) return count;
      for (const m of queue) {
        if (this.cut.has(`${m.from}->${m.to}`) || this.dropTypes.has(m.type)) continue;
        const to = this.peers.get(m.to);
        if (to === undefined) continue;
        this.delivered.push(m);
        count++;
        try {
          to.node.step(m);
        } catch (e) {
          if (!(e instanceof UnknownPeerError)) throw e; // a response from a removed member
        }
      }
    }
    throw new Error('network did not stabilize');
  }

  tick(id: number, n = 1): void {
    for (let i = 0; i < n; i++) this.peer(id).node.tick();
  }

  tickAll(n: number): void {
    for (let i = 0; i < n; i++) {
      for (const p of this.peers.values()) p.node.tick();
      this.stabilize();
    }
  }

  campaign(id: number): void {
    this.peer(id).node.campaign();
    this.stabilize();
  }

  propose(id: number, text: string): void {
    this.peer(id).node.propose(new TextEncoder().encode(text));
    this.stabilize();
  }

  leaders(): number[] {
    return [...this.peers.entries()].filter(([, p]) => p.node.raft.state === 'leader').map(([id]) => id);
  }

  appliedTexts(id: number): string[] {
    return this.peer(id).applied.filter((e) => e.data.length > 0 && e.type === EntryType.Normal).map((e) => new TextDecoder().decode(e.data));
  }

  sent(type: string): Message[] {
    return this.delivered.filter((m) => m.type === type);
  }
}

export { MessageType };
