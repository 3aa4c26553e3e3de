// Wires one cairn member together: backend + MVCC store, WAL + single-node
// loop, the applier, and the gRPC services on every client URL.
import { Server, ServerCredentials } from '@grpc/grpc-js';
import { randomBytes } from 'node:crypto';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { MemberIdentity } from '../proto/gen/cairnpb/internal.js';
import {
  AuthService,
  ClusterService,
  CompactionResponse,
  DeleteRangeResponse,
  KVService,
  LeaseGrantResponse,
  LeaseKeepAliveResponse,
  LeaseLeasesResponse,
  LeaseRevokeResponse,
  LeaseService,
  LeaseTimeToLiveResponse,
  MaintenanceService,
  PutResponse,
  WatchResponse,
  WatchService,
  RangeResponse,
  TxnResponse,
} from '../proto/gen/etcdserverpb/rpc.js';
import { withSharedResponseEncoding } from './api/encoding.js';
import { Applier } from './apply/applier.js';
import { leaseService } from './api/lease.js';
import { Coordination } from './api/concurrency.js';
import { electionService } from './api/election.js';
import { lockService } from './api/lock.js';
import { LockService } from '../proto/gen/v3lockpb/v3lock.js';
import { ElectionService } from '../proto/gen/v3electionpb/v3election.js';
import { watchService } from './api/watch.js';
import { LeaseExpiry, systemClock, type Clock } from './lease/expiry.js';
import { LeaseTable } from './lease/table.js';
import { WatchHub } from './watch/hub.js';
import { authService } from './api/auth.js';
import { clusterService } from './api/cluster.js';
import type { ServiceContext } from './api/context.js';
import { kvService } from './api/kv.js';
import { maintenanceService } from './api/maintenance.js';
import type { ServerConfig } from './config.js';
import { Backend } from './mvcc/backend.js';
import { MvccStore } from './mvcc/store.js';
import { defaultSingleNodeLimits, SingleNode } from './node/single-node.js';
import { Wal } from './storage/wal.js';

/** gRPC may take this much more than --max-request-bytes, as etcd allows, so the server can answer "request is too large" itself. */
const grpcOverheadBytes = 512 * 1024;
const shutdownGraceMs = 2_000;
const metaIdentity = 'member_identity';

/** How often the node looks for expired leases, and how many revokes it proposes each time (etcd: 1,000/s). */
const leaseCheckIntervalMs = 500;
const leaseRevokesPerCheckMax = 500;
/** Bounds of one watch stream. */
const watchStreamLimits = { queuedResponsesMax: 4_096, watchersMax: 100_000 };

export interface StartedServer {
  readonly context: ServiceContext;
  /** host:port actually bound for each client URL. */
  readonly boundAddresses: string[];
  stop(): Promise<void>;
}

/** etcd's minimum lease TTL: 1.5 election timeouts, rounded up to whole seconds. */
export function minLeaseTtlSeconds(config: ServerConfig): bigint {
  const electionTicks = Math.floor(config.electionTimeoutMs / config.heartbeatIntervalMs);
  const minTtlMs = Math.floor((3 * electionTicks) / 2) * config.heartbeatIntervalMs;
  return BigInt(Math.ceil(minTtlMs / 1000));
}

export async function startServer(config: ServerConfig, log: (line: string) => void = () => {}, clock: Clock = systemClock): Promise<StartedServer> {
  const memberDir = join(config.dataDir, 'member');
  mkdirSync(memberDir, { recursive: true });
  const backend = new Backend(join(memberDir, 'snap'));
  const store = new MvccStore(backend);
  const { wal, contents } = Wal.open(join(memberDir, 'wal'));
  if (contents.tornBytes > 0) log(`wal: cut ${contents.tornBytes} bytes of a torn write at the tail`);
  const leases = new LeaseTable(backend, minLeaseTtlSeconds(config));
  leases.restore(store);
  const expiry = new LeaseExpiry(leases, clock);
  const applier = new Applier(store, leases);
  const node = new SingleNode(wal, store, backend, applier, { ...defaultSingleNodeLimits, requestBytesMax: config.maxRequestBytes });
  const replayed = node.replay(contents.entries);
  log(`recovered: revision ${store.currentRevision}, log index ${node.committedIndex}, ${replayed} entries replayed`);
  const identity = loadIdentity(backend, config);
  const context: ServiceContext = { config, node, applier, store, backend, memberId: identity.memberId, clusterId: identity.clusterId };
  const hub = new WatchHub(store);
  node.observeChanges((changes) => hub.notify(changes));
  const leaseTimer = setInterval(() => {
    for (const ID of expiry.takeExpired(leaseRevokesPerCheckMax)) {
      node.propose({ leaseRevoke: { ID } }).then(
        () => expiry.settled(ID),
        () => expiry.settled(ID),
      );
    }
  }, leaseCheckIntervalMs);

  const server = new Server({
    'grpc.max_receive_message_length': config.maxRequestBytes + grpcOverheadBytes,
    'grpc.max_send_message_length': -1,
    'grpc.http2.min_ping_interval_without_data_ms': 5_000,
    // channelz tracks every call and session for a debugging service cairn does not serve: pure per-call overhead.
    'grpc.enable_channelz': 0,
  });
  const kvDefinition = withSharedResponseEncoding(KVService, {
    range: RangeResponse,
    put: PutResponse,
    deleteRange: DeleteRangeResponse,
    txn: TxnResponse,
    compact: CompactionResponse,
  });
  server.addService(kvDefinition, kvService(context));
  server.addService(MaintenanceService, maintenanceService(context));
  server.addService(AuthService, authService(context));
  server.addService(
    withSharedResponseEncoding(LeaseService, {
      leaseGrant: LeaseGrantResponse,
      leaseRevoke: LeaseRevokeResponse,
      leaseKeepAlive: LeaseKeepAliveResponse,
      leaseTimeToLive: LeaseTimeToLiveResponse,
      leaseLeases: LeaseLeasesResponse,
    }),
    leaseService(context, leases, expiry),
  );
  const coordination = new Coordination(context, hub, leases, expiry);
  server.addService(LockService, lockService(coordination));
  server.addService(ElectionService, electionService(coordination));
  server.addService(withSharedResponseEncoding(WatchService, { watch: WatchResponse }), watchService(context, hub, { ...watchStreamLimits, progressNotifyIntervalMs: config.watchProgressNotifyIntervalMs }));
  server.addService(ClusterService, clusterService(context));
  const boundAddresses: string[] = [];
  try {
    for (const url of config.listenClientUrls) {
      const host = new URL(url).host;
      const port = await new Promise<number>((resolve, reject) =>
        server.bindAsync(host, ServerCredentials.createInsecure(), (error, bound) =>
          error ? reject(new Error(`cannot serve clients on ${url}: ${error.message}`)) : resolve(bound),
        ),
      );
      boundAddresses.push(`${new URL(url).hostname}:${port}`);
    }
  } catch (error) {
    clearInterval(leaseTimer);
    hub.close();
    server.forceShutdown();
    wal.close();
    await backend.close();
    throw error;
  }
  return {
    context,
    boundAddresses,
    async stop() {
      clearInterval(leaseTimer);
      await new Promise<void>((resolve) => {
        const timer = setTimeout(() => {
          server.forceShutdown();
          resolve();
        }, shutdownGraceMs);
        server.tryShutdown(() => {
          clearTimeout(timer);
          resolve();
        });
      });
      hub.close();
      await node.stop();
      wal.close();
      await backend.close();
    },
  };
}

/** The member and cluster ids, chosen once when the data directory is new. */
function loadIdentity(backend: Backend, config: ServerConfig): { memberId: bigint; clusterId: bigint } {
  const stored = backend.getMeta(metaIdentity);
  if (stored !== undefined) {
    const identity = MemberIdentity.decode(stored);
    return { memberId: identity.memberId, clusterId: identity.clusterId };
  }
  const identity: MemberIdentity = {
    memberId: randomBytes(8).readBigUInt64BE() || 1n,
    clusterId: randomBytes(8).readBigUInt64BE() || 1n,
    name: config.name,
  };
  backend.transaction(() => backend.putMeta(metaIdentity, Buffer.from(MemberIdentity.encode(identity).finish())));
  return { memberId: identity.memberId, clusterId: identity.clusterId };
}
