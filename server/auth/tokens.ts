// etcd's simple tokens (auth/simple_token.go): "<16 random letters>.<log
// index>", made when an Authenticate is applied, so every member that applied
// it knows the token. They are member-local state, not replicated: each
// member forgets a token after --auth-token-ttl without use (each use
// restarts the count), when its user is deleted or changes its password, and
// when auth is disabled. A restarted member knows none (its clients
// authenticate again, as etcd's must).
import { randomInt } from 'node:crypto';
import type { Clock, Timer } from '../clock.js';
import type { TokenIssuer } from './store.js';

/** Who a token names. `revision` is the auth revision it was issued at, when the token carries it (JWT). */
export interface TokenOwner {
  username: string;
  revision?: bigint;
}

/** A TokenIssuer that can also say whose a token is. */
export interface TokenProvider extends TokenIssuer {
  /** Does what identify() needs done first, which may take time (checking a JWT's signature); nothing for simple tokens. */
  prepare(token: string): Promise<void>;
  /** The owner of `token`, or undefined when this member does not know it (after prepare()). */
  identify(token: string): TokenOwner | undefined;
  /**
   * A token for `username` at auth revision `revision`, made here without
   * the log (JWT); undefined when tokens come from applying an Authenticate
   * (simple tokens). Rejects when this member cannot issue tokens.
   */
  sign(username: string, revision: bigint): Promise<string> | undefined;
  /** A fresh prefix for the token of an Authenticate about to be proposed. */
  prefix(): string;
  /** Stops timers. */
  close(): void;
}

/** Most simple tokens a member keeps; past it the oldest is forgotten first (its client authenticates again). */
export const simpleTokensMax = 100_000;
const prefixLetters = 16;
const letters = 'abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ';

export class SimpleTokens implements TokenProvider {
  /** token → owner and expiry; in insertion order, so the first entries are the oldest. */
  private readonly tokens = new Map<string, { username: string; expiresAtMs: number }>();
  private readonly sweeper: Timer;

  constructor(private readonly clock: Clock, private readonly ttlMs: number) {
    this.sweeper = clock.every(Math.max(1_000, Math.floor(ttlMs / 2)), () => this.sweep()).unref();
  }

  prepare(): Promise<void> {
    return Promise.resolve();
  }

  sign(): undefined {
    return undefined;
  }

  prefix(): string {
    let prefix = '';
    for (let i = 0; i < prefixLetters; i++) prefix += letters[randomInt(letters.length)];
    return prefix;
  }

  assign(username: string, prefix: string, index: number): string {
    const token = `${prefix}.${index}`;
    this.tokens.set(token, { username, expiresAtMs: this.clock.nowMs() + this.ttlMs });
    if (this.tokens.size > simpleTokensMax) {
      const oldest = this.tokens.keys().next().value;
      if (oldest !== undefined) this.tokens.delete(oldest);
    }
    return token;
  }

  identify(token: string): TokenOwner | undefined {
    const held = this.tokens.get(token);
    if (held === undefined) return undefined;
    const nowMs = this.clock.nowMs();
    if (held.expiresAtMs <= nowMs) {
      this.tokens.delete(token);
      return undefined;
    }
    held.expiresAtMs = nowMs + this.ttlMs;
    return { username: held.username };
  }

  invalidateUser(username: string): void {
    for (const [token, held] of this.tokens) if (held.username === username) this.tokens.delete(token);
  }

  clear(): void {
    this.tokens.clear();
  }

  close(): void {
    this.sweeper.cancel();
  }

  private sweep(): void {
    const nowMs = this.clock.nowMs();
    for (const [token, held] of this.tokens) if (held.expiresAtMs <= nowMs) this.tokens.delete(token);
  }
}

/** The log index a simple token was issued at, or undefined when `token` is not shaped as one. */
export function simpleTokenIndex(token: string): number | undefined {
  const match = /^[a-zA-Z]{16}\.(\d{1,15})$/.exec(token);
  return match === null ? undefined : Number(match[1]);
}
