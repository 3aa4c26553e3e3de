// The member's Prometheus metrics, under etcd's names, types, labels and
// buckets, so that etcd's dashboards and alerts read cairn unchanged
// (docs/operations.md lists them and what differs). prom-client keeps the
// registry, writes the text format and adds the process_* metrics.
//
// Levels (leader, indexes, sizes, keys) are read from the member when
// Prometheus scrapes; counters kept by the member are brought up to date
// then too; durations (WAL fsync, backend commit, peer round trip) are
// observed one by one as they happen.
import { collectDefaultMetrics, Counter, exponentialBuckets, Gauge, Histogram, Registry } from 'prom-client';
import type { NodeObserver } from '../node/observer.js';
import { etcdApiVersion } from '../version.js';

/** What the metrics read from the member when they are collected. */
export interface MetricsSources {
  readonly memberId: bigint;
  readonly node: {
    readonly leaderId: bigint;
    readonly isLeader: boolean;
    readonly isLearner: boolean;
    readonly committedIndex: number;
    readonly appliedIndexValue: number;
    readonly leaderChangesSeen: number;
    readonly proposalsPending: number;
    readonly proposalsFailed: number;
  };
  readonly store: { readonly currentRevision: number; readonly compactRevision: number };
  /** Keys in the MVCC index, deleted ones included until a compaction removes them (etcd's keys_total). */
  keysTotal(): number;
  readonly backend: { sizeBytes(): number; sizeInUseBytes(): number };
  /** --quota-backend-bytes in effect. */
  readonly quotaBytes: number;
}

/** etcd's buckets for disk latencies: 1 ms to 8 s, doubling. */
const diskBuckets = exponentialBuckets(0.001, 2, 14);
/** etcd's buckets for peer round trips: 0.1 ms to 3.3 s, doubling. */
const roundTripBuckets = exponentialBuckets(0.0001, 2, 16);

export class ServerMetrics {
  readonly registry = new Registry();
  private readonly walFsync: Histogram;
  private readonly backendCommit: Histogram;
  private readonly peerRoundTrip: Histogram<'To'>;
  private readonly healthSuccess: Counter;
  private readonly healthFailures: Counter;
  private readonly slowApplies: Counter;

  constructor(private readonly sources: MetricsSources) {
    const registers = [this.registry];
    collectDefaultMetrics({ register: this.registry });
    this.walFsync = new Histogram({ name: 'etcd_disk_wal_fsync_duration_seconds', help: 'The latency distributions of fsync called by WAL.', buckets: diskBuckets, registers });
    this.backendCommit = new Histogram({ name: 'etcd_disk_backend_commit_duration_seconds', help: 'The latency distributions of commit called by backend.', buckets: diskBuckets, registers });
    this.peerRoundTrip = new Histogram({
      name: 'etcd_network_peer_round_trip_time_seconds', help: 'Round-Trip-Time histogram between peers', labelNames: ['To'], buckets: roundTripBuckets, registers,
    });
    this.healthSuccess = new Counter({ name: 'etcd_server_health_success', help: 'The total number of successful health checks', registers });
    this.healthFailures = new Counter({ name: 'etcd_server_health_failures', help: 'The total number of failed health checks', registers });
    this.slowApplies = new Counter({ name: 'etcd_server_slow_apply_total', help: 'The total number of slow apply requests (likely overloaded from slow disk).', registers });
    this.serverLevels(registers);
    this.storeLevels(registers);
  }

  /** What the node pushes: each WAL fsync and backend commit. */
  readonly observer: NodeObserver = {
    walSynced: (durationMs) => this.walFsync.observe(durationMs / 1_000),
    backendCommitted: (durationMs) => this.backendCommit.observe(durationMs / 1_000),
    requestApplied: () => undefined,
  };

  /** A probe of peer `peerId` came back after `durationMs`. */
  peerRoundTripped(peerId: bigint, durationMs: number): void {
    this.peerRoundTrip.observe({ To: peerId.toString(16) }, durationMs / 1_000);
  }

  /** A request took longer than etcd's 100 ms to apply. */
  slowApplied(): void {
    this.slowApplies.inc();
  }

  /** One /health answer. */
  healthChecked(healthy: boolean): void {
    (healthy ? this.healthSuccess : this.healthFailures).inc();
  }

  /** The text Prometheus scrapes. */
  text(): Promise<string> {
    return this.registry.metrics();
  }

  get contentType(): string {
    return this.registry.contentType;
  }

  private serverLevels(registers: Registry[]): void {
    // Read at each collection: the node is created after the metrics.
    const node = () => this.sources.node;
    const level = (name: string, help: string, value: () => number): void => levelGauge(name, help, value, registers);
    level('etcd_server_has_leader', 'Whether or not a leader exists. 1 is existence, 0 is not.', () => (node().leaderId === 0n ? 0 : 1));
    level('etcd_server_is_leader', 'Whether or not this member is a leader. 1 if is, 0 otherwise.', () => (node().isLeader ? 1 : 0));
    level('etcd_server_is_learner', 'Whether or not this member is a learner. 1 if is, 0 otherwise.', () => (node().isLearner ? 1 : 0));
    level('etcd_server_proposals_committed_total', 'The total number of consensus proposals committed.', () => node().committedIndex);
    level('etcd_server_proposals_applied_total', 'The total number of consensus proposals applied.', () => node().appliedIndexValue);
    level('etcd_server_proposals_pending', 'The current number of pending proposals to commit.', () => node().proposalsPending);
    level('etcd_server_quota_backend_bytes', 'Current backend storage quota size in bytes.', () => this.sources.quotaBytes);
    caughtUpCounter('etcd_server_leader_changes_seen_total', 'The number of leader changes seen.', () => node().leaderChangesSeen, registers);
    caughtUpCounter('etcd_server_proposals_failed_total', 'The total number of failed proposals seen.', () => node().proposalsFailed, registers);
    const labelled = (name: string, help: string, label: string, value: string): void => {
      new Gauge({ name, help, labelNames: [label], registers }).set({ [label]: value }, 1);
    };
    labelled('etcd_server_id', 'Server or member ID in hexadecimal format. 1 for \'server_id\' label with current ID.', 'server_id', this.sources.memberId.toString(16));
    labelled('etcd_server_version', 'Which version is running. 1 for \'server_version\' label with current version.', 'server_version', etcdApiVersion);
    labelled('etcd_cluster_version', 'Which version is running. 1 for \'cluster_version\' label with current cluster version', 'cluster_version', etcdApiVersion.split('.').slice(0, 2).join('.'));
  }

  private storeLevels(registers: Registry[]): void {
    const { store, backend } = this.sources;
    const level = (name: string, help: string, value: () => number): void => levelGauge(name, help, value, registers);
    level('etcd_mvcc_db_total_size_in_bytes', 'Total size of the underlying database physically allocated in bytes.', () => backend.sizeBytes());
    level('etcd_mvcc_db_total_size_in_use_in_bytes', 'Total size of the underlying database logically in use in bytes.', () => backend.sizeInUseBytes());
    level('etcd_debugging_mvcc_db_total_size_in_bytes', 'Total size of the underlying database physically allocated in bytes.', () => backend.sizeBytes());
    level('etcd_debugging_mvcc_keys_total', 'Total number of keys.', () => this.sources.keysTotal());
    level('etcd_debugging_mvcc_current_revision', 'The current revision of store.', () => store.currentRevision);
    level('etcd_debugging_mvcc_compact_revision', 'The revision of the last compaction in store.', () => store.compactRevision);
  }
}

/** A gauge set from `value` at each collection. */
function levelGauge(name: string, help: string, value: () => number, registers: Registry[]): void {
  new Gauge({ name, help, registers, collect() { this.set(value()); } });
}

/** A counter the member keeps itself (a plain number), brought up to it at each collection. */
function caughtUpCounter(name: string, help: string, total: () => number, registers: Registry[]): void {
  let reported = 0;
  new Counter({
    name,
    help,
    registers,
    collect() {
      const now = total();
      if (now > reported) this.inc(now - reported);
      reported = Math.max(reported, now);
    },
  });
}
