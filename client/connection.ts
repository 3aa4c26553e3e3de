// The connection: one gRPC channel per endpoint, the active endpoint, failover
// on Unavailable, retries where they are safe, deadlines, abort signals, auth
// tokens and an OpenTelemetry span around every unary RPC.
//
// Retry safety (the rule the Go client follows, clientv3 retry_interceptor.go):
// a read is retried on any availability error; a write only when it is known
// not to have been applied — the channel never became ready, so the request
// never left this process, or the server refused it before proposing it
// (`too many requests`, `invalid auth token`). A write that failed after it
// was sent surfaces as `UnavailableError` with `applied: 'unknown'`.
import {
  Channel,
  ChannelCredentials,
  Metadata,
  credentials as grpcCredentials,
  type ChannelOptions,
  type ClientUnaryCall,
  type ServiceError,
  type Interceptor,
  type CallOptions as GrpcCallOptions,
} from '@grpc/grpc-js';
import { context, propagation, SpanKind, SpanStatusCode, trace } from '@opentelemetry/api';
import pRetry from 'p-retry';
import {
  AuthClient,
  AuthenticateRequest,
  ClusterClient,
  KVClient,
  LeaseClient,
  MaintenanceClient,
  WatchClient,
} from '../proto/gen/etcdserverpb/rpc.js';
import {
  AbortedError,
  ClientClosedError,
  DeadlineExceededError,
  EtcdError,
  InvalidAuthTokenError,
  AuthOldRevisionError,
  InvalidOptionError,
  LeaderChangedError,
  NoLeaderError,
  RequestTimeoutError,
  TooManyRequestsError,
  UnavailableError,
  UnhealthyClusterError,
  classify,
} from './errors.js';
import { transportOf, type TlsOptions } from './tls.js';

/** Per-call options every SDK method takes. */
export interface CallOptions {
  /** Aborts the call (and its retries); the call rejects with `AbortedError`. */
  signal?: AbortSignal;
  /**
   * Time budget for the whole call, retries and failovers included, in
   * milliseconds from the moment of the call. Default: none for the call
   * itself; each connection attempt is still bounded by `dialTimeoutMs`.
   */
  deadlineMs?: number;
}

/** Retry policy for calls that are safe to retry (exponential backoff with full jitter, via p-retry). */
export interface RetryOptions {
  /** Retries after the first attempt. Default 5; 0 disables retries. */
  retries?: number;
  /** Delay before the first retry, in milliseconds. Default 50. */
  minDelayMs?: number;
  /** Upper bound of one delay, in milliseconds. Default 2000. */
  maxDelayMs?: number;
}

/** Credentials for etcd's simple/JWT token auth. */
export interface AuthOptions {
  username: string;
  password: string;
}

/** Options of `connect`. */
export interface ConnectOptions {
  /**
   * `host:port`, `http://host:port` or `https://host:port` of each member; at
   * least one. An `https://` endpoint uses TLS (see `tls`); every endpoint
   * then does, and an `http://` one is refused (`InsecureEndpointError`).
   */
  endpoints: readonly string[];
  /** Bound on establishing a connection to one endpoint, in milliseconds. Default 5000. */
  dialTimeoutMs?: number;
  /** Prefix added to every key sent and removed from every key received; `client.namespace()` nests further ones inside it. */
  namespace?: string | Uint8Array;
  /** Retry policy for safe retries. */
  retry?: RetryOptions;
  /** Authenticate with this user; the token is attached as `token` metadata and refreshed when the server rejects it. */
  auth?: AuthOptions;
  /**
   * TLS for every endpoint: `ca` (default the system's roots), and `cert` +
   * `key` for servers that require client certificates; each a PEM file's
   * path or contents. Paths are read by `connect`; one that cannot be read,
   * or `cert` without `key`, rejects with `InvalidOptionError`. With `tls`,
   * an `http://` endpoint rejects with `InsecureEndpointError`. Default: TLS
   * only for `https://` endpoints (with the system's roots).
   */
  tls?: TlsOptions;
  /**
   * grpc-js channel credentials used for every endpoint as given (no scheme
   * check); not with `tls`. Default: decided by `tls` and the endpoints' schemes.
   */
  credentials?: ChannelCredentials;
  /** Extra grpc-js channel options (they override the SDK's reconnect-backoff and keepalive defaults). */
  channelOptions?: ChannelOptions;
  /** grpc-js client interceptors, applied to every call and stream (observability, tests). */
  interceptors?: Interceptor[];
}

/** Service names, for spans and errors. */
export const Service = {
  KV: 'etcdserverpb.KV',
  Watch: 'etcdserverpb.Watch',
  Lease: 'etcdserverpb.Lease',
  Cluster: 'etcdserverpb.Cluster',
  Maintenance: 'etcdserverpb.Maintenance',
  Auth: 'etcdserverpb.Auth',
} as const;
/** A gRPC service name of etcd's API. */
export type Service = (typeof Service)[keyof typeof Service];

/** The generated clients of one endpoint, all sharing one channel. */
export interface Endpoint {
  readonly index: number;
  readonly address: string;
  readonly kv: KVClient;
  readonly watch: WatchClient;
  readonly lease: LeaseClient;
  readonly cluster: ClusterClient;
  readonly maintenance: MaintenanceClient;
  readonly auth: AuthClient;
  readonly channel: Channel;
}

type UnaryCallback<Res> = (error: ServiceError | null, response: Res) => void;
/** Starts one unary call on an endpoint. */
export type UnaryStarter<Res> = (
  endpoint: Endpoint,
  metadata: Metadata,
  options: Partial<GrpcCallOptions>,
  callback: UnaryCallback<Res>,
) => ClientUnaryCall;

/** Whether a request may be sent again after an ambiguous failure. */
export const Idempotency = {
  /** Reads, and writes whose repetition is harmless: retried on any availability error. */
  Safe: 'safe',
  /** Writes: retried only when known not to have been applied. */
  Unsafe: 'unsafe',
} as const;
/** Whether a request may be sent again after an ambiguous failure. */
export type Idempotency = (typeof Idempotency)[keyof typeof Idempotency];

/**
 * The SDK's tracer, asked of the global provider at each call rather than
 * once: a provider registered (or replaced) after this module loaded is the
 * one used.
 */
const tracer = (): ReturnType<typeof trace.getTracer> => trace.getTracer('cairn-client');
const dialTimeoutMsDefault = 5_000;
const retriesDefault = 5;
const minDelayMsDefault = 50;
const maxDelayMsDefault = 2_000;
/** Retries granted after a token refresh, independent of the retry policy. */
const tokenRefreshesMax = 1;

/** Errors that mean "the server did not apply this": safe to retry even for writes. */
function notApplied(error: EtcdError): boolean {
  return (error instanceof UnavailableError && error.applied === 'no') || error instanceof TooManyRequestsError || error instanceof AuthOldRevisionError;
}

function isStaleToken(error: unknown): boolean {
  return error instanceof InvalidAuthTokenError || error instanceof AuthOldRevisionError;
}

/** Errors after which a read may be retried (possibly on another endpoint). */
function retryableRead(error: EtcdError): boolean {
  return error instanceof UnavailableError || error instanceof NoLeaderError || error instanceof LeaderChangedError ||
    error instanceof RequestTimeoutError || error instanceof UnhealthyClusterError || notApplied(error);
}

/**
 * Cancels a stream no one listens to any more: its listeners are removed,
 * and the CANCELLED error cancel() reports is swallowed.
 */
export function cancelUnheard(stream: { removeAllListeners(): unknown; on(event: 'error', listener: () => void): unknown; cancel(): void }): void {
  stream.removeAllListeners();
  stream.on('error', () => undefined);
  stream.cancel();
}

function stripScheme(endpoint: string): string {
  return endpoint.replace(/^https?:\/\//i, '').replace(/\/+$/, '');
}

/**
 * Owns the channels to every endpoint. Not exported from the package: the
 * `Client` facade is.
 */
export class Connection {
  readonly endpoints: readonly Endpoint[];
  private active = 0;
  private closed = false;
  private token: string | undefined;
  private readonly dialTimeoutMs: number;
  private readonly retry: Required<RetryOptions>;

  /**
   * `channelCredentials` are the credentials `connect` made from the options'
   * transport (client/tls.ts); without them the options must need no TLS file.
   */
  constructor(private readonly options: ConnectOptions, channelCredentials?: ChannelCredentials) {
    if (options.endpoints.length === 0) throw new InvalidOptionError('at least one endpoint is required');
    this.dialTimeoutMs = options.dialTimeoutMs ?? dialTimeoutMsDefault;
    if (!(this.dialTimeoutMs > 0)) throw new InvalidOptionError('dialTimeoutMs must be positive');
    this.retry = {
      retries: options.retry?.retries ?? retriesDefault,
      minDelayMs: options.retry?.minDelayMs ?? minDelayMsDefault,
      maxDelayMs: options.retry?.maxDelayMs ?? maxDelayMsDefault,
    };
    if (this.retry.retries < 0) throw new InvalidOptionError('retry.retries must not be negative');
    if (this.retry.minDelayMs > this.retry.maxDelayMs) throw new InvalidOptionError('retry.minDelayMs must not exceed retry.maxDelayMs');
    const transport = transportOf(options);
    // TLS files are read asynchronously by connect(), never here.
    if (transport.kind === 'tls' && channelCredentials === undefined) throw new Error('connection: TLS credentials must be made before the connection (use connect)');
    const creds = channelCredentials ?? (transport.kind === 'custom' ? transport.credentials : grpcCredentials.createInsecure());
    const channelOptions: ChannelOptions = {
      // A restarted member should be found again within a fraction of a second, not grpc's default 1–120 s backoff.
      'grpc.initial_reconnect_backoff_ms': 100,
      'grpc.max_reconnect_backoff_ms': 2_000,
      // Detect dead peers on idle streams; etcd's server allows pings every 5 s.
      'grpc.keepalive_time_ms': 30_000,
      'grpc.keepalive_timeout_ms': 10_000,
      ...options.channelOptions,
    };
    this.endpoints = options.endpoints.map((raw, index) => {
      const address = stripScheme(raw);
      const channel = new Channel(address, creds, channelOptions);
      const clientOptions = { channelOverride: channel, interceptors: options.interceptors };
      return {
        index,
        address,
        channel,
        kv: new KVClient(address, creds, clientOptions),
        watch: new WatchClient(address, creds, clientOptions),
        lease: new LeaseClient(address, creds, clientOptions),
        cluster: new ClusterClient(address, creds, clientOptions),
        maintenance: new MaintenanceClient(address, creds, clientOptions),
        auth: new AuthClient(address, creds, clientOptions),
      };
    });
  }

  /** Whether `close()` was called. */
  get isClosed(): boolean {
    return this.closed;
  }

  /** The endpoint new calls and streams go to. */
  current(): Endpoint {
    const endpoint = this.endpoints[this.active];
    // The constructor refuses an empty list and failover() keeps `active` below its length.
    if (endpoint === undefined) throw new Error(`connection: active endpoint ${this.active} is outside the ${this.endpoints.length} endpoints`);
    return endpoint;
  }

  /**
   * The endpoint given as `address` (with or without a scheme), for calls
   * about one member; `InvalidOptionError` when it is not one of the client's.
   */
  endpointFor(address: string): Endpoint {
    const wanted = stripScheme(address);
    const endpoint = this.endpoints.find((candidate) => candidate.address === wanted);
    if (endpoint === undefined) throw new InvalidOptionError(`${address} is not one of the client's endpoints (${this.endpoints.map((item) => item.address).join(', ')})`);
    return endpoint;
  }

  /** Moves to the next endpoint after `failed` failed, unless another caller already moved on. */
  failover(failed: Endpoint): void {
    if (this.active === failed.index) this.active = (failed.index + 1) % this.endpoints.length;
  }

  /** Retry policy in effect. */
  retryPolicy(): Readonly<Required<RetryOptions>> {
    return this.retry;
  }

  /**
   * Waits until some endpoint accepts a connection (trying each in turn from
   * the active one), then authenticates when auth is configured.
   */
  async open(options: CallOptions = {}): Promise<void> {
    await this.unary(Service.Maintenance, 'Connect', Idempotency.Safe, async (endpoint) => {
      await this.waitReady(endpoint, Date.now() + this.dialTimeoutMs);
      return undefined;
    }, options);
    if (this.options.auth !== undefined) await this.refreshToken(options);
  }

  /** Resolves when `endpoint`'s channel is ready; rejects with `UnavailableError(applied: 'no')`. */
  waitReady(endpoint: Endpoint, deadline: number): Promise<void> {
    return new Promise((resolve, reject) => {
      endpoint.kv.waitForReady(Math.min(deadline, Date.now() + this.dialTimeoutMs), (error) => {
        if (error === undefined || error === null) return resolve();
        this.failover(endpoint);
        reject(new UnavailableError(`could not connect to ${endpoint.address} within the dial timeout`, 'no', { cause: error }));
      });
    });
  }

  /** Metadata for a call or stream: the auth token, the trace context, and `extra`. */
  metadata(extra: Record<string, string> = {}): Metadata {
    const metadata = new Metadata();
    if (this.token !== undefined) metadata.set('token', this.token);
    for (const [name, value] of Object.entries(extra)) metadata.set(name, value);
    propagation.inject(context.active(), metadata, { set: (carrier, name, value) => carrier.set(name, value) });
    return metadata;
  }

  /** Obtains a fresh auth token (no-op without auth options). */
  async refreshToken(options: CallOptions = {}): Promise<void> {
    const auth = this.options.auth;
    if (auth === undefined) return;
    this.token = undefined;
    const response = await this.unary(Service.Auth, 'Authenticate', Idempotency.Safe, (endpoint, metadata, callOptions) =>
      this.callOnce<{ token: string }>((callback) =>
        endpoint.auth.authenticate(AuthenticateRequest.fromPartial({ name: auth.username, password: auth.password }),
          metadata, callOptions, callback), options.signal), options);
    this.token = response.token;
  }

  /**
   * Runs one logical RPC: waits for a ready endpoint, sends, classifies the
   * error, fails over on Unavailable, and retries when the idempotency rules
   * allow it; all inside one client span. With `pinned`, every attempt goes
   * to that endpoint (a call about one member) and none fails over.
   */
  async unary<Res>(
    service: Service,
    method: string,
    idempotency: Idempotency,
    attempt: (endpoint: Endpoint, metadata: Metadata, options: Partial<GrpcCallOptions>) => Promise<Res>,
    options: CallOptions = {},
    pinned?: Endpoint,
  ): Promise<Res> {
    if (this.closed) throw new ClientClosedError('client is closed');
    const { signal } = options;
    if (signal?.aborted) throw new AbortedError('call aborted before it started', { cause: signal.reason });
    const deadline = options.deadlineMs === undefined ? undefined : Date.now() + options.deadlineMs;
    return tracer().startActiveSpan(`${service}/${method}`, {
      kind: SpanKind.CLIENT,
      attributes: { 'rpc.system': 'grpc', 'rpc.service': service, 'rpc.method': method },
    }, async (span) => {
      let tokenRefreshes = 0;
      try {
        const result = await pRetry(async () => {
          if (this.closed) throw new ClientClosedError('client is closed');
          if (deadline !== undefined && Date.now() >= deadline) throw new DeadlineExceededError('deadline exceeded');
          const endpoint = pinned ?? this.current();
          span.setAttribute('server.address', endpoint.address);
          await this.waitReady(endpoint, deadline ?? Date.now() + this.dialTimeoutMs);
          try {
            return await attempt(endpoint, this.metadata(), deadline === undefined ? {} : { deadline });
          } catch (error) {
            const typed = classify(error, 'unknown');
            if (typed instanceof UnavailableError && pinned === undefined) this.failover(endpoint);
            throw typed;
          }
        }, {
          retries: this.retry.retries,
          factor: 2,
          minTimeout: this.retry.minDelayMs,
          maxTimeout: this.retry.maxDelayMs,
          randomize: true,
          signal,
          maxRetryTime: deadline === undefined ? Infinity : Math.max(0, deadline - Date.now()),
          shouldConsumeRetry: ({ error }) => !isStaleToken(error),
          shouldRetry: async ({ error }) => {
            if (!(error instanceof EtcdError)) return false;
            span.addEvent('retry', { 'exception.type': error.name, 'exception.message': error.message });
            // As etcd's Go client: a token the server no longer takes, or checked against an older auth
            // store (the call was not applied), is refreshed and the call retried.
            if (isStaleToken(error) && this.options.auth !== undefined && tokenRefreshes < tokenRefreshesMax) {
              tokenRefreshes++;
              await this.refreshToken({ signal });
              return true;
            }
            return idempotency === Idempotency.Safe ? retryableRead(error) : notApplied(error);
          },
        });
        span.setStatus({ code: SpanStatusCode.OK });
        return result;
      } catch (error) {
        const typed = signal?.aborted === true
          ? new AbortedError('call aborted', { cause: signal.reason })
          : classify(error);
        span.recordException(typed);
        span.setStatus({ code: SpanStatusCode.ERROR, message: typed.message });
        throw typed;
      } finally {
        span.end();
      }
    });
  }

  /** Adapts a grpc-js callback call to a promise that an `AbortSignal` cancels. */
  callOnce<Res>(start: (callback: UnaryCallback<Res>) => ClientUnaryCall, signal?: AbortSignal): Promise<Res> {
    return new Promise<Res>((resolve, reject) => {
      const onAbort = () => call.cancel();
      const call = start((error, response) => {
        signal?.removeEventListener('abort', onAbort);
        if (error !== null) reject(error);
        else resolve(response);
      });
      signal?.addEventListener('abort', onAbort, { once: true });
    });
  }

  /** Closes every channel; pending calls fail, open streams end. Idempotent. */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    for (const endpoint of this.endpoints) {
      for (const client of [endpoint.kv, endpoint.watch, endpoint.lease, endpoint.cluster, endpoint.maintenance, endpoint.auth]) {
        client.close();
      }
      endpoint.channel.close();
    }
  }
}
