// A pair of servers with client TLS for one describe block: one etcd and one
// cairn started with the same certificates, made for the run
// (harness/tls-fixture.ts), both destroyed with the files after the block.
// COMPAT_BOTH_ETCD=1 starts etcd on the "cairn" side too, as compatPair does.
import { etcdAvailable, startCairn, startEtcd, type ServerHandle, type ServerTls } from '../harness/launcher.js';
import { makeTlsFiles, type TlsFiles } from '../harness/tls-fixture.js';

export interface TlsServers {
  etcd: ServerHandle;
  cairn: ServerHandle;
}

export interface TlsPair {
  /** The certificates the servers were started with. */
  files(): TlsFiles;
  servers(): TlsServers;
}

const startTimeoutMs = 60_000;

/** Starts the pair with client TLS `tls(files)` in a before hook; throws from files()/servers() until it runs. */
export function tlsPair(tls: (files: TlsFiles) => ServerTls): TlsPair {
  let files: TlsFiles | undefined;
  let servers: TlsServers | undefined;
  const started: ServerHandle[] = [];
  before(async function () {
    if (!etcdAvailable()) this.skip();
    this.timeout(startTimeoutMs);
    files = makeTlsFiles();
    const options = { tls: tls(files) };
    const bothEtcd = process.env.COMPAT_BOTH_ETCD === '1';
    const [etcd, cairn] = await Promise.allSettled([startEtcd(options), bothEtcd ? startEtcd(options) : startCairn(options)]);
    for (const result of [etcd, cairn]) if (result.status === 'fulfilled') started.push(result.value);
    for (const result of [etcd, cairn]) if (result.status === 'rejected') throw result.reason;
    if (etcd.status === 'fulfilled' && cairn.status === 'fulfilled') servers = { etcd: etcd.value, cairn: cairn.value };
  });
  after(async () => {
    await Promise.all(started.map((server) => server.destroy()));
    files?.remove();
  });
  return {
    files: () => running(files),
    servers: () => running(servers),
  };
}

function running<T>(value: T | undefined): T {
  if (value === undefined) throw new Error('the TLS pair is not running');
  return value;
}
