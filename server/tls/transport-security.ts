// The TLS settings of one side of a member, as etcd 3.4 groups them: the
// client port (--cert-file, --key-file, --trusted-ca-file, --client-cert-auth,
// --auto-tls; client-transport-security in a config file) and the peer port
// (the same flags with a peer- prefix; peer-transport-security). The rules
// here are checked before anything starts, one sentence each.

/** One side's TLS settings: paths of PEM files and two switches. */
export interface TransportSecurity {
  certFile?: string;
  keyFile?: string;
  trustedCaFile?: string;
  /**
   * Require a certificate signed by trustedCaFile from whoever connects over
   * https://. As in etcd 3.4, a trustedCaFile requires them too, with or
   * without this flag.
   */
  clientCertAuth: boolean;
  /**
   * Without certFile/keyFile, make a self-signed certificate in
   * <data-dir>/fixtures/client (or /peer) and use it, as etcd's --auto-tls and
   * --peer-auto-tls. Such certificates prove nothing: dialers do not verify
   * them, and trustedCaFile and clientCertAuth are then ignored (etcd
   * replaces the whole TLS setting with the generated one).
   */
  autoTls: boolean;
}

export type TransportSide = 'client' | 'peer';

/** The flag names of a side, as messages and the usage text name them. */
export function sideFlags(side: TransportSide): { certFile: string; keyFile: string; trustedCaFile: string; clientCertAuth: string; autoTls: string } {
  const prefix = side === 'peer' ? 'peer-' : '';
  return {
    certFile: `--${prefix}cert-file`,
    keyFile: `--${prefix}key-file`,
    trustedCaFile: `--${prefix}trusted-ca-file`,
    clientCertAuth: `--${prefix}client-cert-auth`,
    autoTls: `--${prefix}auto-tls`,
  };
}

/** Whether this side makes its own self-signed certificate (auto-TLS asked for, no certificate given). */
export function usesAutoTls(security: TransportSecurity): boolean {
  return security.autoTls && security.certFile === undefined && security.keyFile === undefined;
}

/**
 * The rule this side's settings break, as one sentence, or undefined.
 * `listenUrls` are the side's --listen-*-urls: an https:// one needs a
 * certificate (given, or made by auto-TLS), in etcd 3.4's words for each side.
 */
export function transportSecurityProblem(side: TransportSide, security: TransportSecurity, listenUrls: readonly string[]): string | undefined {
  const flags = sideFlags(side);
  const { certFile, keyFile, trustedCaFile, clientCertAuth } = security;
  const hasCertificate = (certFile !== undefined && keyFile !== undefined) || usesAutoTls(security);
  for (const url of listenUrls) {
    const parsed = new URL(url);
    if (parsed.protocol !== 'https:' || hasCertificate) continue;
    // etcd 3.4's exact words: embed/etcd.go (configureClientListeners) for clients, pkg/transport/listener_tls.go for peers.
    return side === 'client'
      ? `TLS key/cert (--cert-file, --key-file) must be provided for client url ${url} with HTTPS scheme`
      : `cannot listen on TLS for ${parsed.host}: KeyFile and CertFile are not presented`;
  }
  if ((certFile === undefined) !== (keyFile === undefined)) return `${flags.certFile} and ${flags.keyFile} must be given together`;
  // etcd would then check certificates against the system roots; cairn asks for the CA that signs them.
  if (clientCertAuth && trustedCaFile === undefined && !usesAutoTls(security)) return `${flags.clientCertAuth} needs ${flags.trustedCaFile}`;
  return undefined;
}

/** What auto-TLS leaves out of this side's settings, as a line for the log; undefined when nothing. */
export function autoTlsIgnores(side: TransportSide, security: TransportSecurity): string | undefined {
  if (!usesAutoTls(security)) return undefined;
  const flags = sideFlags(side);
  const ignored = [
    ...(security.trustedCaFile === undefined ? [] : [flags.trustedCaFile]),
    ...(security.clientCertAuth ? [flags.clientCertAuth] : []),
  ];
  if (ignored.length === 0) return undefined;
  return `${flags.autoTls} uses a self-signed certificate: ${ignored.join(' and ')} ignored, as etcd does; nobody's certificate is verified`;
}
