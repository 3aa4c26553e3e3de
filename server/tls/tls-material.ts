// The certificates, keys and CAs of both ports, read once at startup: the
// PEM files the flags name, or the self-signed certificate auto-TLS makes in
// the data directory. A file that cannot be read or used stops the start
// with one sentence naming the flag and the file, before anything is created.
// What is read here is plain TLS; the gRPC edge turns it into credentials
// (grpc/server-credentials.ts for servers, transport/peer-client.ts for the
// peer dialer).
import type { Log } from '../log.js';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { createSecureContext, type SecureContextOptions } from 'node:tls';
import { ConfigError, type ServerConfig } from '../config.js';
import { tlsProtocolOptions, type TlsProtocolOptions } from './cipher-suites.js';
import { autoTlsIgnores, sideFlags, usesAutoTls, type TransportSecurity, type TransportSide } from './transport-security.js';

/** What one side serves and dials with. */
export interface TlsMaterial {
  readonly cert: Buffer;
  readonly key: Buffer;
  /** The CA that certificates presented to this side must be signed by; undefined = the system's roots (dialing) or none (serving). */
  readonly ca: Buffer | undefined;
  /** Serving: require a certificate signed by `ca` from whoever connects (etcd 3.4: a trusted CA or client-cert-auth). */
  readonly requireClientCertificate: boolean;
  /** Dialing: verify the other side's certificate and name. False with auto-TLS, as etcd's InsecureSkipVerify. */
  readonly verifyServer: boolean;
  readonly protocol: TlsProtocolOptions;
  /** The files it was read from, to read again when they change (tls-reload.ts); undefined for auto-TLS's own. */
  readonly files?: TlsFiles;
}

/** The PEM files of one side's certificate, key and CA, as the flags name them. */
export interface TlsFiles {
  certFile: string;
  keyFile: string;
  trustedCaFile?: string;
}

/** Both sides: undefined where no certificate was given and auto-TLS was not asked for. */
export interface ServerTls {
  readonly client: TlsMaterial | undefined;
  readonly peer: TlsMaterial | undefined;
  /** For a dialer without a certificate of its own (an https:// peer while this member has no peer TLS). */
  readonly protocol: TlsProtocolOptions;
}

/**
 * Reads the files the flags name (both sides). Sides with auto-TLS are left
 * to withAutoTls, which writes into the data directory: call this first, so
 * that a bad file stops the start before anything is created.
 */
export function readTlsFiles(config: ServerConfig): ServerTls {
  const protocol = tlsProtocolOptions(config.tlsProtocol);
  return {
    client: fromFlags('client', config.clientTls, protocol),
    peer: fromFlags('peer', config.peerTls, protocol),
    protocol,
  };
}

/**
 * Makes (or finds) the self-signed certificate of each side with auto-TLS,
 * in <data-dir>/fixtures/client and /fixtures/peer, for the hosts of its
 * listen URLs, as etcd does.
 */
export async function withAutoTls(read: ServerTls, config: ServerConfig, nowWallMs: number, log: Log): Promise<ServerTls> {
  const sides = [
    { side: 'client', security: config.clientTls, urls: config.listenClientUrls, usages: [] },
    // A peer's certificate is also what it presents when it dials.
    { side: 'peer', security: config.peerTls, urls: config.listenPeerUrls, usages: ['clientAuth'] },
  ] as const;
  const made: Partial<Record<TransportSide, TlsMaterial>> = {};
  for (const { side, security, urls, usages } of sides) {
    if (!usesAutoTls(security)) continue;
    const ignored = autoTlsIgnores(side, security);
    if (ignored !== undefined) log.warn(ignored);
    // Loaded only here: the certificate library (pkijs, asn1js) is ~9 MB of resident memory that a member without auto-TLS never needs.
    const { selfSignedCertificate } = await import('./self-signed.js');
    const files = await selfSignedCertificate(join(config.dataDir, 'fixtures', side), urls.map((url) => new URL(url).host), usages, nowWallMs);
    log.info(`${sideFlags(side).autoTls}: ${files.created ? 'made' : 'using'} the self-signed certificate ${files.certFile}`);
    made[side] = material(side, { certFile: files.certFile, keyFile: files.keyFile }, { requireClientCertificate: false, verifyServer: false }, read.protocol);
  }
  return { client: read.client ?? made.client, peer: read.peer ?? made.peer, protocol: read.protocol };
}

function fromFlags(side: TransportSide, security: TransportSecurity, protocol: TlsProtocolOptions): TlsMaterial | undefined {
  const { certFile, keyFile, trustedCaFile, clientCertAuth } = security;
  // config.ts refuses one of the two without the other.
  if (certFile === undefined || keyFile === undefined) return undefined;
  const files = { certFile, keyFile, ...(trustedCaFile === undefined ? {} : { trustedCaFile }) };
  return { ...material(side, files, { requireClientCertificate: clientCertAuth || trustedCaFile !== undefined, verifyServer: true }, protocol), files };
}

/**
 * `current`'s files read again: undefined when they hold what `current` was
 * read from (compared as bytes, nothing parsed); the new material when they
 * changed and can be used together. Throws ConfigError (naming the files)
 * when they cannot be read or used, e.g. while an operator is halfway
 * through replacing them.
 */
export function rereadTlsMaterial(side: TransportSide, current: TlsMaterial): TlsMaterial | undefined {
  if (current.files === undefined) return undefined;
  const pems = readPems(side, current.files);
  const same = pems.cert.equals(current.cert) && pems.key.equals(current.key) && (pems.ca === undefined ? current.ca === undefined : current.ca !== undefined && pems.ca.equals(current.ca));
  return same ? undefined : usable(current.files, { ...current, ...pems });
}

/** The options of Node's secure context (and TLS server) for `tls`: what servers and the peer dialer are given. */
/**
 * What a TLS server asks of its clients: a certificate signed by `ca` when
 * the flags require one (Node then rejects a client whose certificate does
 * not verify against `ca`).
 */
export function clientCertificateOptions(tls: Pick<TlsMaterial, 'requireClientCertificate'>): { requestCert: boolean; rejectUnauthorized: boolean } {
  return { requestCert: tls.requireClientCertificate, rejectUnauthorized: tls.requireClientCertificate };
}

export function secureContextOptions(tls: Pick<TlsMaterial, 'cert' | 'key' | 'ca' | 'protocol'>): SecureContextOptions {
  return { cert: tls.cert, key: tls.key, ...(tls.ca === undefined ? {} : { ca: tls.ca }), ...tls.protocol };
}

function material(
  side: TransportSide,
  files: TlsFiles,
  checks: { requireClientCertificate: boolean; verifyServer: boolean },
  protocol: TlsProtocolOptions,
): TlsMaterial {
  return usable(files, { ...readPems(side, files), ...checks, protocol });
}

function readPems(side: TransportSide, files: TlsFiles): { cert: Buffer; key: Buffer; ca: Buffer | undefined } {
  const flags = sideFlags(side);
  return {
    cert: readPem(flags.certFile, files.certFile),
    key: readPem(flags.keyFile, files.keyFile),
    ca: files.trustedCaFile === undefined ? undefined : readPem(flags.trustedCaFile, files.trustedCaFile),
  };
}

/** `candidate`, once Node takes it: grpc-js parses the files only when it binds or dials, so parsing them here names the culprit first. */
function usable(files: TlsFiles, candidate: TlsMaterial): TlsMaterial {
  try {
    createSecureContext(secureContextOptions(candidate));
  } catch (error) {
    const names = [files.certFile, files.keyFile, ...(files.trustedCaFile === undefined ? [] : [files.trustedCaFile])].join(', ');
    throw new ConfigError(`cannot use the TLS files ${names}: ${(error as Error).message}`);
  }
  return candidate;
}

function readPem(flag: string, path: string): Buffer {
  let contents: Buffer;
  try {
    contents = readFileSync(path);
  } catch (error) {
    throw new ConfigError(`cannot read ${flag} ${path}: ${(error as Error).message}`);
  }
  if (!contents.includes('-----BEGIN ')) throw new ConfigError(`${flag} ${path} is not a PEM file`);
  return contents;
}
