// Session: a lease kept alive while the session is open (etcd's
// concurrency.Session). Locks, elections and ephemeral keys hang off it: when
// the session is lost, everything it owned goes with its lease.
import { AsyncSubject, type Observable, type Subscription } from 'rxjs';
import type { Client } from '../client/index.js';
import { SessionClosedError, SessionExpiredError } from './errors.js';

/** Options of `Session.create`. */
export interface SessionOptions {
  /** Lease TTL; default 60 s, as etcd's Go client. Ignored with `lease`. */
  ttlSeconds?: number;
  /** Use this existing lease instead of granting one (it is kept alive, and revoked by `close()`). */
  lease?: bigint;
  /**
   * How long before the lease could expire on the server `lost$` fires when
   * keep-alives stop succeeding. Default: a fifth of the TTL, at least 500 ms.
   * The server's deadline starts when it *received* the last keep-alive, which is
   * before the response reached us, so a margin is needed to report loss before it happens.
   */
  safetyMarginMs?: number;
}

/** State of a session. */
export const SessionState = { Open: 'open', Lost: 'lost', Closed: 'closed', Orphaned: 'orphaned' } as const;
/** State of a session. */
export type SessionState = (typeof SessionState)[keyof typeof SessionState];

/**
 * A lease kept alive by `client.leases.keepAlive$`. Create with `Session.create`.
 *
 * Ownership: the session owns its keep-alive subscription; `close()` revokes the
 * lease (deleting every key attached to it), `orphan()` stops the keep-alive and
 * leaves the lease to expire by its TTL (as etcd's `Orphan`).
 */
export class Session {
  /** Emits one error and completes when the session is lost (lease revoked, expired, or about to expire). Completes without a value on close/orphan. Replays to late subscribers. */
  readonly lost$: Observable<Error>;
  private readonly lost = new AsyncSubject<Error>();
  private keepAlive: Subscription | undefined;
  private deadline: ReturnType<typeof setTimeout> | undefined;
  private stateValue: SessionState = SessionState.Open;

  private constructor(readonly client: Client, readonly lease: bigint, readonly ttlSeconds: number, private readonly safetyMarginMs: number) {
    this.lost$ = this.lost.asObservable();
  }

  /** Grants a lease (unless `lease` is given) and starts keeping it alive. */
  static async create(client: Client, options: SessionOptions = {}): Promise<Session> {
    let lease = options.lease;
    let ttlSeconds = options.ttlSeconds ?? 60;
    if (lease === undefined) {
      const grant = await client.leases.grant(ttlSeconds);
      lease = grant.id;
      ttlSeconds = grant.ttlSeconds;
    } else {
      const ttl = await client.leases.timeToLive(lease);
      if (ttl.ttlSeconds <= 0) throw new SessionExpiredError(`lease ${lease.toString(16)} does not exist`);
      ttlSeconds = ttl.grantedTtlSeconds;
    }
    const marginMs = options.safetyMarginMs ?? Math.max(500, Math.floor((ttlSeconds * 1000) / 5));
    const session = new Session(client, lease, ttlSeconds, marginMs);
    session.start();
    return session;
  }

  /** open → lost | closed | orphaned; never back. */
  get state(): SessionState {
    return this.stateValue;
  }

  /** The lease ID in lower-case hex, as etcd's recipes put it in keys. */
  get leaseHex(): string {
    return this.lease.toString(16);
  }

  /** Throws `SessionExpiredError` / `SessionClosedError` unless the session is open. */
  assertOpen(): void {
    if (this.stateValue === SessionState.Lost) throw new SessionExpiredError('session is expired');
    if (this.stateValue !== SessionState.Open) throw new SessionClosedError(`session is ${this.stateValue}`);
  }

  private start(): void {
    this.armDeadline(this.ttlSeconds);
    this.keepAlive = this.client.leases.keepAlive$(this.lease).subscribe({
      next: (response) => this.armDeadline(response.ttlSeconds),
      error: (error: unknown) => this.markLost(error as Error),
      complete: () => this.markLost(new SessionExpiredError('keep-alive completed')),
    });
  }

  /** Reports loss `safetyMarginMs` before the lease could run out on the server. */
  private armDeadline(ttlSeconds: number): void {
    if (this.deadline !== undefined) clearTimeout(this.deadline);
    const delayMs = Math.max(0, ttlSeconds * 1000 - this.safetyMarginMs);
    this.deadline = setTimeout(() => this.markLost(new SessionExpiredError(`no keep-alive succeeded within ${delayMs} ms`)), delayMs);
  }

  private stop(): void {
    if (this.deadline !== undefined) clearTimeout(this.deadline);
    this.deadline = undefined;
    this.keepAlive?.unsubscribe();
    this.keepAlive = undefined;
  }

  private markLost(error: Error): void {
    if (this.stateValue !== SessionState.Open) return;
    this.stateValue = SessionState.Lost;
    this.stop();
    this.lost.next(error);
    this.lost.complete();
  }

  /** Stops keeping the lease alive without revoking it: its keys live until the TTL runs out. Idempotent. */
  orphan(): void {
    if (this.stateValue !== SessionState.Open) return;
    this.stateValue = SessionState.Orphaned;
    this.stop();
    this.lost.complete();
  }

  /**
   * Stops the keep-alive and revokes the lease, deleting every key attached to
   * it (held locks, candidacies). A lease already gone is not an error. Idempotent.
   */
  async close(): Promise<void> {
    const wasUsable = this.stateValue === SessionState.Open || this.stateValue === SessionState.Orphaned;
    if (this.stateValue === SessionState.Open) {
      this.stateValue = SessionState.Closed;
      this.stop();
      this.lost.complete();
    }
    if (!wasUsable) return;
    this.stateValue = SessionState.Closed;
    try {
      await this.client.leases.revoke(this.lease, { deadlineMs: this.ttlSeconds * 1000 });
    } catch (error) {
      if ((error as Error).name !== 'LeaseNotFoundError') throw error;
    }
  }
}
