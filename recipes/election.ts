// Election: etcd's concurrency.Election, key for key, so cairn candidates and
// `etcdctl elect` take part in the same election and `etcdctl elect -l` sees
// a cairn leader (and `leader$` sees an etcdctl one).
//
// Key layout: `<name>/<lease hex>` holding the candidate's value. The leader is
// the key with the lowest create revision; a candidate waits for the deletion
// of its immediate predecessor only, as the Mutex does.
import { Observable } from 'rxjs';
import { compare, EventType, op, type Client, type KeyValue } from '../client/index.js';
import { NoLeaderElectedError, NotLeaderError, SessionExpiredError } from './errors.js';
import { sessionKey } from './mutex.js';
import type { Session } from './session.js';
import { abortable, firstCreated, nextEvent, waitDeletes, waitScope } from './wait.js';

/** The leader as observed: its key, value and create revision (its term's fencing token). */
export interface Leader {
  key: string;
  value: string;
  createRevision: bigint;
  modRevision: bigint;
}

/** Leadership of one campaign, as `campaign()` emits it. */
export type Leadership =
  | { state: 'campaigning'; key: string }
  | { state: 'elected'; key: string; createRevision: bigint }
  | { state: 'lost'; key: string; reason: Error };

function toLeader(kv: KeyValue): Leader {
  return { key: kv.key, value: kv.value.toString('utf8'), createRevision: kv.createRevision, modRevision: kv.modRevision };
}

/** One session's candidacy in the election `name`. */
export class Election {
  private readonly prefix: string;
  private readonly key: string;
  private leaderRevision = -1n;

  /** No work is started here. */
  constructor(private readonly session: Session, readonly name: string) {
    this.prefix = `${name}/`;
    this.key = sessionKey(name, session);
  }

  /**
   * A cold Observable of this candidacy: subscribing campaigns with `value`
   * (emits `campaigning`, then `elected` once every earlier candidate is gone
   * and our key is re-checked), then `lost` and completes when the session is
   * lost — reported a safety margin before the lease can expire on the server —
   * or when our key is deleted by someone else. Unsubscribing resigns (deletes
   * our key if it is still ours). Errors: the SDK's errors.
   */
  campaign(value: string): Observable<Leadership> {
    return new Observable<Leadership>((subscriber) => {
      const controller = new AbortController();
      const scope = waitScope({ signal: controller.signal }, this.session);
      const run = async () => {
        this.session.assertOpen();
        subscriber.next({ state: 'campaigning', key: this.key });
        const client = this.session.client;
        const result = await client.txn()
          .if(compare.createRevision(this.key, '=', 0n))
          .then([op.put(this.key, value, { lease: this.session.lease })])
          .else([op.get(this.key)])
          .commit();
        let revision = result.revision;
        if (!result.succeeded) {
          const response = result.responses[0];
          if (response === undefined) throw new Error('election: the campaign txn answered its else branch without a response');
          const existing = response.type === 'get' ? response.kvs[0] : undefined;
          if (existing === undefined) throw new SessionExpiredError('election: candidate key vanished');
          revision = existing.createRevision;
          this.leaderRevision = revision;
          if (existing.value.toString('utf8') !== value) await this.proclaim(value);
        }
        this.leaderRevision = revision;
        await waitDeletes(client, this.prefix, revision - 1n, scope.signal);
        const mine = await abortable(client.get(this.key), scope.signal);
        if (mine === undefined || mine.createRevision !== revision) throw new SessionExpiredError('election: session is expired');
        subscriber.next({ state: 'elected', key: this.key, createRevision: revision });
        await nextEvent(client, this.key, mine.modRevision + 1n, (event) => event.type === EventType.Delete, scope.signal);
        throw new NotLeaderError('election: candidate key was deleted');
      };
      run().catch((error: unknown) => {
        if (controller.signal.aborted && !(scope.signal.reason instanceof SessionExpiredError)) return; // unsubscribed
        const reason = scope.signal.aborted ? scope.signal.reason as Error : error as Error;
        if (reason instanceof SessionExpiredError || reason instanceof NotLeaderError) {
          this.leaderRevision = -1n;
          subscriber.next({ state: 'lost', key: this.key, reason });
          subscriber.complete();
        } else {
          subscriber.error(reason);
        }
      });
      return () => {
        scope.dispose();
        controller.abort();
        void this.resign().catch(() => undefined);
      };
    });
  }

  /** Replaces the leader's value, only while we are the leader (etcd's Proclaim). Not leader → `NotLeaderError`. */
  async proclaim(value: string): Promise<void> {
    if (this.leaderRevision < 0n) throw new NotLeaderError('election: not leader');
    const result = await this.session.client.txn()
      .if(compare.createRevision(this.key, '=', this.leaderRevision))
      .then([op.put(this.key, value, { lease: this.session.lease })])
      .commit();
    if (!result.succeeded) throw new NotLeaderError('election: not leader');
  }

  /** Gives up leadership or candidacy: deletes our key if it is still ours. A no-op when not campaigning. */
  async resign(): Promise<void> {
    if (this.leaderRevision < 0n) return;
    const revision = this.leaderRevision;
    this.leaderRevision = -1n;
    await this.session.client.txn().if(compare.createRevision(this.key, '=', revision)).then([op.delete(this.key)]).commit();
  }

  /** The current leader (etcd's Leader); none → `NoLeaderElectedError`. */
  static async leader(client: Client, name: string): Promise<Leader> {
    const { kv } = await firstCreated(client, `${name}/`);
    if (kv === undefined) throw new NoLeaderElectedError('election: no leader');
    return toLeader(kv);
  }

  /**
   * A cold Observable of the leader of `name` and every change (etcd's Observe):
   * emits the current leader (or waits for the first), each proclaimed value,
   * and each successor in order. Never emits "no leader". After a leader's key
   * is deleted it reads the first-created key again (as etcd's Observe), so a
   * leader that comes and goes before that read is skipped. Unsubscribing
   * cancels its watches. Errors: the SDK's watch errors (e.g. `CompactedError`).
   */
  static leader$(client: Client, name: string): Observable<Leader> {
    const prefix = `${name}/`;
    return new Observable<Leader>((subscriber) => {
      const controller = new AbortController();
      const signal = controller.signal;
      const run = async () => {
        for (;;) {
          const first = await abortable(firstCreated(client, prefix), signal);
          let leader = first.kv;
          let from = first.revision + 1n;
          if (leader === undefined) {
            const event = await nextEvent(client, { prefix }, from, (item) => item.type === EventType.Put, signal);
            leader = event.kv as KeyValue;
            from = leader.modRevision + 1n;
          }
          subscriber.next(toLeader(leader));
          const key = leader.key;
          for (;;) {
            const event = await nextEvent(client, key, from, () => true, signal);
            if (event.type === EventType.Delete) break;
            subscriber.next(toLeader(event.kv));
            from = event.kv.modRevision + 1n;
          }
        }
      };
      run().catch((error: unknown) => {
        if (!signal.aborted) subscriber.error(error);
      });
      return () => controller.abort();
    });
  }
}
