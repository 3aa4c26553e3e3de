// The text of `cairn --help`: cairn's own flags (config.ts), then the etcd
// flags it accepts without acting on them (etcd-flags.ts).
import { etcdFlagsHelp } from './etcd-flags.js';

const ownFlags = `Usage: cairn [flags]

A Raft-replicated MVCC key/value store that speaks the etcd v3 gRPC API.
With no flags it runs one node on 127.0.0.1:2379 with its data in ./default.cairn.

Member flags:
  --name NAME                       human-readable name of this member (default "default")
  --data-dir DIR                    path to the data directory (default "\${name}.cairn")
  --listen-client-urls URLS         comma-separated URLs to serve clients on (default http://127.0.0.1:2379)
  --advertise-client-urls URLS      client URLs advertised to the cluster (default http://127.0.0.1:2379)
  --listen-peer-urls URLS           URLs to listen on for peer traffic (default http://127.0.0.1:2380)
  --listen-metrics-urls URLS        more URLs serving only /metrics and the health endpoints
  --max-txn-ops N                   most operations in one txn request (default 128)
  --max-request-bytes N             largest client request in bytes (default 1572864)
  --quota-backend-bytes N           backend size quota; 0 = default, negative = none (default 2 GiB)
  --heartbeat-interval MS           heartbeat interval (default 100)
  --election-timeout MS             election timeout (default 1000)
  --snapshot-count N                committed entries between snapshots (default 100000)
  --log-level LEVEL                 debug, info, warn, error, panic or fatal (default info)
  --logger zap|capnslog             accepted as etcd's; cairn writes JSON lines either way (default zap)
  --log-outputs OUTPUTS             stderr, stdout or file paths, comma-separated (default "default": stderr)
  --experimental-enable-distributed-tracing
                                    trace client calls and their proposals with OpenTelemetry (OTLP gRPC)
  --experimental-distributed-tracing-address HOST:PORT   the collector (default localhost:4317)
  --experimental-distributed-tracing-service-name NAME   service.name (default cairn)
  --experimental-distributed-tracing-instance-id ID      service.instance.id (default none)
  --experimental-distributed-tracing-sampling-rate N     traces begun here to sample, per million (default 0;
                                    a client's sampled trace is always continued)
  --auto-compaction-mode MODE       periodic (default) or revision
  --auto-compaction-retention R     0 = off (default); periodic: a duration (1h30m) or hours (24);
                                    revision: how many revisions to keep
  --experimental-watch-progress-notify-interval D
                                    interval of watch progress notifications (default 10m)
  --enable-ui                       serve the web console at /ui/ on the client URLs (default true;
                                    --enable-ui=false turns it off)

Security flags:
  --cert-file FILE                  certificate of the https:// client URLs (PEM)
  --key-file FILE                   private key of --cert-file (PEM)
  --trusted-ca-file FILE            CA bundle that client certificates must be signed by (PEM);
                                    as in etcd, giving it requires client certificates
  --client-cert-auth                require a client certificate signed by --trusted-ca-file;
                                    with auth enabled, its common name is the user of a request without a token
  --auto-tls                        without --cert-file, serve https:// client URLs with a self-signed
                                    certificate made in <data-dir>/fixtures/client (proves nothing)
  --peer-cert-file FILE             certificate of the https:// peer URLs, also presented to peers (PEM)
  --peer-key-file FILE              private key of --peer-cert-file (PEM)
  --peer-trusted-ca-file FILE       CA bundle that peers' certificates must be signed by (PEM); giving it
                                    requires peers to present one
  --peer-client-cert-auth           require a peer certificate signed by --peer-trusted-ca-file
  --peer-auto-tls                   without --peer-cert-file, a self-signed peer certificate made in
                                    <data-dir>/fixtures/peer; peers then verify no certificate at all
  --cipher-suites LIST              comma-separated TLS 1.2 cipher suites, Go's names as etcd takes them
                                    (TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256,...); default the library's
  --tls-min-version V               TLS1.2 or TLS1.3 (default TLS1.2)
  --tls-max-version V               TLS1.2 or TLS1.3 (default the highest, TLS1.3)
  --auth-token TYPE                 how auth tokens are made: simple (default), or
                                    jwt,sign-method=RS256,priv-key=FILE,pub-key=FILE,ttl=5m as etcd
  --auth-token-ttl SECONDS          how long a simple token lives without use (default 300)
  --bcrypt-cost N                   bcrypt cost of user passwords, 4 to 31 (default 10)

Clustering flags:
  --initial-advertise-peer-urls URLS  --initial-cluster NAME=URL,...  --initial-cluster-state new|existing
  --initial-cluster-token TOKEN

Every flag may also come from the environment variable ETCD_<FLAG> (ETCD_LISTEN_CLIENT_URLS for
--listen-client-urls) when the command line does not set it, as etcd reads them.

  --config-file FILE                YAML file with the flags above as keys (replaces the command line
                                    and the environment; keys cairn does not use are warned about);
                                    the TLS keys may also sit under client-transport-security and
                                    peer-transport-security, as in etcd's
  --version                         print the version and exit
  -h, --help                        print this help and exit
`;

/** The help text, also printed before the message of a command line that does not parse. */
export const usage = `${ownFlags}\n${etcdFlagsHelp()}`;
