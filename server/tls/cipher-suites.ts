// --cipher-suites, --tls-min-version and --tls-max-version: etcd names the
// cipher suites as Go's crypto/tls does (the IANA names), Node's TLS takes
// OpenSSL's. This is the one table between the two, and the one place that
// turns the three flags into the options Node's TLS contexts take.
import { DEFAULT_CIPHERS, getCiphers } from 'node:tls';

/**
 * Every name etcd 3.4 accepts (Go's tls.CipherSuites() and
 * tls.InsecureCipherSuites(), plus the two short CHACHA20 aliases
 * pkg/tlsutil/cipher_suites.go adds), with OpenSSL's name for it.
 */
const goToOpenSsl: Readonly<Record<string, string>> = {
  TLS_RSA_WITH_RC4_128_SHA: 'RC4-SHA',
  TLS_RSA_WITH_3DES_EDE_CBC_SHA: 'DES-CBC3-SHA',
  TLS_RSA_WITH_AES_128_CBC_SHA: 'AES128-SHA',
  TLS_RSA_WITH_AES_256_CBC_SHA: 'AES256-SHA',
  TLS_RSA_WITH_AES_128_CBC_SHA256: 'AES128-SHA256',
  TLS_RSA_WITH_AES_128_GCM_SHA256: 'AES128-GCM-SHA256',
  TLS_RSA_WITH_AES_256_GCM_SHA384: 'AES256-GCM-SHA384',
  TLS_ECDHE_ECDSA_WITH_RC4_128_SHA: 'ECDHE-ECDSA-RC4-SHA',
  TLS_ECDHE_ECDSA_WITH_AES_128_CBC_SHA: 'ECDHE-ECDSA-AES128-SHA',
  TLS_ECDHE_ECDSA_WITH_AES_256_CBC_SHA: 'ECDHE-ECDSA-AES256-SHA',
  TLS_ECDHE_RSA_WITH_RC4_128_SHA: 'ECDHE-RSA-RC4-SHA',
  TLS_ECDHE_RSA_WITH_3DES_EDE_CBC_SHA: 'ECDHE-RSA-DES-CBC3-SHA',
  TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA: 'ECDHE-RSA-AES128-SHA',
  TLS_ECDHE_RSA_WITH_AES_256_CBC_SHA: 'ECDHE-RSA-AES256-SHA',
  TLS_ECDHE_ECDSA_WITH_AES_128_CBC_SHA256: 'ECDHE-ECDSA-AES128-SHA256',
  TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA256: 'ECDHE-RSA-AES128-SHA256',
  TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256: 'ECDHE-RSA-AES128-GCM-SHA256',
  TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256: 'ECDHE-ECDSA-AES128-GCM-SHA256',
  TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384: 'ECDHE-RSA-AES256-GCM-SHA384',
  TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384: 'ECDHE-ECDSA-AES256-GCM-SHA384',
  TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256: 'ECDHE-RSA-CHACHA20-POLY1305',
  TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256: 'ECDHE-ECDSA-CHACHA20-POLY1305',
  TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305: 'ECDHE-RSA-CHACHA20-POLY1305',
  TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305: 'ECDHE-ECDSA-CHACHA20-POLY1305',
  // TLS 1.3: the same name in Go, IANA and OpenSSL.
  TLS_AES_128_GCM_SHA256: 'TLS_AES_128_GCM_SHA256',
  TLS_AES_256_GCM_SHA384: 'TLS_AES_256_GCM_SHA384',
  TLS_CHACHA20_POLY1305_SHA256: 'TLS_CHACHA20_POLY1305_SHA256',
};

/** A TLS version as etcd 3.5's --tls-min-version / --tls-max-version name it. */
export type TlsVersionName = 'TLS1.2' | 'TLS1.3';
export const tlsVersionNames: readonly TlsVersionName[] = ['TLS1.2', 'TLS1.3'];

/** --cipher-suites, --tls-min-version, --tls-max-version: shared by the client and the peer ports, as in etcd. */
export interface TlsProtocolConfig {
  /** Go names, in order of preference; empty = the TLS library's defaults. */
  cipherSuites: string[];
  minVersion: TlsVersionName;
  /** undefined = the highest the TLS library supports (TLS 1.3). */
  maxVersion: TlsVersionName | undefined;
}

/** A cipher suite, or a pair of versions, that cannot be used (config.ts turns it into a ConfigError). */
export class TlsProtocolError extends Error {
  override readonly name = 'TlsProtocolError';
}

/** What Node's tls.createSecureContext and tls.createServer take for `protocol`. */
export interface TlsProtocolOptions {
  ciphers?: string;
  minVersion: 'TLSv1.2' | 'TLSv1.3';
  maxVersion: 'TLSv1.2' | 'TLSv1.3';
}

const nodeVersion = { 'TLS1.2': 'TLSv1.2', 'TLS1.3': 'TLSv1.3' } as const;

/**
 * Checks `protocol` and returns Node's options for it. Refuses, one sentence
 * each: a name Go does not know (etcd's words), a suite this OpenSSL does not
 * offer (3DES and RC4 are gone from OpenSSL 3), a minimum above the maximum
 * and cipher suites with TLS 1.3 only (etcd 3.5's words: TLS 1.3's suites are
 * not configurable in Go).
 */
export function tlsProtocolOptions(protocol: TlsProtocolConfig): TlsProtocolOptions {
  const { cipherSuites, minVersion, maxVersion } = protocol;
  if (maxVersion !== undefined && tlsVersionNames.indexOf(minVersion) > tlsVersionNames.indexOf(maxVersion)) {
    throw new TlsProtocolError(`min version (${minVersion}) is greater than max version (${maxVersion})`);
  }
  if (minVersion === 'TLS1.3' && cipherSuites.length > 0) throw new TlsProtocolError('cipher suites cannot be configured when only TLS1.3 is enabled');
  const options: TlsProtocolOptions = { minVersion: nodeVersion[minVersion], maxVersion: nodeVersion[maxVersion ?? 'TLS1.3'] };
  if (cipherSuites.length === 0) return options;
  const offered = new Set(getCiphers());
  const openSslNames = cipherSuites.map((goName) => {
    const openSslName = goToOpenSsl[goName];
    if (openSslName === undefined) throw new TlsProtocolError(`unexpected TLS cipher suite "${goName}"`);
    if (!offered.has(openSslName.toLowerCase())) throw new TlsProtocolError(`TLS cipher suite "${goName}" is not offered by this server's OpenSSL ${process.versions.openssl}`);
    return openSslName;
  });
  return { ...options, ciphers: withTls13Defaults(openSslNames).join(':') };
}

/**
 * Go applies a cipher suite list to TLS 1.0-1.2 only and keeps every TLS 1.3
 * suite; Node would turn TLS 1.3 off when the list names none of its suites.
 * So a list without TLS 1.3 suites keeps Node's default ones, as etcd keeps
 * Go's. (A list that names some restricts TLS 1.3 to them: Go ignores them.)
 */
function withTls13Defaults(openSslNames: string[]): string[] {
  if (openSslNames.some(isTls13Suite)) return openSslNames;
  return [...DEFAULT_CIPHERS.split(':').filter(isTls13Suite), ...openSslNames];
}

function isTls13Suite(openSslName: string): boolean {
  return openSslName.startsWith('TLS_');
}
