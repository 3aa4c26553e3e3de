// The console talks to the server it was loaded from through etcd's JSON
// gateway (/v3/…), the same calls any HTTP client makes: every permission
// check is the server's. JSON field names are the protos' (snake_case),
// 64-bit integers are strings, bytes are base64, and fields holding their
// default value are left out — hence every field here is optional.
import { fromBase64 } from './bytes.js';

export interface ResponseHeader {
  cluster_id?: string;
  member_id?: string;
  revision?: string;
  raft_term?: string;
}

/** A key-value as the gateway sends it (key and value in base64). */
export interface WireKeyValue {
  key?: string;
  create_revision?: string;
  mod_revision?: string;
  version?: string;
  value?: string;
  lease?: string;
}

/** A key-value as the console holds it. */
export interface KeyValue {
  readonly key: Uint8Array;
  readonly value: Uint8Array;
  readonly createRevision: bigint;
  readonly modRevision: bigint;
  readonly version: bigint;
  /** 0n: no lease. */
  readonly lease: bigint;
}

export function keyValue(wire: WireKeyValue): KeyValue {
  return {
    key: fromBase64(wire.key),
    value: fromBase64(wire.value),
    createRevision: BigInt(wire.create_revision ?? '0'),
    modRevision: BigInt(wire.mod_revision ?? '0'),
    version: BigInt(wire.version ?? '0'),
    lease: BigInt(wire.lease ?? '0'),
  };
}

/** A call the server refused: its gRPC code and etcd's message ("etcdserver: …"). */
export class GatewayError extends Error {
  override readonly name = 'GatewayError';
  constructor(
    message: string,
    readonly grpcCode: number,
    readonly httpStatus: number,
  ) {
    super(message);
  }
}

/** gRPC codes the console acts on. */
export const GrpcCode = { InvalidArgument: 3, OutOfRange: 11, PermissionDenied: 7, Unauthenticated: 16, FailedPrecondition: 9 } as const;

/** Where the session token lives: this tab's session storage, with the user's name; no password is kept. */
const tokenStorageKey = 'cairn.console.token';

export function sessionToken(): string | undefined {
  return sessionStorage.getItem(tokenStorageKey) ?? undefined;
}

export function setSessionToken(token: string | undefined): void {
  if (token === undefined) sessionStorage.removeItem(tokenStorageKey);
  else sessionStorage.setItem(tokenStorageKey, token);
}

/** The headers of every gateway call: JSON, and the session token when there is one. */
export function gatewayHeaders(): Record<string, string> {
  const token = sessionToken();
  return { 'Content-Type': 'application/json', ...(token === undefined ? {} : { Authorization: token }) };
}

/** One unary call: POST /v3/<path> with `body`; the parsed answer, or GatewayError. */
export async function call<T>(path: string, body: unknown, signal?: AbortSignal): Promise<T> {
  const response = await fetch(`/v3/${path}`, { method: 'POST', headers: gatewayHeaders(), body: JSON.stringify(body), signal: signal ?? null });
  const text = await response.text();
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    throw new GatewayError(text.trim() || `HTTP ${response.status}`, 2, response.status);
  }
  if (!response.ok) throw errorOf(parsed, response.status);
  return parsed as T;
}

/** The gateway's error body ({ error, code, message }) as a GatewayError; one that asks for a login also tells the page. */
export function errorOf(body: unknown, httpStatus: number): GatewayError {
  const fields = (body ?? {}) as { error?: string; message?: string; code?: number };
  const error = new GatewayError(fields.message ?? fields.error ?? `HTTP ${httpStatus}`, fields.code ?? 2, httpStatus);
  if (loginMessages.has(error.message)) dispatchEvent(new CustomEvent(loginRequiredEvent, { detail: error.message }));
  return error;
}

/** What the member answers a call that needs a user (auth is on) and has none, or one whose token is no longer valid. */
const loginMessages = new Set(['etcdserver: user name is empty', 'etcdserver: invalid auth token']);

/** Dispatched on window when a call needs a login (detail: the member's message). */
export const loginRequiredEvent = 'cairn-login-required';

/** Authenticate: the token of `name` (kept in this tab's session storage), or GatewayError. */
export async function logIn(name: string, password: string): Promise<void> {
  setSessionToken(undefined);
  const answer = await call<{ token?: string }>('auth/authenticate', { name, password });
  if (answer.token === undefined) throw new GatewayError('the member answered no token', 2, 200);
  setSessionToken(answer.token);
  sessionStorage.setItem(userStorageKey, name);
}

export function logOut(): void {
  setSessionToken(undefined);
  sessionStorage.removeItem(userStorageKey);
}

const userStorageKey = 'cairn.console.user';

/** Who is logged in, when someone is. */
export function loggedInUser(): string | undefined {
  return sessionToken() === undefined ? undefined : (sessionStorage.getItem(userStorageKey) ?? undefined);
}

export interface RangeResponse {
  header?: ResponseHeader;
  kvs?: WireKeyValue[];
  more?: boolean;
  count?: string;
}

export interface RangeOptions {
  rangeEnd?: Uint8Array;
  limit?: number;
  keysOnly?: boolean;
  countOnly?: boolean;
  /** Read the keyspace as of this revision (0n: now). */
  revision?: bigint;
  signal?: AbortSignal;
}
