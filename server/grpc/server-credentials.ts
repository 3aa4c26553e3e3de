// gRPC server credentials of a listen URL: plaintext for http://, TLS for
// https:// with the side's certificate (tls/tls-material.ts), for the peer
// URLs (the client URLs terminate TLS in http/client-port.ts).
//
// grpc-js's ServerCredentials.createSsl takes no cipher list and no TLS
// versions, so --cipher-suites, --tls-min-version and --tls-max-version could
// not reach the server through it. ServerCredentials is a public class whose
// constructor takes Node's own TLS server options and secure context options,
// which grpc-js hands to http2.createSecureServer unchanged: TlsServerCredentials
// passes the same options createSsl would, plus those three.
import { ServerCredentials } from '@grpc/grpc-js';
import { clientCertificateOptions, secureContextOptions, type TlsMaterial } from '../tls/tls-material.js';

class TlsServerCredentials extends ServerCredentials {
  constructor(tls: TlsMaterial) {
    super(
      clientCertificateOptions(tls),
      secureContextOptions(tls),
    );
  }

  /** New certificate, key and CA for the handshakes to come (grpc-js sets them on every server bound with these credentials). */
  replace(tls: TlsMaterial): void {
    this.updateSecureContextOptions(secureContextOptions(tls));
  }

  /** grpc-js asks whether two binds share credentials; each of these is built once and only equals itself. */
  override _equals(other: ServerCredentials): boolean {
    return other === this;
  }
}

/** The credentials of each listen URL's scheme, for one side. */
export class ListenCredentials {
  private readonly insecure = ServerCredentials.createInsecure();
  private readonly secure: TlsServerCredentials | undefined;

  /** `tls` undefined: no certificate for this side (config.ts then refuses its https:// listen URLs). */
  constructor(tls: TlsMaterial | undefined) {
    this.secure = tls === undefined ? undefined : new TlsServerCredentials(tls);
  }

  /** Serves `tls` (its files changed) from the next handshake on. */
  replace(tls: TlsMaterial): void {
    this.secure?.replace(tls);
  }

  /** TLS on an https:// URL, plaintext on an http:// one (as etcd). */
  forUrl(url: string): ServerCredentials {
    if (new URL(url).protocol !== 'https:') return this.insecure;
    if (this.secure === undefined) throw new Error(`server: no TLS certificate for ${url}, which config validation should have refused`);
    return this.secure;
  }
}
