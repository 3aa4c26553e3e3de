// Wires one cairn member together: backend + MVCC store, WAL + Raft node,
// the applier, the peer transport and service on every peer URL, and the
// gRPC services on every client URL.
import { Server, type ServerCredentials } from '@grpc/grpc-js';
import { randomBytes } from 'node:crypto';
import { mkdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
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
  type Member,
  PutResponse,
  WatchService,
  RangeResponse,
  TxnResponse,
} from '../proto/gen/etcdserverpb/rpc.js';
import { withSharedResponseEncoding } from './api/encoding.js';
import { frameWatchResponses, watchResponseEncoder } from './api/watch-events.js';
import { withTolerantRequestStreams } from './grpc/request-streams.js';
import { Applier } from './apply/applier.js';
import { leaseRenewHere, leaseService, leaseTimeToLiveHere } from './api/lease.js';
import { NotLeaderError } from './node/errors.js';
import { Coordination } from './coordination/coordination.js';
import { electionService } from './api/election.js';
import { lockService } from './api/lock.js';
import { callerAuth } from './api/caller.js';
import type { CallIdentity } from './grpc/unary.js';
import { LockService } from '../proto/gen/v3lockpb/v3lock.js';
import { ElectionService } from '../proto/gen/v3electionpb/v3election.js';
import { watchService } from './api/watch.js';
import { realClock, type Clock, type Timer } from './clock.js';
import { LeaseExpiry } from './lease/expiry.js';
import { LeaseTable } from './lease/table.js';
import { WatchHub } from './watch/hub.js';
import { authService } from './api/auth.js';
import { clusterService, promoteOnLeader } from './api/cluster.js';
import { fillHeader, type ServiceContext } from './api/context.js';
import { coordinationKvPath, kvService } from './api/kv.js';
import { decodeTxnRequest } from './requests/checks.js';
import { maintenanceService } from './api/maintenance.js';
import { ConfigError, type ServerConfig } from './config.js';
import { Backend } from './mvcc/backend.js';
import { MvccStore } from './mvcc/store.js';
import { RaftNode } from './node/raft-node.js';
import { startLog } from './node/bootstrap.js';
import { Membership } from './membership/membership.js';
import { raftNodeId } from './membership/ids.js';
import { PeerTransport } from './transport/peer-transport.js';
import { PeerDialer } from './transport/peer-client.js';
import { peerService } from './transport/peer-service.js';
import { peerGrpcMessageBytesMax } from './transport/peer-checks.js';
import { PeerService } from '../proto/gen/cairnpb/peer.js';
import { LeaderForwarder } from './api/forwarder.js';
import { Wal } from './storage/wal.js';
import { lockDataDir, type DataDirLock } from './storage/data-dir-lock.js';
import { AlarmSet } from './alarm/alarms.js';
import { BackendQuota, quotaBytesFromFlag, quotaBytesSuggestedMax } from './alarm/quota.js';
import { QuotaGuard } from './api/quota.js';
import { ListenCredentials } from './grpc/server-credentials.js';
import { ClientPort } from './http/client-port.js';
import { clientHttp, metricsHttp } from './http/client-http.js';
import { GatewayLoopback } from './http/gateway/loopback.js';
import { ServerMetrics } from './metrics/server-metrics.js';
import { GrpcMetrics } from './grpc/call-metrics.js';
import { GrpcServer } from './grpc/serving/server.js';
import { callLog } from './grpc/call-log.js';
import { callTracing } from './grpc/call-tracing.js';
import { trace, type Tracer } from '@opentelemetry/api';
import { cairnVersion } from './version.js';
import { slowApplyWarnings } from './logging/slow-apply.js';
import { watchTlsFiles } from './tls/tls-reload.js';
import { HealthImplementation } from 'grpc-health-check';
import { AutoCompactor } from './compaction/auto-compactor.js';
import { readTlsFiles, withAutoTls, type ServerTls } from './tls/tls-material.js';
import { AuthStore } from './auth/store.js';
import { silentLog, type Log } from './log.js';
import { grpcMessageBytesMax } from './grpc/message-limits.js';
import { SimpleTokens, type TokenProvider } from './auth/tokens.js';
import { JwtOptionsError, JwtTokens } from './auth/jwt.js';

const shutdownGraceMs = 2_000;

/** How often the node looks for expired leases, and how many revokes it proposes each time (etcd: 1,000/s). */
const leaseCheckIntervalMs = 500;
const leaseRevokesPerCheckMax = 500;
/** Bounds of one watch stream. */
const watchStreamLimits = { queuedResponsesMax: 4_096, watchersMax: 100_000 };

export interface StartedServer {
  readonly context: ServiceContext;
  /** host:port actually bound for each client URL. */
  readonly boundAddresses: string[];
  /** host:port actually bound for each peer URL. */
  readonly boundPeerAddresses: string[];
  /** host:port actually bound for each --listen-metrics-urls URL. */
  readonly boundMetricsAddresses: string[];
  /** Resolves when the member must stop on its own (removed from the cluster, or a fatal error). */
  readonly ended: Promise<string>;
  stop(): Promise<void>;
}

/** etcd's minimum lease TTL: 1.5 election timeouts, rounded up to whole seconds. */
export function minLeaseTtlSeconds(config: ServerConfig): bigint {
  const electionTicks = Math.floor(config.electionTimeoutMs / config.heartbeatIntervalMs);
  const minTtlMs = Math.floor((3 * electionTicks) / 2) * config.heartbeatIntervalMs;
  return BigInt(Math.ceil(minTtlMs / 1000));
}

/** etcd's request timeout: 5 s plus two election timeouts. */
export function requestTimeoutMs(config: ServerConfig): number {
  return 5_000 + 2 * config.electionTimeoutMs;
}

/** Entries kept behind a snapshot for followers that are a little behind (etcd keeps 5,000). */
const snapshotCatchUpEntriesMax = 5_000;
const pendingProposalsMax = 20_000;
/** How often a member checks that its name and client URLs are published in the membership. */
const publishCheckIntervalMs = 50;

export async function startServer(config: ServerConfig, log: Log = silentLog, clock: Clock = realClock): Promise<StartedServer> {
  // Before anything is created: a TLS file that cannot be used stops the start with a ConfigError.
  const tlsFiles = readTlsFiles(config);
  // So does a JWT key file.
  const tokens = tokenProvider(config, clock, log);
  const memberDir = join(config.dataDir, 'member');
  try {
    mkdirSync(memberDir, { recursive: true });
    const dirLock = await lockDataDir(memberDir, log, clock);
    try {
      // Auto-TLS writes its certificates into the data directory: only the member that holds it.
      const tls = await withAutoTls(tlsFiles, config, clock.wallMs(), log);
      return await startMember(config, tls, tokens, memberDir, dirLock, log, clock);
    } catch (error) {
      dirLock.release();
      throw error;
    }
  } catch (error) {
    tokens.close();
    throw error;
  }
}

/** The tokens of --auth-token: simple ones kept in memory, or JWTs signed with the configured key. Throws ConfigError. */
function tokenProvider(config: ServerConfig, clock: Clock, log: Log): TokenProvider {
  const { token } = config.auth;
  if (token.kind === 'simple') return new SimpleTokens(clock, config.auth.tokenTtlSeconds * 1_000);
  // As etcd: unknown options are reported and left alone.
  for (const name of token.unknownOptions) log.warn(`--auth-token jwt: unknown option "${name}" ignored`);
  try {
    return JwtTokens.open(clock, token.options);
  } catch (error) {
    if (error instanceof JwtOptionsError) throw new ConfigError(error.message);
    throw error;
  }
}

/** Starts the member whose data directory this process holds (`dirLock`); stopping it releases the directory. */
async function startMember(config: ServerConfig, tls: ServerTls, tokens: TokenProvider, memberDir: string, dirLock: DataDirLock, log: Log, clock: Clock): Promise<StartedServer> {
  const snapDir = join(memberDir, 'snap');
  const backend = new Backend(snapDir);
  const store = new MvccStore(backend, clock, log);
  const { wal, contents } = Wal.open(join(memberDir, 'wal'));
  if (contents.tornBytes > 0) log.warn(`wal: cut ${contents.tornBytes} bytes of a torn write at the tail`);
  const leases = new LeaseTable(backend, minLeaseTtlSeconds(config));
  leases.restore(store);
  const expiry = new LeaseExpiry(leases, clock);
  const alarms = new AlarmSet(backend, log);
  const quota = new BackendQuota(quotaBytesFromFlag(config.quotaBackendBytes), () => backend.sizeBytes());
  if ((quota.limitBytes ?? 0) > quotaBytesSuggestedMax) log.warn(`--quota-backend-bytes ${quota.limitBytes} exceeds the suggested maximum of ${quotaBytesSuggestedMax}: performance may degrade`);
  const auth = new AuthStore(backend, tokens);
  const applier = new Applier(store, leases, alarms, auth);
  const membership = new Membership(backend);
  const dialer = new PeerDialer(tls.peer, tls.protocol);
  const { storage, identity, bootMembers } = await startLog(config, wal, contents, backend, dialer, log, clock);
  const hub = new WatchHub(store, clock);
  // Read when Prometheus scrapes; the node is created next.
  const metrics: ServerMetrics = new ServerMetrics({
    memberId: identity.memberId,
    get node() {
      return node;
    },
    store,
    keysTotal: () => store.index.size,
    backend,
    quotaBytes: quota.limitBytes ?? 0,
  });
  let endedWith: (reason: string) => void = () => {};
  const ended = new Promise<string>((resolve) => (endedWith = resolve));
  /** The members last logged as added, to log what changes. */
  let loggedMembers = new Set<bigint>();
  const node: RaftNode = new RaftNode(
    { clock, wal, storage, store, backend, applier, membership, observer: slowApplyWarnings(metrics.observer, () => metrics.slowApplied(), log) },
    {
      memberId: identity.memberId,
      tickMs: config.heartbeatIntervalMs,
      electionTicks: Math.max(2, Math.floor(config.electionTimeoutMs / config.heartbeatIntervalMs)),
      snapshotCount: config.snapshotCount,
      snapshotCatchUpEntries: Math.min(snapshotCatchUpEntriesMax, config.snapshotCount),
      requestTimeoutMs: requestTimeoutMs(config),
      pendingProposalsMax,
      requestBytesMax: config.maxRequestBytes,
      txnOpsMax: config.maxTxnOps,
      seed: randomBytes(4).readUInt32BE(),
      ...(config.tracing.enabled ? { tracer: cairnTracer() } : {}),
    },
    {
      changes: (changes) => {
        hub.notify(changes);
        quotaGuard.applied();
      },
      leadership: (isLeader) => {
        if (isLeader) expiry.promote();
        log.info(isLeader ? `became leader at term ${node.term}` : `is no longer leader (term ${node.term})`);
      },
      membership: (applied) => {
        const members = applied.length > 0 ? applied : bootMembers;
        const known = new Set<number>();
        for (const member of members) {
          known.add(raftNodeId(member.ID));
          if (!loggedMembers.has(member.ID)) log.info('added member', { 'member-id': member.ID.toString(16), 'peer-urls': member.peerURLs, 'is-learner': member.isLearner });
          try {
            transport.setPeer(raftNodeId(member.ID), member.peerURLs);
          } catch (error) {
            // URLs checked before they were proposed cannot get here; an older log may still hold bad ones.
            log.warn(`cannot reach member ${member.ID.toString(16)} at ${member.peerURLs.join(',')}: ${(error as Error).message}`);
          }
        }
        for (const id of transport.peerIds()) if (!known.has(id)) transport.removePeer(id);
        for (const id of loggedMembers) if (!known.has(raftNodeId(id))) log.info('removed member', { 'member-id': id.toString(16) });
        loggedMembers = new Set(members.map((member) => member.ID));
      },
      snapshotInstalled: () => {
        leases.restore(store);
        alarms.reload();
        auth.reload();
        hub.resync();
      },
      removed: () => endedWith('this member was removed from the cluster'),
      fatal: (error) => endedWith(`fatal: ${error.stack ?? error.message}`),
      log,
    },
  );
  const transport = new PeerTransport(identity.memberId, identity.clusterId, clock, dialer, {
    unreachable: (id) => node.reportUnreachable(id),
    snapshotSent: (id, failed) => node.reportSnapshot(id, failed),
    backendImage: async () => {
      const dir = join(snapDir, `outgoing-${clock.wallMs()}-${Math.random().toString(16).slice(2)}`);
      const path = await backend.copyTo(dir);
      return { path, release: () => rmSync(dir, { recursive: true, force: true }) };
    },
    removed: () => endedWith('this member was removed from the cluster'),
    roundTrip: (id, durationMs) => metrics.peerRoundTripped(membership.idOfNode(id) ?? BigInt(id), durationMs),
    log,
  });
  const quotaGuard = new QuotaGuard(node, alarms, quota, log);
  const leader = () => (node.leaderId === 0n ? undefined : membership.get(node.leaderId));
  const forwarder = new LeaderForwarder(leader, dialer, clock);
  const context: ServiceContext = {
    config, node, applier, store, backend, membership, forwarder, alarms, quota: quotaGuard, memberId: identity.memberId, clusterId: identity.clusterId, clock, auth, tokens,
  };
  log.info(`recovered: revision ${store.currentRevision}, applied index ${store.consistentIndex}, log ${storage.firstIndex()}..${storage.lastIndex()}`);

  const leaseTimer = expireLeases(node, expiry, clock);
  const compactor = config.autoCompaction === undefined ? undefined : new AutoCompactor(config.autoCompaction, {
    get currentRevision() {
      return store.currentRevision;
    },
    get isLeader() {
      return node.isLeader;
    },
    compact: async (revision) => void (await node.propose({ compaction: { revision: BigInt(revision), physical: false } }, { internal: true })),
  }, clock, log);
  compactor?.start();
  const publishing = publishAttributes(context, log);

  const peers = peerServer(context, { leases, expiry, bootMembers }, snapDir, log);

  const server = clientServer(context, { leases, expiry, hub, metrics, log });
  // grpc.health.v1.Health, as etcd registers it: the empty service name stands for all of cairn's.
  const health = new HealthImplementation({ '': 'SERVING' });
  // It only calls addService, which GrpcServer has as grpc-js's Server has it.
  health.addToServer(server as unknown as Parameters<HealthImplementation['addToServer']>[0]);
  const boundAddresses: string[] = [];
  const boundPeerAddresses: string[] = [];
  const boundMetricsAddresses: string[] = [];
  const clientPorts: ClientPort[] = [];
  let loopback: GatewayLoopback | undefined;
  const peerCredentials = new ListenCredentials(tls.peer);
  // Certificates rotated by overwriting their files take effect without a restart, as etcd's.
  const reloads = [
    ...(tls.client === undefined ? [] : [watchTlsFiles('client', tls.client, clock, log, (next) => {
      for (const port of clientPorts) port.replace(next);
    })]),
    ...(tls.peer === undefined ? [] : [watchTlsFiles('peer', tls.peer, clock, log, (next) => {
      peerCredentials.replace(next);
      dialer.replace(next);
    })]),
  ];
  const closeAll = async (): Promise<void> => {
    for (const reload of reloads) reload.cancel();
    compactor?.stop();
    leaseTimer.cancel();
    publishing.timer.cancel();
    hub.close();
    tokens.close();
    await node.stop();
    transport.close();
    forwarder.close();
    wal.close();
    store.stop();
    await backend.close();
    dirLock.release();
  };
  try {
    for (const url of config.listenPeerUrls) boundPeerAddresses.push(await bind(peers, url, 'peers', peerCredentials.forUrl(url)));
    node.start(transport);
    await Promise.race([publishing.published, ended.then((reason) => Promise.reject(new Error(reason)))]);
    loopback = await GatewayLoopback.open(server, memberDir);
    const http = clientHttp(context, { metrics, gateway: loopback.client }, requestTimeoutMs(config), log);
    for (const url of config.listenClientUrls) {
      const port = await ClientPort.listen(url, tls.client, { grpc: server, http }, clock);
      clientPorts.push(port);
      boundAddresses.push(port.boundAddress);
    }
    const metricsOnly = metricsHttp(context, metrics, requestTimeoutMs(config), log);
    for (const url of config.listenMetricsUrls) {
      const port = await ClientPort.listen(url, tls.client, { http: metricsOnly }, clock);
      clientPorts.push(port);
      boundMetricsAddresses.push(port.boundAddress);
    }
  } catch (error) {
    await Promise.all(clientPorts.map((port) => port.close()));
    loopback?.close();
    server.forceShutdown();
    peers.forceShutdown();
    await closeAll();
    throw error;
  }
  return {
    context,
    boundAddresses,
    boundPeerAddresses,
    boundMetricsAddresses,
    ended,
    async stop() {
      health.setStatus('', 'NOT_SERVING');
      // No new connections from here; open ones get the grace period.
      const portsClosed = Promise.all(clientPorts.map((port) => port.close()));
      // The gateway's own connection would otherwise hold the gRPC server open for the whole grace period.
      loopback?.close();
      await new Promise<void>((resolve) => {
        const timer = clock.after(shutdownGraceMs, () => {
          server.forceShutdown();
          resolve();
        });
        server.tryShutdown(() => {
          timer.cancel();
          resolve();
        });
      });
      await portsClosed;
      peers.forceShutdown();
      await closeAll();
    },
  };
}

/** The tracer of the process's OpenTelemetry provider (tracing/export.ts sets one up for the binary). */
function cairnTracer(): Tracer {
  return trace.getTracer('cairn', cairnVersion);
}

/** The leader proposes the revocation of expired leases, at a bounded rate. */
function expireLeases(node: RaftNode, expiry: LeaseExpiry, clock: Clock): Timer {
  return clock.every(leaseCheckIntervalMs, () => {
    if (!node.isLeader) return;
    for (const ID of expiry.takeExpired(leaseRevokesPerCheckMax)) {
      node.propose({ leaseRevoke: { ID } }).then(
        () => expiry.settled(ID),
        () => expiry.settled(ID),
      );
    }
  });
}

/**
 * As etcd, a member publishes its name and client URLs through the log and
 * serves clients only once they are in the membership (so a client that can
 * reach it sees it listed as started). `published` resolves then.
 */
function publishAttributes(context: ServiceContext, log: Log): { timer: Timer; published: Promise<void> } {
  const { node, membership, config, memberId, clock } = context;
  let publishing = false;
  let markPublished: () => void = () => {};
  const published = new Promise<void>((resolve) => (markPublished = resolve));
  const timer = clock.every(publishCheckIntervalMs, () => {
    const self = membership.get(memberId);
    if (publishing || self === undefined || node.leaderId === 0n) return;
    if (self.name === config.name && self.clientURLs.join(',') === config.advertiseClientUrls.join(',')) {
      // Nothing changes a member's own name or client URLs while it runs: no need to keep checking.
      timer.cancel();
      // etcd's line, which start-up scripts wait for: the attributes are in the membership, through the log.
      log.info('published local member to cluster through raft', {
        'local-member-id': memberId.toString(16), 'local-member-attributes': { name: config.name, 'client-urls': config.advertiseClientUrls }, 'cluster-id': context.clusterId.toString(16),
      });
      markPublished();
      return;
    }
    publishing = true;
    node
      .propose({ memberAttributes: { memberId, name: config.name, clientUrls: config.advertiseClientUrls } }, { internal: true })
      .catch(() => undefined)
      .finally(() => (publishing = false));
  });
  return { timer, published };
}

/**
 * The peer service other members talk to. Its gRPC messages are bounded
 * (peer-checks.ts); its senders must be members: those of the applied
 * membership, or before this member has applied any, those it started with.
 */
function peerServer(context: ServiceContext, state: { leases: LeaseTable; expiry: LeaseExpiry; bootMembers: Member[] }, snapDir: string, log: Log): Server {
  const { node, membership } = context;
  const { leases, expiry, bootMembers } = state;
  /** What other members forward here only the leader answers; a member that lost leadership meanwhile says so. */
  const onLeader = <Request, Response>(handle: (request: Request) => Promise<Response>) => async (request: Request): Promise<Response> => {
    if (!node.isLeader) throw new NotLeaderError();
    return handle(request);
  };
  const server = new Server({
    'grpc.max_receive_message_length': peerGrpcMessageBytesMax,
    'grpc.max_send_message_length': -1,
    'grpc.enable_channelz': 0,
    'grpc.http2.min_ping_interval_without_data_ms': 1_000,
    'grpc.keepalive_permit_without_calls': 1,
  });
  const isMember = (id: bigint): boolean => membership.get(id) !== undefined || (membership.list().length === 0 && bootMembers.some((member) => member.ID === id));
  server.addService(
    withTolerantRequestStreams(PeerService, ['stream', 'snapshot']),
    peerService(
      {
        memberId: context.memberId,
        clusterId: () => context.clusterId,
        isRemoved: (id) => membership.isRemoved(id),
        isMember,
        memberIdOfNode: (nodeId) => membership.idOfNode(Number(nodeId)) ?? bootMembers.find((member) => BigInt(raftNodeId(member.ID)) === nodeId)?.ID ?? nodeId,
        step: (m) => node.step(m),
        receiveSnapshot: (m, path) => node.receiveSnapshot(m, path),
        leaseRenew: onLeader(async (request) => leaseRenewHere(context, expiry, request)),
        leaseTimeToLive: onLeader(async (request) => leaseTimeToLiveHere(context, leases, expiry, request)),
        memberPromote: onLeader(async (request) => ({ header: fillHeader(context, undefined), members: await promoteOnLeader(context, request) })),
        members: () => ({ clusterId: context.clusterId, members: membership.list() }),
        log,
      },
      snapDir,
      context.clock,
    ),
  );
  return server;
}

/** The etcd v3 services clients talk to, on one gRPC server. */
function clientServer(context: ServiceContext, parts: { leases: LeaseTable; expiry: LeaseExpiry; hub: WatchHub; metrics: ServerMetrics; log: Log }): GrpcServer {
  const { config } = context;
  const { leases, expiry, hub, metrics } = parts;
  const calls = new GrpcMetrics(metrics.registry);
  const server = new GrpcServer({
    clock: context.clock,
    messageBytesMax: grpcMessageBytesMax(config.maxRequestBytes),
    observers: [
      calls.observer,
      ...(config.logLevel === 'debug' ? [callLog(parts.log, context.clock)] : []),
      ...(config.tracing.enabled ? [callTracing(cairnTracer())] : []),
    ],
  });
  const kvDefinition = withSharedResponseEncoding(KVService, {
    range: RangeResponse,
    put: PutResponse,
    deleteRange: DeleteRangeResponse,
    txn: TxnResponse,
    compact: CompactionResponse,
  });
  server.addService({ ...kvDefinition, txn: { ...kvDefinition.txn, requestDeserialize: decodeTxnRequest } }, kvService(context));
  server.addService(MaintenanceService, maintenanceService(context));
  server.addService(AuthService, authService(context));
  server.addService(
    withSharedResponseEncoding(withTolerantRequestStreams(LeaseService, ['leaseKeepAlive']), {
      leaseGrant: LeaseGrantResponse,
      leaseRevoke: LeaseRevokeResponse,
      leaseKeepAlive: LeaseKeepAliveResponse,
      leaseTimeToLive: LeaseTimeToLiveResponse,
      leaseLeases: LeaseLeasesResponse,
    }),
    leaseService(context, leases, expiry),
  );
  const coordination = new Coordination(coordinationKvPath(context, leases, expiry), hub, context.clock);
  const caller = async (call: CallIdentity) => callerAuth(context, call);
  server.addService(LockService, lockService(coordination, caller));
  server.addService(ElectionService, electionService(coordination, caller));
  const watchDefinition = withSharedResponseEncoding(withTolerantRequestStreams(WatchService, ['watch']), { watch: watchResponseEncoder });
  server.addService({ watch: { ...watchDefinition.watch, responseFrames: frameWatchResponses } }, watchService(context, hub, { ...watchStreamLimits, progressNotifyIntervalMs: config.watchProgressNotifyIntervalMs }));
  server.addService(ClusterService, clusterService(context));
  calls.initialize([KVService, MaintenanceService, AuthService, LeaseService, LockService, ElectionService, WatchService, ClusterService]);
  return server;
}

async function bind(server: Server, url: string, who: string, credentials: ServerCredentials): Promise<string> {
  const host = new URL(url).host;
  const port = await new Promise<number>((resolve, reject) =>
    server.bindAsync(host, credentials, (error, bound) =>
      error ? reject(new Error(`cannot serve ${who} on ${url}: ${error.message}`)) : resolve(bound),
    ),
  );
  return `${new URL(url).hostname}:${port}`;
}
