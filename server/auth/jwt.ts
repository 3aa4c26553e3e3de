// etcd's JWT tokens (auth/jwt.go, auth/options.go), made and checked with
// jose (a maintained JOSE library): `--auth-token
// jwt,sign-method=RS256,pub-key=PATH,priv-key=PATH,ttl=5m`. A token is
// signed by the member that checked the password, with the claims etcd
// writes ({username, revision, exp}); any member holding the key accepts it
// until it expires, with no state shared between members. It names the auth
// revision it was issued at, so after any change of the auth store it is
// refused with "revision of auth store is old" and the client authenticates
// again, as with etcd.
//
// A member with only pub-key verifies tokens but cannot issue them, as etcd's.
import { createPrivateKey, createPublicKey, type KeyObject } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { jwtVerify, SignJWT } from 'jose';
import type { Clock } from '../clock.js';
import { DurationSyntaxError, parseGoDuration } from '../go-duration.js';
import type { TokenOwner, TokenProvider } from './tokens.js';

/** The sign methods etcd's JWT library offers. */
const signMethods = ['HS256', 'HS384', 'HS512', 'RS256', 'RS384', 'RS512', 'PS256', 'PS384', 'PS512', 'ES256', 'ES384', 'ES512'] as const;
export type JwtSignMethod = (typeof signMethods)[number];

/** The options of `--auth-token jwt,…`, as etcd takes them. */
export interface JwtOptions {
  signMethod: JwtSignMethod;
  publicKeyFile?: string;
  privateKeyFile?: string;
  ttlMs: number;
}

/** etcd's default JWT lifetime: 5 minutes. */
const defaultTtlMs = 5 * 60_000;
/** Most verified tokens kept, so each is checked once rather than on every request; the oldest goes first. */
export const verifiedTokensMax = 10_000;

/** `--auth-token jwt,…` that cannot be used: the server does not start. */
export class JwtOptionsError extends Error {
  override readonly name = 'JwtOptionsError';
}

/** The token could not be issued: the member holds only a public key (etcd's ErrVerifyOnly). */
export class JwtVerifyOnlyError extends Error {
  override readonly name = 'JwtVerifyOnlyError';
}

/**
 * Parses the options after "jwt," (`sign-method=RS256,priv-key=…`). Throws
 * JwtOptionsError for a malformed or repeated option, an unknown sign method,
 * or a ttl that is not a duration. Unknown option names are returned, for a
 * warning (etcd logs them and goes on).
 */
export function parseJwtOptions(text: string): { options: JwtOptions; unknown: string[] } {
  const given = new Map<string, string>();
  for (const pair of text.split(',').filter((part) => part !== '')) {
    const [name, value, ...rest] = pair.split('=');
    if (name === undefined || value === undefined || rest.length > 0) throw new JwtOptionsError(`--auth-token jwt: "${pair}" is not name=value`);
    if (given.has(name)) throw new JwtOptionsError(`--auth-token jwt: ${name} is given twice`);
    given.set(name, value);
  }
  const signMethod = given.get('sign-method') ?? '';
  if (!(signMethods as readonly string[]).includes(signMethod)) {
    throw new JwtOptionsError(`--auth-token jwt: sign-method must be one of ${signMethods.join(', ')}, not "${signMethod}"`);
  }
  const ttl = given.get('ttl');
  const options: JwtOptions = {
    signMethod: signMethod as JwtSignMethod,
    publicKeyFile: nonEmpty(given.get('pub-key')),
    privateKeyFile: nonEmpty(given.get('priv-key')),
    ttlMs: ttl === undefined || ttl === '' ? defaultTtlMs : goDurationMs(ttl),
  };
  const known = new Set(['sign-method', 'pub-key', 'priv-key', 'ttl']);
  return { options, unknown: [...given.keys()].filter((name) => !known.has(name)) };
}

export class JwtTokens implements TokenProvider {
  /** token → its owner and expiry (wall ms), once verified. */
  private readonly verified = new Map<string, { owner: TokenOwner; expiresAtWallMs: number }>();

  private constructor(
    private readonly clock: Clock,
    private readonly options: JwtOptions,
    private readonly signingKey: KeyObject | Uint8Array | undefined,
    private readonly verifyingKey: KeyObject | Uint8Array,
  ) {}

  /** Reads and checks the key files. Throws JwtOptionsError naming the file that cannot be used. */
  static open(clock: Clock, options: JwtOptions): JwtTokens {
    const hmac = options.signMethod.startsWith('HS');
    const privatePem = options.privateKeyFile === undefined ? undefined : readKey('priv-key', options.privateKeyFile);
    const publicPem = options.publicKeyFile === undefined ? undefined : readKey('pub-key', options.publicKeyFile);
    if (hmac) {
      // As etcd: the HMAC secret is the priv-key file's bytes.
      if (privatePem === undefined) throw new JwtOptionsError(`--auth-token jwt: sign-method ${options.signMethod} needs priv-key`);
      return new JwtTokens(clock, options, privatePem, privatePem);
    }
    if (privatePem === undefined && publicPem === undefined) throw new JwtOptionsError(`--auth-token jwt: sign-method ${options.signMethod} needs priv-key or pub-key`);
    try {
      const signingKey = privatePem === undefined ? undefined : createPrivateKey(privatePem);
      const verifyingKey = publicPem !== undefined ? createPublicKey(publicPem) : createPublicKey(signingKey as KeyObject);
      return new JwtTokens(clock, options, signingKey, verifyingKey);
    } catch (error) {
      throw new JwtOptionsError(`--auth-token jwt: cannot use the key files: ${(error as Error).message}`);
    }
  }

  async prepare(token: string): Promise<void> {
    if (this.verified.has(token)) return;
    let payload;
    try {
      ({ payload } = await jwtVerify(token, this.verifyingKey, { algorithms: [this.options.signMethod], currentDate: new Date(this.clock.wallMs()) }));
    } catch {
      return; // identify() then does not know it: "invalid auth token".
    }
    const { username, revision, exp } = payload;
    if (typeof username !== 'string' || typeof revision !== 'number' || !Number.isSafeInteger(revision) || revision < 0) return;
    if (this.verified.size >= verifiedTokensMax) {
      const oldest = this.verified.keys().next().value;
      if (oldest !== undefined) this.verified.delete(oldest);
    }
    const expiresAtWallMs = typeof exp === 'number' ? exp * 1_000 : Number.POSITIVE_INFINITY;
    this.verified.set(token, { owner: { username, revision: BigInt(revision) }, expiresAtWallMs });
  }

  identify(token: string): TokenOwner | undefined {
    const held = this.verified.get(token);
    if (held === undefined) return undefined;
    if (held.expiresAtWallMs <= this.clock.wallMs()) {
      this.verified.delete(token);
      return undefined;
    }
    return held.owner;
  }

  async sign(username: string, revision: bigint): Promise<string> {
    if (this.signingKey === undefined) throw new JwtVerifyOnlyError('auth: token signing attempted with verify-only key');
    const expSeconds = Math.floor((this.clock.wallMs() + this.options.ttlMs) / 1_000);
    return new SignJWT({ username, revision: Number(revision), exp: expSeconds })
      .setProtectedHeader({ alg: this.options.signMethod, typ: 'JWT' })
      .sign(this.signingKey);
  }

  /** JWTs are not made by applying Authenticate (sign() makes them): nothing to assign. */
  assign(): string {
    return '';
  }

  /** A JWT stays good until it expires or the auth revision moves on, as etcd's. */
  invalidateUser(): void {}

  clear(): void {
    this.verified.clear();
  }

  prefix(): string {
    return '';
  }

  close(): void {}
}

function readKey(option: string, path: string): Buffer {
  try {
    return readFileSync(path);
  } catch (error) {
    throw new JwtOptionsError(`--auth-token jwt: cannot read ${option} ${path}: ${(error as Error).message}`);
  }
}

function nonEmpty(value: string | undefined): string | undefined {
  return value === '' ? undefined : value;
}

/** A Go duration as etcd's ttl option takes it: "5m", "30s", "1h30m", "500ms". */
function goDurationMs(text: string): number {
  let ms: number;
  try {
    ms = parseGoDuration(text);
  } catch (error) {
    if (!(error instanceof DurationSyntaxError)) throw error;
    throw new JwtOptionsError(`--auth-token jwt: ttl must be a duration like 5m or 30s, not "${text}"`);
  }
  if (ms <= 0) throw new JwtOptionsError(`--auth-token jwt: ttl must be longer than zero, not "${text}"`);
  return ms;
}
