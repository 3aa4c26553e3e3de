// Certificates for TLS tests, made with the openssl binary into a temporary
// directory on each run (no key is committed): a CA, a server certificate
// for 127.0.0.1 and localhost (also good as a client's, so members use it
// as their peer certificate), a client certificate (CN "root") signed by the
// CA, and a second CA with a client certificate and a server/peer
// certificate of its own, which servers trusting the first CA must refuse.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { ServerTls } from './launcher.js';

export interface TlsFiles {
  readonly dir: string;
  /** The CA that signed the server and client certificates. */
  readonly caFile: string;
  readonly serverCertFile: string;
  readonly serverKeyFile: string;
  /** Client certificate, CN "root", signed by caFile. */
  readonly clientCertFile: string;
  readonly clientKeyFile: string;
  /** Another CA, not trusted by servers started with caFile. */
  readonly otherCaFile: string;
  /** Client certificate, CN "root", signed by otherCaFile. */
  readonly otherClientCertFile: string;
  readonly otherClientKeyFile: string;
  /** Like serverCertFile (127.0.0.1, server and client use) but signed by otherCaFile: a foreign member's. */
  readonly otherServerCertFile: string;
  readonly otherServerKeyFile: string;
  /** Removes the directory and every file in it. */
  remove(): void;
}

const openssl = process.env.OPENSSL_BIN ?? 'openssl';
const validDays = '2';

/** Makes a fresh set of certificates; the caller removes them with `remove()`. */
export function makeTlsFiles(): TlsFiles {
  const dir = mkdtempSync(join(tmpdir(), 'cairn-tls-'));
  try {
    const path = (name: string) => join(dir, name);
    selfSignedCa(path('ca'), 'cairn test CA');
    selfSignedCa(path('other-ca'), 'cairn other test CA');
    const serverExtensions = 'subjectAltName=IP:127.0.0.1,DNS:localhost\nextendedKeyUsage=serverAuth,clientAuth\n';
    signed(path('server'), path('ca'), 'cairn test server', serverExtensions);
    signed(path('other-server'), path('other-ca'), 'cairn foreign server', serverExtensions);
    signed(path('client'), path('ca'), 'root', 'extendedKeyUsage=clientAuth\n');
    signed(path('other-client'), path('other-ca'), 'root', 'extendedKeyUsage=clientAuth\n');
    return {
      dir,
      caFile: path('ca.pem'),
      serverCertFile: path('server.pem'),
      serverKeyFile: path('server.key'),
      clientCertFile: path('client.pem'),
      clientKeyFile: path('client.key'),
      otherCaFile: path('other-ca.pem'),
      otherClientCertFile: path('other-client.pem'),
      otherClientKeyFile: path('other-client.key'),
      otherServerCertFile: path('other-server.pem'),
      otherServerKeyFile: path('other-server.key'),
      remove: () => rmSync(dir, { recursive: true, force: true }),
    };
  } catch (error) {
    rmSync(dir, { recursive: true, force: true });
    throw error;
  }
}

/** An EC P-256 key (fast to make) at `${base}.key`. */
function key(base: string): void {
  run(['genpkey', '-algorithm', 'EC', '-pkeyopt', 'ec_paramgen_curve:P-256', '-out', `${base}.key`]);
}

function selfSignedCa(base: string, commonName: string): void {
  key(base);
  run(['req', '-x509', '-new', '-key', `${base}.key`, '-out', `${base}.pem`, '-days', validDays, '-subj', `/CN=${commonName}`,
    '-addext', 'basicConstraints=critical,CA:TRUE', '-addext', 'keyUsage=critical,keyCertSign,cRLSign']);
}

function signed(base: string, caBase: string, commonName: string, extensions: string): void {
  key(base);
  run(['req', '-new', '-key', `${base}.key`, '-out', `${base}.csr`, '-subj', `/CN=${commonName}`]);
  writeFileSync(`${base}.ext`, extensions);
  run(['x509', '-req', '-in', `${base}.csr`, '-CA', `${caBase}.pem`, '-CAkey', `${caBase}.key`, '-set_serial', String(Date.now()),
    '-days', validDays, '-extfile', `${base}.ext`, '-out', `${base}.pem`]);
}

function run(args: string[]): void {
  execFileSync(openssl, args, { stdio: ['ignore', 'ignore', 'pipe'] });
}

/**
 * A server's client TLS with `files`: the server certificate, client
 * certificates required (--trusted-ca-file and --client-cert-auth), and a
 * readiness probe that presents the client certificate (CN "root").
 */
export function mutualTls(files: TlsFiles): ServerTls {
  return {
    certFile: files.serverCertFile,
    keyFile: files.serverKeyFile,
    trustedCaFile: files.caFile,
    clientCertAuth: true,
    probe: { caFile: files.caFile, certFile: files.clientCertFile, keyFile: files.clientKeyFile },
  };
}
