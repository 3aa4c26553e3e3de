// Which endpoints use TLS, and the channel credentials that do it. The rule:
// an https:// endpoint always uses TLS, and `tls` options make every endpoint
// use it; a client never falls back to plaintext, so an http:// endpoint
// beside TLS is refused before anything is sent.
import { credentials as grpcCredentials, type ChannelCredentials } from '@grpc/grpc-js';
import { readFile } from 'node:fs/promises';
import { InsecureEndpointError, InvalidOptionError } from './errors.js';

/**
 * TLS of the connection to every endpoint. Each file is a path to a PEM file
 * (read once, by `connect`) or its contents.
 */
export interface TlsOptions {
  /** CA bundle that signs the servers' certificates (`--trusted-ca-file`'s peer). Default: the system's roots. */
  ca?: string | Uint8Array;
  /** Client certificate, for servers started with `--client-cert-auth`; needs `key`. */
  cert?: string | Uint8Array;
  /** Private key of `cert`; needs `cert`. */
  key?: string | Uint8Array;
}

/** How the endpoints are reached: plaintext, TLS from `tls` options (or system roots), or the caller's credentials. */
export type Transport =
  | { readonly kind: 'plaintext' }
  | { readonly kind: 'tls'; readonly tls: TlsOptions }
  | { readonly kind: 'custom'; readonly credentials: ChannelCredentials };

/** The options `transportOf` reads. */
export interface TransportOptions {
  readonly endpoints: readonly string[];
  readonly tls?: TlsOptions;
  readonly credentials?: ChannelCredentials;
}

/**
 * Decides the transport of `options`, or throws `InvalidOptionError`
 * (`InsecureEndpointError` for an http:// endpoint beside TLS). Reads no file.
 */
export function transportOf(options: TransportOptions): Transport {
  const { tls, credentials } = options;
  if (tls !== undefined && credentials !== undefined) throw new InvalidOptionError('give tls or credentials, not both');
  if (tls !== undefined && (tls.cert === undefined) !== (tls.key === undefined)) {
    throw new InvalidOptionError('tls.cert and tls.key must be given together');
  }
  if (credentials !== undefined) return { kind: 'custom', credentials };
  const secureEndpoint = options.endpoints.find((endpoint) => /^https:\/\//i.test(endpoint));
  if (tls === undefined && secureEndpoint === undefined) return { kind: 'plaintext' };
  const plainEndpoint = options.endpoints.find((endpoint) => /^http:\/\//i.test(endpoint));
  if (plainEndpoint !== undefined) {
    const why = tls !== undefined ? 'tls options are given' : `endpoint ${secureEndpoint ?? ''} uses https://`;
    throw new InsecureEndpointError(`endpoint ${plainEndpoint} is http:// but ${why}; the client does not mix TLS and plaintext: use https:// (or no scheme) for every endpoint`);
  }
  return { kind: 'tls', tls: tls ?? {} };
}

/** The channel credentials of `transport`, reading its files; a file that cannot be read or used throws `InvalidOptionError`. */
export async function channelCredentials(transport: Transport): Promise<ChannelCredentials> {
  if (transport.kind === 'plaintext') return grpcCredentials.createInsecure();
  if (transport.kind === 'custom') return transport.credentials;
  const [ca, cert, key] = await Promise.all([
    pem('tls.ca', transport.tls.ca),
    pem('tls.cert', transport.tls.cert),
    pem('tls.key', transport.tls.key),
  ]);
  try {
    return grpcCredentials.createSsl(ca ?? null, key ?? null, cert ?? null);
  } catch (error) {
    throw new InvalidOptionError(`tls options cannot be used: ${(error as Error).message}`, { cause: error });
  }
}

async function pem(option: string, source: string | Uint8Array | undefined): Promise<Buffer | undefined> {
  if (source === undefined) return undefined;
  if (typeof source !== 'string') return Buffer.from(source);
  try {
    return await readFile(source);
  } catch (error) {
    throw new InvalidOptionError(`cannot read ${option} ${source}: ${(error as Error).message}`, { cause: error });
  }
}
