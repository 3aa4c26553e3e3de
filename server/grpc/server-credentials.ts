// The client port's TLS: reads the PEM files named by --cert-file,
// --key-file and --trusted-ca-file once, at startup, and turns them into
// gRPC server credentials. A file that cannot be read or used stops the
// start with one sentence naming the flag and the file.
import { ServerCredentials } from '@grpc/grpc-js';
import { readFileSync } from 'node:fs';
import { createSecureContext } from 'node:tls';
import { ConfigError, type ClientTlsConfig } from '../config.js';

/** The credentials of each client URL's scheme. */
export interface ClientCredentials {
  /** For http:// URLs. */
  readonly insecure: ServerCredentials;
  /** For https:// URLs; undefined when no --cert-file was given (config.ts then refuses https:// URLs). */
  readonly secure: ServerCredentials | undefined;
}

export function clientCredentials(tls: ClientTlsConfig): ClientCredentials {
  const insecure = ServerCredentials.createInsecure();
  if (tls.certFile === undefined || tls.keyFile === undefined) return { insecure, secure: undefined };
  const cert = readPem('cert-file', tls.certFile);
  const key = readPem('key-file', tls.keyFile);
  const ca = tls.trustedCaFile === undefined ? null : readPem('trusted-ca-file', tls.trustedCaFile);
  try {
    // grpc-js parses the files only when it binds; parsing them here names the culprit before anything starts.
    createSecureContext({ cert, key, ...(ca === null ? {} : { ca }) });
  } catch (error) {
    const files = [tls.certFile, tls.keyFile, ...(tls.trustedCaFile === undefined ? [] : [tls.trustedCaFile])].join(', ');
    throw new ConfigError(`cannot use the TLS files ${files}: ${(error as Error).message}`);
  }
  // As etcd 3.4 (pkg/transport/listener.go, TLSInfo.ServerConfig): a trusted CA alone also requires client certificates.
  const requireClientCertificate = tls.clientCertAuth || ca !== null;
  return { insecure, secure: ServerCredentials.createSsl(ca, [{ private_key: key, cert_chain: cert }], requireClientCertificate) };
}

function readPem(flag: string, path: string): Buffer {
  let contents: Buffer;
  try {
    contents = readFileSync(path);
  } catch (error) {
    throw new ConfigError(`cannot read --${flag} ${path}: ${(error as Error).message}`);
  }
  if (!contents.includes('-----BEGIN ')) throw new ConfigError(`--${flag} ${path} is not a PEM file`);
  return contents;
}
