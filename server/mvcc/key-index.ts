// KeyIndex keeps the revisions of one key, grouped into generations. A
// generation runs from the key's creation to its deletion (the tombstone);
// deleting and putting the key again starts a new generation.
//
// Worked example (as in etcd's key_index.go). Key "foo":
//   put at 1.0, put at 2.0, delete at 3.0, put at 4.0, delete at 5.0
// gives generations
//   {created 1.0, version 3, revs [1.0 2.0 3.0(tombstone)]}
//   {created 4.0, version 2, revs [4.0 5.0(tombstone)]}
//   {empty}
// Compacting at 2 keeps the newest revision <= 2 of the generation alive at
// 2, so the first generation becomes [2.0 3.0]. Compacting at 3 leaves only
// its tombstone, which is then dropped with its generation, leaving
//   {created 4.0, version 2, revs [4.0 5.0]} {empty}
// Compacting at 5 drops everything; an index left empty is removed.
import { compareRevisions, type Revision } from './revision.js';

const noRevision: Revision = Object.freeze({ main: 0, sub: 0 });
/** Revisions of a generation kept in an array of exactly their number (see appendRevision). */
const exactRevisionsMax = 8;

interface Generation {
  /** Number of puts in this generation, including the tombstone if any. */
  version: number;
  created: Revision;
  revs: Revision[];
}

/** What a read at some revision finds for one key. */
export interface KeyAtRevision {
  modified: Revision;
  created: Revision;
  version: number;
}

export class KeyIndex {
  /** Invariant: the last generation is the live one (empty when deleted). */
  private generations: Generation[] = [];
  private modified: Revision = noRevision;

  constructor(readonly key: string) {}

  isEmpty(): boolean {
    const first = this.generations[0];
    return first === undefined || (this.generations.length === 1 && first.revs.length === 0);
  }

  /** Records a put of this key at `revision`. */
  put(revision: Revision): void {
    if (compareRevisions(revision, this.modified) <= 0) {
      throw new Error(`key index: put at ${fmt(revision)} is not after ${fmt(this.modified)}`);
    }
    const generation = this.liveGeneration();
    if (generation.revs.length === 0) generation.created = revision;
    appendRevision(generation, revision);
    generation.version++;
    this.modified = revision;
  }

  /**
   * Starts a generation from a record read back from the backend: after a
   * compaction its earlier revisions are gone, so the creation revision and
   * version are taken from the stored kv (as etcd's restore does).
   */
  restore(createdMain: number, modified: Revision, version: number): void {
    if (this.isLive()) throw new Error(`key index: restore over a live generation of ${this.key}`);
    const generation = this.liveGeneration();
    generation.created = { main: createdMain, sub: 0 };
    generation.version = version;
    appendRevision(generation, modified);
    this.modified = modified;
  }

  /** Records the deletion of the live generation at `revision`. */
  tombstone(revision: Revision): void {
    if (this.isEmpty()) throw new Error(`key index: tombstone on empty index of ${this.key}`);
    const live = this.generations[this.generations.length - 1];
    if (live === undefined || live.revs.length === 0) throw new Error(`key index: tombstone on deleted key ${this.key}`);
    this.put(revision);
    this.generations = this.generations.concat([emptyGeneration()]); // to size, as appendRevision
  }

  /** Whether the key exists (is not deleted) at the newest revision. */
  isLive(): boolean {
    const live = this.generations[this.generations.length - 1];
    return live !== undefined && live.revs.length > 0;
  }

  /** The newest revision of the key at or below `atMain`, if it is alive there. */
  get(atMain: number): KeyAtRevision | undefined {
    const generation = this.findGeneration(atMain);
    if (generation === undefined) return undefined;
    for (let i = generation.revs.length - 1; i >= 0; i--) {
      const revision = revisionAt(generation.revs, i);
      if (revision.main <= atMain) {
        return { modified: revision, created: generation.created, version: generation.version - (generation.revs.length - 1 - i) };
      }
    }
    return undefined;
  }

  /** All revisions with main in [sinceMain, ∞), one per main (the last sub), oldest first. */
  since(sinceMain: number): Revision[] {
    const found: Revision[] = [];
    let lastMain = -1;
    for (const generation of this.generations) {
      for (const revision of generation.revs) {
        if (revision.main < sinceMain) continue;
        if (revision.main === lastMain) found[found.length - 1] = revision;
        else found.push(revision);
        lastMain = revision.main;
      }
    }
    return found;
  }

  /**
   * Drops revisions older than the newest one at or below `atMain` and adds
   * the revisions still needed to `available` (a tombstone is not needed).
   */
  compact(atMain: number, available: Set<string>): void {
    if (this.isEmpty()) throw new Error(`key index: compact on empty index of ${this.key}`);
    let [generationIndex, revIndex] = this.doCompact(atMain, available);
    const generation = generationAt(this.generations, generationIndex);
    if (generation.revs.length > 0) {
      if (revIndex !== -1) generation.revs = generation.revs.slice(revIndex);
      if (generation.revs.length === 1 && generationIndex !== this.generations.length - 1) {
        available.delete(revisionKey(revisionAt(generation.revs, 0)));
        generationIndex++;
      }
    }
    this.generations = this.generations.slice(generationIndex);
  }

  /** Adds to `available` what compacting at `atMain` would keep, without changing the index. */
  keep(atMain: number, available: Set<string>): void {
    if (this.isEmpty()) return;
    const [generationIndex, revIndex] = this.doCompact(atMain, available);
    const generation = generationAt(this.generations, generationIndex);
    if (generation.revs.length > 0 && revIndex === generation.revs.length - 1 && generationIndex !== this.generations.length - 1) {
      available.delete(revisionKey(revisionAt(generation.revs, revIndex)));
    }
  }

  private doCompact(atMain: number, available: Set<string>): [number, number] {
    let generationIndex = 0;
    while (generationIndex < this.generations.length - 1) {
      // Every generation but the live one ended with its tombstone, so it is not empty.
      const revs = generationAt(this.generations, generationIndex).revs;
      if (revisionAt(revs, revs.length - 1).main > atMain) break;
      generationIndex++;
    }
    const revs = generationAt(this.generations, generationIndex).revs;
    for (let i = revs.length - 1; i >= 0; i--) {
      const revision = revisionAt(revs, i);
      if (revision.main <= atMain) {
        available.add(revisionKey(revision));
        return [generationIndex, i];
      }
    }
    return [generationIndex, -1];
  }

  /** The generation alive at `atMain`, if any. */
  private findGeneration(atMain: number): Generation | undefined {
    for (let i = this.generations.length - 1; i >= 0; i--) {
      const generation = generationAt(this.generations, i);
      const tombstone = generation.revs[generation.revs.length - 1];
      if (tombstone === undefined) continue;
      // A generation that ended at or before atMain is dead at atMain.
      if (i !== this.generations.length - 1 && tombstone.main <= atMain) return undefined;
      if (revisionAt(generation.revs, 0).main <= atMain) return generation;
    }
    return undefined;
  }

  /** The last generation, started empty if there is none yet. */
  private liveGeneration(): Generation {
    const live = this.generations[this.generations.length - 1];
    if (live !== undefined) return live;
    const generation = emptyGeneration();
    this.generations = [generation];
    return generation;
  }
}

/** generations[i] for an i the caller keeps in range; a miss means the index is corrupt. */
function generationAt(generations: readonly Generation[], i: number): Generation {
  const generation = generations[i];
  if (generation === undefined) throw new Error(`key index: generation ${i} of ${generations.length} read out of range`);
  return generation;
}

/** revs[i] for an i the caller keeps in range; a miss means the index is corrupt. */
function revisionAt(revs: readonly Revision[], i: number): Revision {
  const revision = revs[i];
  if (revision === undefined) throw new Error(`key index: revision ${i} of ${revs.length} read out of range`);
  return revision;
}

/** A revision as a map key. */
export function revisionKey(revision: Revision): string {
  return `${revision.main}_${revision.sub}`;
}

/**
 * A key index lives as long as its key, and most keys have a revision or two:
 * short arrays are copied to size (concat), since push reserves 17 or more
 * slots (~150 bytes); longer ones grow by push, as copying them would cost
 * O(n) per put.
 */
function appendRevision(generation: Generation, revision: Revision): void {
  if (generation.revs.length < exactRevisionsMax) generation.revs = generation.revs.concat([revision]);
  else generation.revs.push(revision);
}

function emptyGeneration(): Generation {
  return { version: 0, created: noRevision, revs: [] };
}

function fmt(revision: Revision): string {
  return `${revision.main}.${revision.sub}`;
}
