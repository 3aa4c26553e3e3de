// --auto-tls and --peer-auto-tls: a self-signed certificate in the data
// directory, made as etcd 3.4 makes it (pkg/transport/listener.go, SelfCert):
// an ECDSA P-521 key, subject O=etcd, valid for a year, a random 128-bit
// serial, key usage digitalSignature + keyEncipherment, the listen URLs'
// hosts as IP or DNS names, in cert.pem and key.pem (0600). Files already
// there are used as they are, so a restart keeps its certificate.
//
// Node's crypto makes and signs with the key but cannot write an X.509
// certificate; pkijs (with asn1js) encodes it, signing through Node's own
// WebCrypto, so no cryptography of its own is used.
import { createPrivateKey, randomBytes, webcrypto } from 'node:crypto';
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { isIP } from 'node:net';
import { join } from 'node:path';
import * as asn1js from 'asn1js';
import * as pkijs from 'pkijs';

/** The certificate's uses beyond being a server's (a peer's is also a client's). */
export type ExtendedKeyUsage = 'serverAuth' | 'clientAuth';

export interface SelfSignedFiles {
  certFile: string;
  keyFile: string;
  /** False when both files were already there. */
  created: boolean;
}

const validityMs = 365 * 24 * 60 * 60 * 1_000;
const algorithm = { name: 'ECDSA', namedCurve: 'P-521' } as const;
/** Go signs with the hash that matches the curve: SHA-512 for P-521. */
const signingHash = 'SHA-512';
// pkijs is typed against the DOM's WebCrypto types, which Node's types name differently: the same objects at run time.
type PkijsCrypto = ConstructorParameters<typeof pkijs.CryptoEngine>[0]['crypto'];
type PkijsKey = Parameters<pkijs.Certificate['sign']>[0];

const oid = {
  organizationName: '2.5.4.10',
  basicConstraints: '2.5.29.19',
  keyUsage: '2.5.29.15',
  extendedKeyUsage: '2.5.29.37',
  subjectAltName: '2.5.29.17',
  serverAuth: '1.3.6.1.5.5.7.3.1',
  clientAuth: '1.3.6.1.5.5.7.3.2',
} as const;

/**
 * The self-signed certificate in `dir` (created if missing, with its
 * parents) for `hosts` (host:port or host), valid from `nowWallMs`.
 */
export async function selfSignedCertificate(dir: string, hosts: readonly string[], usages: readonly ExtendedKeyUsage[], nowWallMs: number): Promise<SelfSignedFiles> {
  const certFile = join(dir, 'cert.pem');
  const keyFile = join(dir, 'key.pem');
  if (existsSync(certFile) && existsSync(keyFile)) return { certFile, keyFile, created: false };
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  const keys = await webcrypto.subtle.generateKey(algorithm, true, ['sign', 'verify']);
  const certificate = await sign(keys, hosts, usages, nowWallMs);
  const pkcs8 = Buffer.from(await webcrypto.subtle.exportKey('pkcs8', keys.privateKey));
  // etcd writes the key as an "EC PRIVATE KEY" (SEC 1) PEM block.
  const keyPem = createPrivateKey({ key: pkcs8, format: 'der', type: 'pkcs8' }).export({ format: 'pem', type: 'sec1' });
  writeFileSync(certFile, pem('CERTIFICATE', certificate));
  writeFileSync(keyFile, keyPem, { mode: 0o600 });
  return { certFile, keyFile, created: true };
}

async function sign(keys: webcrypto.CryptoKeyPair, hosts: readonly string[], usages: readonly ExtendedKeyUsage[], nowWallMs: number): Promise<Buffer> {
  const engine = new pkijs.CryptoEngine({ name: 'node', crypto: webcrypto as unknown as PkijsCrypto });
  const certificate = new pkijs.Certificate();
  certificate.version = 2; // X.509 v3
  certificate.serialNumber = new asn1js.Integer({ valueHex: serialNumber(randomBytes(16)) });
  const name = new pkijs.RelativeDistinguishedNames({
    typesAndValues: [new pkijs.AttributeTypeAndValue({ type: oid.organizationName, value: new asn1js.PrintableString({ value: 'etcd' }) })],
  });
  certificate.subject = name;
  certificate.issuer = name;
  certificate.notBefore.value = new Date(nowWallMs);
  certificate.notAfter.value = new Date(nowWallMs + validityMs);
  certificate.extensions = extensions(hosts, usages);
  await certificate.subjectPublicKeyInfo.importKey(keys.publicKey as unknown as PkijsKey, engine);
  await certificate.sign(keys.privateKey as unknown as PkijsKey, signingHash, engine);
  return Buffer.from(certificate.toSchema(true).toBER(false));
}

function extensions(hosts: readonly string[], usages: readonly ExtendedKeyUsage[]): pkijs.Extension[] {
  // digitalSignature (bit 0) and keyEncipherment (bit 2) of a 3-bit string: 101 followed by 5 unused bits.
  const keyUsage = new asn1js.BitString({ valueHex: new Uint8Array([0b1010_0000]).buffer, unusedBits: 5 });
  const purposes: ExtendedKeyUsage[] = ['serverAuth', ...usages.filter((usage) => usage !== 'serverAuth')];
  const extendedKeyUsage = new pkijs.ExtKeyUsage({ keyPurposes: purposes.map((usage) => oid[usage]) });
  return [
    new pkijs.Extension({ extnID: oid.basicConstraints, critical: true, extnValue: new pkijs.BasicConstraints({ cA: false }).toSchema().toBER(false) }),
    new pkijs.Extension({ extnID: oid.keyUsage, critical: true, extnValue: keyUsage.toBER(false) }),
    new pkijs.Extension({ extnID: oid.extendedKeyUsage, critical: false, extnValue: extendedKeyUsage.toSchema().toBER(false) }),
    new pkijs.Extension({ extnID: oid.subjectAltName, critical: false, extnValue: new pkijs.GeneralNames({ names: hosts.map(generalName) }).toSchema().toBER(false) }),
  ];
}

/** An IP address (type 7, its bytes) or a DNS name (type 2), as Go's SelfCert splits a host. */
function generalName(host: string): pkijs.GeneralName {
  const name = hostOf(host);
  const family = isIP(name);
  if (family === 4) return new pkijs.GeneralName({ type: 7, value: new asn1js.OctetString({ valueHex: new Uint8Array(name.split('.').map(Number)).buffer }) });
  if (family === 6) return new pkijs.GeneralName({ type: 7, value: new asn1js.OctetString({ valueHex: ipv6Bytes(name).buffer }) });
  return new pkijs.GeneralName({ type: 2, value: name });
}

/** "127.0.0.1:2380" → "127.0.0.1", "[::1]:2380" → "::1", "localhost" → "localhost". */
function hostOf(host: string): string {
  const bracketed = /^\[([^\]]+)\](?::\d+)?$/.exec(host);
  if (bracketed?.[1] !== undefined) return bracketed[1];
  const colon = host.lastIndexOf(':');
  return colon > 0 && host.indexOf(':') === colon ? host.slice(0, colon) : host;
}

function ipv6Bytes(address: string): Uint8Array {
  const [head = '', tail = ''] = address.split('::');
  const groups = (part: string): number[] => (part === '' ? [] : part.split(':').map((group) => parseInt(group, 16)));
  const front = groups(head);
  const back = address.includes('::') ? groups(tail) : [];
  const all = [...front, ...new Array<number>(8 - front.length - back.length).fill(0), ...back];
  return new Uint8Array(all.flatMap((group) => [group >> 8, group & 0xff]));
}

function pem(label: string, der: Buffer): string {
  const lines = der.toString('base64').match(/.{1,64}/g) ?? [];
  return `-----BEGIN ${label}-----\n${lines.join('\n')}\n-----END ${label}-----\n`;
}

/**
 * A certificate serial from 16 random bytes: a positive INTEGER below 2^128,
 * as etcd's, in DER's shortest form. A first byte of 0x00 (padding) or of
 * 0x80 and above (a negative number) would make the certificate unreadable,
 * so the first byte is mapped into 0x01…0x7f.
 */
export function serialNumber(random: Uint8Array): Uint8Array {
  const serial = Uint8Array.from(random);
  serial[0] = 0x01 + ((serial[0] ?? 0) % 0x7f);
  return serial;
}
