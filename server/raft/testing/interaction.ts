/**
 * The environment of the data-driven interaction tests (testdata/*.txt, run by
 * interaction.test.ts), in the style of etcd-io/raft's rafttest: a script drives real RawNodes one
 * command at a time and every command prints what happened, so a test file reads as a transcript.
 *
 * Commands (arguments are positional, options key=value):
 *
 *   add-nodes N [prevote=true] [checkquorum=true] [forwarding=true] [inflight=256] [maxsize=bytes]
 *                               create nodes 1..N, all voters; each starts as a follower
 *   campaign ID                 ID starts an election now (MsgHup)
 *   tick ID [N]                 N ticks of ID's logical clock
 *   tick-election ID            tick until ID's randomized election timeout elapses
 *   propose ID DATA             a proposal at ID
 *   propose-conf-change ID add-node|add-learner|remove-node TARGET
 *   read-index ID CONTEXT       a ReadIndex request at ID
 *   transfer-leader ID TARGET   ask leader ID to hand leadership to TARGET
 *   compact ID INDEX            ID snapshots its state at INDEX and drops the entries before it
 *   isolate ID / heal           cut every link of ID / restore every link
 *   stabilize                   handle Readies and deliver messages until nothing moves
 *   status                      one line per node: role, term, lead, commit, applied, last index
 *   raft-log ID                 ID's stable log
 *
 * Handling a Ready follows the caller's duties: persist (snapshot, entries, hard state), then queue
 * the messages for delivery, then apply, then advance.
 */
import { decodeConfChange, ConfChangeType, type ConfChange } from '../conf-change.js';
import { UnknownPeerError } from '../errors.js';
import { MemoryStorage } from '../memory-storage.js';
import { SeededRandom } from '../random.js';
import { RawNode, type Ready } from '../rawnode.js';
import { EntryType, MessageType, type Entry, type Message } from '../types.js';

export interface Command {
  readonly name: string;
  readonly args: readonly string[];
  readonly options: ReadonlyMap<string, string>;
}

interface EnvNode {
  readonly node: RawNode;
  readonly storage: MemoryStorage;
  inbox: Message[];
}

const encoder = new TextEncoder();
const decoder = new TextDecoder();

export class InteractionEnv {
  private readonly nodes = new Map<number, EnvNode>();
  private readonly isolated = new Set<number>();

  /** Run one command and return its output (never empty, never containing a blank line). */
  handle(cmd: Command): string {
    const out: string[] = [];
    const id = (i: number) => this.id(cmd.args[i]);
    switch (cmd.name) {
      case 'add-nodes': this.addNodes(Number(cmd.args[0]), cmd.options, out); break;
      case 'campaign': this.get(id(0)).node.campaign(); break;
      case 'tick': for (let i = 0; i < Number(cmd.args[1] ?? '1'); i++) this.get(id(0)).node.tick(); break;
      case 'tick-election': this.tickElection(id(0)); break;
      case 'propose': this.catching(out, () => this.get(id(0)).node.propose(encoder.encode(cmd.args[1]))); break;
      case 'propose-conf-change': {
        const cc: ConfChange = { type: parseConfChangeType(cmd.args[1]), nodeId: id(2) };
        this.catching(out, () => this.get(id(0)).node.proposeConfChange(cc));
        break;
      }
      case 'read-index': this.get(id(0)).node.readIndex(requiredArg(cmd, 1, 'a read-index context')); break;
      case 'transfer-leader': this.get(id(0)).node.transferLeader(id(1)); break;
      case 'compact': this.compact(id(0), Number(cmd.args[1]), out); break;
      case 'isolate': this.isolated.add(id(0)); break;
      case 'heal': this.isolated.clear(); break;
      case 'stabilize': this.stabilize(out); break;
      case 'status': for (const [nid, n] of this.nodes) out.push(`${nid}: ${statusLine(n.node)}`); break;
      case 'raft-log': this.raftLog(id(0), out); break;
      default: throw new Error(`unknown command ${cmd.name}`);
    }
    return out.length === 0 ? 'ok' : out.join('\n');
  }

  private id(arg: string | undefined): number {
    const n = Number(arg);
    if (!Number.isSafeInteger(n) || n <= 0) throw new Error(`expected a node id, got ${arg}`);
    return n;
  }

  private get(id: number): EnvNode {
    const n = this.nodes.get(id);
    if (n === undefined) throw new Error(`no node ${id}`);
    return n;
  }

  private addNodes(count: number, options: ReadonlyMap<string, string>, out: string[]): void {
    const ids = Array.from({ length: count }, (_, i) => i + 1);
    const flag = (k: string, dflt: boolean) => (options.has(k) ? options.get(k) === 'true' : dflt);
    for (const id of ids) {
      const storage = new MemoryStorage(ids);
      const node = new RawNode({
        id, storage, electionTicks: 10, heartbeatTicks: 1, random: new SeededRandom(id),
        preVote: flag('prevote', false), checkQuorum: flag('checkquorum', false),
        disableProposalForwarding: !flag('forwarding', true),
        maxInflightMsgs: Number(options.get('inflight') ?? '256'),
        maxSizePerMsgBytes: Number(options.get('maxsize') ?? String(1024 * 1024)),
      });
      this.nodes.set(id, { node, storage, inbox: [] });
      out.push(`${id}: ${statusLine(node)}`);
    }
  }

  private tickElection(id: number): void {
    const r = this.get(id).node.raft;
    const ticks = Math.max(1, r.randomizedElectionTimeout - r.electionElapsed);
    for (let i = 0; i < ticks; i++) this.get(id).node.tick();
  }

  private catching(out: string[], fn: () => void): void {
    try {
      fn();
    } catch (e) {
      if (!(e instanceof Error) || !e.name.endsWith('Error') || e.name === 'RaftInvariantError') throw e;
      out.push(`${e.name}: ${e.message}`);
    }
  }

  private compact(id: number, index: number, out: string[]): void {
    const n = this.get(id);
    n.storage.createSnapshot(index, n.node.raft.tracker.confState(), encoder.encode(`snapshot@${index}`));
    n.storage.compact(index);
    out.push(`${id}: first index ${n.storage.firstIndex()}, snapshot at ${index} term ${n.storage.snapshot().metadata.term}`);
  }

  private raftLog(id: number, out: string[]): void {
    const s = this.get(id).storage;
    const ents = s.lastIndex() >= s.firstIndex() ? s.entries(s.firstIndex(), s.lastIndex() + 1, Number.MAX_SAFE_INTEGER) : [];
    if (ents.length === 0) out.push(`log is empty: first index ${s.firstIndex()}, last index ${s.lastIndex()}`);
    for (const e of ents) out.push(describeEntry(e));
  }

  /** Handle Readies, then deliver every queued message, until neither produces anything. */
  private stabilize(out: string[]): void {
    for (let round = 0; round < 100; round++) {
      let moved = false;
      for (const [id, n] of this.nodes) {
        if (!n.node.hasReady()) continue;
        moved = true;
        this.handleReady(id, n, out);
      }
      for (const [id, n] of this.nodes) {
        if (n.inbox.length === 0) continue;
        moved = true;
        const inbox = n.inbox;
        n.inbox = [];
        out.push(`> ${id} receiving messages`);
        for (const m of inbox) {
          out.push(`  ${describeMessage(m)}`);
          try {
            n.node.step(m);
          } catch (e) {
            if (!(e instanceof UnknownPeerError)) throw e;
            out.push(`  ignored: ${e.message}`);
          }
        }
      }
      if (!moved) return;
    }
    throw new Error('stabilize: still moving after 100 rounds');
  }

  private handleReady(id: number, n: EnvNode, out: string[]): void {
    const rd = n.node.ready();
    out.push(`> ${id} handling Ready`);
    describeReady(rd, out);
    if (rd.snapshot !== undefined) n.storage.applySnapshot(rd.snapshot);
    n.storage.append(rd.entries);
    if (rd.hardState !== undefined) n.storage.setHardState(rd.hardState);
    for (const m of rd.messages) {
      if (this.isolated.has(m.from) || this.isolated.has(m.to)) {
        out.push(`  dropped: ${describeMessage(m)}`);
        continue;
      }
      const to = this.nodes.get(m.to);
      if (to !== undefined) to.inbox.push(m);
      if (m.type === MessageType.Snap) n.node.reportSnapshot(m.to, false);
    }
    for (const e of rd.committedEntries) {
      if (e.type === EntryType.ConfChange) {
        const cs = n.node.applyConfChange(decodeConfChange(e.data));
        out.push(`  applied conf change: voters=[${cs.voters.join(',')}] learners=[${cs.learners.join(',')}]`);
      }
    }
    n.node.advance(rd);
  }
}

function requiredArg(cmd: Command, i: number, what: string): string {
  const arg = cmd.args[i];
  if (arg === undefined) throw new Error(`${cmd.name}: expected ${what} as argument ${i + 1}`);
  return arg;
}

function parseConfChangeType(s: string | undefined): ConfChangeType {
  for (const t of Object.values(ConfChangeType)) if (t === s) return t;
  throw new Error(`unknown conf change type ${s}`);
}

function statusLine(node: RawNode): string {
  const s = node.status();
  return `${s.softState.state} term=${s.hardState.term} vote=${s.hardState.vote} lead=${s.softState.lead} commit=${s.hardState.commit} applied=${s.applied} last=${s.lastIndex}`;
}

function describeEntry(e: Entry): string {
  if (e.type === EntryType.ConfChange) {
    const cc = decodeConfChange(e.data);
    return `${e.term}/${e.index} ConfChange ${cc.type} ${cc.nodeId}`;
  }
  return `${e.term}/${e.index} Normal "${decoder.decode(e.data)}"`;
}

function describeMessage(m: Message): string {
  let s = `${m.from}->${m.to} ${m.type} Term:${m.term}`;
  if (m.type === MessageType.App || m.type === MessageType.Vote || m.type === MessageType.PreVote) s += ` Log:${m.logTerm}/${m.index}`;
  if (m.type === MessageType.AppResp || m.type === MessageType.ReadIndexResp) s += ` Index:${m.index}`;
  if (m.commit > 0 || m.type === MessageType.App || m.type === MessageType.Heartbeat) s += ` Commit:${m.commit}`;
  if (m.reject) s += ` Rejected (Hint: ${m.rejectHint}/${m.logTerm})`;
  if (m.entries.length > 0) s += ` Entries:[${m.entries.map(describeEntry).join(', ')}]`;
  if (m.snapshot !== undefined) {
    const md = m.snapshot.metadata;
    s += ` Snapshot: Index:${md.index} Term:${md.term} voters=[${md.confState.voters.join(',')}]`;
  }
  if (m.context !== '') s += ` Context:${m.context}`;
  return s;
}

function describeReady(rd: Ready, out: string[]): void {
  const lines: string[] = [];
  if (rd.softState !== undefined) lines.push(`State:${rd.softState.state} Lead:${rd.softState.lead}`);
  if (rd.hardState !== undefined) lines.push(`HardState Term:${rd.hardState.term} Vote:${rd.hardState.vote} Commit:${rd.hardState.commit}`);
  if (rd.snapshot !== undefined) lines.push(`Snapshot Index:${rd.snapshot.metadata.index} Term:${rd.snapshot.metadata.term}`);
  if (rd.entries.length > 0) lines.push('Entries:', ...rd.entries.map((e) => `  ${describeEntry(e)}`));
  if (rd.committedEntries.length > 0) lines.push('CommittedEntries:', ...rd.committedEntries.map((e) => `  ${describeEntry(e)}`));
  if (rd.messages.length > 0) lines.push('Messages:', ...rd.messages.map((m) => `  ${describeMessage(m)}`));
  if (rd.readStates.length > 0) lines.push('ReadStates:', ...rd.readStates.map((r) => `  Index:${r.index} Context:${r.context}`));
  out.push(...lines.map((l) => `  ${l}`));
}
