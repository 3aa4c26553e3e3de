/**
 * Safety properties of Raft (Figure 3 of the paper), checked as the simulation runs:
 *
 * - Election Safety: at most one leader per term.
 * - Log Matching: an entry with the same index and term has the same content and the same
 *   predecessor term, in every log, ever (checked whenever a node persists entries); by induction
 *   the whole prefixes are identical.
 * - Leader Completeness: an entry committed by the leader of term U is in the log of every leader
 *   of a term > U (checked when a leader is first seen and whenever something new commits).
 * - State Machine Safety: every node applies the same sequence (a chain hash over the applied
 *   entries, compared index by index with the first node that applied that index).
 * - Durability: a restarted node's persisted commit index only covers committed entries.
 */
import type { Entry, Raft } from '../../server/raft/index.js';
import { hashBytes, mix } from './hash.js';

export class SafetyViolation extends Error {
  override readonly name = 'SafetyViolation';
}

interface Committed {
  term: number;
  /** Term of the leader that first committed it. */
  commitTerm: number;
}

export class SafetyChecker {
  private readonly leaderOfTerm = new Map<number, number>();
  private readonly entryByIndexTerm = new Map<string, string>();
  /** committed[i] for i in 1..committedMax. */
  private readonly committed: Committed[] = [];
  /** Chain hash of the applied sequence up to index i (i = 0 → 0). */
  private readonly chain: number[] = [0];
  committedMax = 0;

  private fail(what: string): never {
    throw new SafetyViolation(what);
  }

  /** Observe a node's role after any step. */
  observe(id: number, raft: Raft): void {
    if (raft.state === 'leader') {
      const known = this.leaderOfTerm.get(raft.term);
      if (known === undefined) {
        this.leaderOfTerm.set(raft.term, id);
        this.checkLeaderHasCommitted(id, raft, 1);
      } else if (known !== id) {
        this.fail(`election safety: nodes ${known} and ${id} are both leaders of term ${raft.term}`);
      }
      if (raft.log.committed > this.committedMax) this.recordCommit(raft);
    }
  }

  private recordCommit(leader: Raft): void {
    const from = this.committedMax + 1;
    for (let i = from; i <= leader.log.committed; i++) {
      const term = leader.log.term(i);
      if (term === undefined) this.fail(`leader ${leader.id} committed index ${i} but has compacted it`);
      this.committed[i] = { term, commitTerm: leader.term };
    }
    this.committedMax = leader.log.committed;
  }

  /** Every leader of a term above an entry's commit term must hold that entry. */
  checkLeaderHasCommitted(id: number, raft: Raft, from: number): void {
    const first = raft.log.firstIndex();
    for (let i = Math.max(from, first); i <= this.committedMax; i++) {
      const c = this.committedAt(i);
      if (c.commitTerm >= raft.term) continue;
      const t = raft.log.term(i);
      if (t !== c.term) {
        this.fail(`leader completeness: leader ${id} of term ${raft.term} has term ${t} at index ${i}, but term ${c.term} was committed there in term ${c.commitTerm}`);
      }
    }
  }

  /** Called after recordCommit from any leader: re-check the other current leaders. */
  checkLeaders(leaders: Array<[number, Raft]>, from: number): void {
    for (const [id, raft] of leaders) this.checkLeaderHasCommitted(id, raft, from);
  }

  /** Log matching, on entries a node has just persisted; prevTerm is its term at index - 1. */
  persisted(id: number, e: Entry, prevTerm: number): void {
    const key = `${e.index}:${e.term}`;
    const value = `${prevTerm}:${e.type}:${hashBytes(e.data)}`;
    const known = this.entryByIndexTerm.get(key);
    if (known === undefined) this.entryByIndexTerm.set(key, value);
    else if (known !== value) this.fail(`log matching: node ${id} persisted index ${e.index} term ${e.term} as ${value}, another node as ${known}`);
  }

  /** State machine safety: returns the node's new chain hash. */
  applied(id: number, e: Entry, previousChain: number, previousIndex: number): number {
    if (e.index !== previousIndex + 1) this.fail(`node ${id} applied index ${e.index} after ${previousIndex}`);
    const h = mix(previousChain, e.index, e.term, e.type, hashBytes(e.data));
    const known = this.chain[e.index];
    if (known === undefined) {
      if (this.chain.length !== e.index) this.fail(`node ${id} applied index ${e.index} but the global sequence ends at ${this.chain.length - 1}`);
      this.chain.push(h);
    } else if (known !== h) {
      this.fail(`state machine safety: node ${id} applied a different entry at index ${e.index} (term ${e.term})`);
    }
    if (e.index > this.committedMax) this.fail(`node ${id} applied index ${e.index} that no leader committed (max ${this.committedMax})`);
    return h;
  }

  /** A snapshot installs state up to index: its chain hash must be the global one. */
  restoredSnapshot(id: number, index: number, chainHash: number): void {
    if (index === 0) return;
    const known = this.chain[index];
    if (known === undefined) this.fail(`node ${id} installed a snapshot at ${index}, beyond anything applied`);
    if (known !== chainHash) this.fail(`state machine safety: node ${id} installed a snapshot at ${index} with a different history`);
  }

  /** Durability after restart: entries up to the persisted commit are the committed ones. */
  restarted(id: number, commit: number, termAt: (i: number) => number | undefined, first: number): void {
    for (let i = Math.max(first, 1); i <= Math.min(commit, this.committedMax); i++) {
      const t = termAt(i);
      const committed = this.committedAt(i);
      if (t !== committed.term) this.fail(`durability: node ${id} restarted with commit ${commit} but term ${t} at index ${i} (committed term ${committed.term})`);
    }
  }

  /** What was committed at i (1 ≤ i ≤ committedMax: recorded for every such index). */
  private committedAt(i: number): Committed {
    const c = this.committed[i];
    if (c === undefined) this.fail(`checker: nothing recorded as committed at index ${i} (committed up to ${this.committedMax})`);
    return c;
  }

  appliedMax(): number {
    return this.chain.length - 1;
  }
}
