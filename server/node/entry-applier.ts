// The member's state machine, as the node loop sees it: committed entries go
// into the MVCC backend (one backend transaction per batch) and into the
// membership; snapshots are taken and installed through snapshots.ts.
import type { InternalRequest } from '../../proto/gen/cairnpb/internal.js';
import type { ApplyResponse, ApplyResult, Applier } from '../apply/applier.js';
import type { Membership } from '../membership/membership.js';
import type { Backend } from '../mvcc/backend.js';
import type { MvccStore, RevisionChanges } from '../mvcc/store.js';
import { EntryType, type ConfState, type Entry, type Snapshot } from '../raft/index.js';
import { committedConfChange, committedRequest } from './entry-payloads.js';
import type { ConfChangeTarget, StateMachine } from './loop.js';
import type { Proposals } from './proposals.js';
import type { Snapshots } from './snapshots.js';
import type { Clock } from '../clock.js';
import type { NodeObserver } from './observer.js';

export interface EntryApplierParts {
  store: MvccStore;
  backend: Backend;
  applier: Applier;
  membership: Membership;
  snapshots: Snapshots;
  proposals: Proposals;
  clock: Clock;
  observer: NodeObserver;
}

export interface EntryApplierEvents {
  /** Changes of each applied batch, after the backend committed them (the watch hub). */
  changes(changes: RevisionChanges[]): void;
  /** The membership changed (applied, or installed with a snapshot). */
  membershipChanged(): void;
  /** Whether the member stopped (a snapshot is then not recorded). */
  stopped(): boolean;
}

export class EntryApplier implements StateMachine {
  constructor(private readonly parts: EntryApplierParts, private readonly events: EntryApplierEvents) {}

  /**
   * Applies committed entries in one backend transaction. Entries the
   * backend already holds (redelivered after a restart or a snapshot) only
   * replay their membership change into the core.
   */
  apply(entries: readonly Entry[], core: ConfChangeTarget): void {
    const { store, membership, proposals } = this.parts;
    const answers: Array<[bigint, ApplyResult]> = [];
    const confAnswers: Array<[bigint, Error | undefined]> = [];
    let membershipChanged = false;
    const startMs = this.parts.clock.nowMs();
    this.parts.backend.transaction(() => {
      // The consistent index is stored once, for the batch's last fresh entry: in the batch's own
      // transaction, so a crash leaves the data and the index of the same batch (or neither).
      const appliedBefore = store.consistentIndex;
      let lastFresh = 0;
      for (const entry of entries) {
        const fresh = entry.index > appliedBefore;
        if (entry.type === EntryType.ConfChange) {
          const { cc, context } = committedConfChange(entry);
          const refused = fresh ? membership.applyConfChange(cc, context.member) : undefined;
          core.applyConfChange(cc);
          membershipChanged = true;
          if (context.requestId !== 0n) confAnswers.push([context.requestId, refused]);
        } else if (fresh && entry.data.length > 0) {
          const request = proposals.take(entry.data) ?? committedRequest(entry);
          const appliedFromMs = this.parts.clock.nowMs();
          const traced = proposals.traceApply(request.id);
          const result = this.applyRequest(request, entry.index);
          traced?.();
          this.parts.observer.requestApplied(request, this.parts.clock.nowMs() - appliedFromMs);
          if (result.membership) membershipChanged = true;
          answers.push([request.id, result.result]);
        }
        if (fresh) lastFresh = entry.index;
      }
      if (lastFresh > 0) store.setConsistentIndex(lastFresh);
    });
    this.parts.observer.backendCommitted(this.parts.clock.nowMs() - startMs);
    this.events.changes(store.takeChanges());
    proposals.answer(answers);
    proposals.answerConfChanges(confAnswers);
    if (membershipChanged) this.events.membershipChanged();
  }

  install(snapshot: Snapshot, done: (error?: Error) => void): void {
    this.parts.snapshots.install(snapshot).then(
      () => {
        this.events.membershipChanged();
        done();
      },
      (error: Error) => done(error),
    );
  }

  checkpoint(appliedIndex: number, confState: ConfState): void {
    this.parts.snapshots.maybeTake(appliedIndex, confState, () => this.events.stopped());
  }

  private applyRequest(request: InternalRequest, index: number): { result: ApplyResult; membership: boolean } {
    const { membership } = this.parts;
    if (request.memberAttributes !== undefined) {
      const attributes = request.memberAttributes;
      membership.setAttributes(attributes.memberId, attributes.name, attributes.clientUrls);
      return { result: { ok: true, response: {} as ApplyResponse }, membership: true };
    }
    if (request.memberPeerUrls !== undefined) {
      const refused = membership.setPeerUrls(request.memberPeerUrls.memberId, request.memberPeerUrls.peerUrls);
      return { result: refused === undefined ? { ok: true, response: {} as ApplyResponse } : { ok: false, error: refused }, membership: true };
    }
    return { result: this.parts.applier.apply(request, index), membership: false };
  }
}
