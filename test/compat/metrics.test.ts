// Prometheus metrics, side by side: the metrics etcd's dashboards and alerts
// read exist on cairn under the same names, types, labels and buckets, and
// move alike when the same requests reach both; `etcdctl check datascale`
// (which reads process_resident_memory_bytes) passes on both; and
// --listen-metrics-urls serves /metrics and /health on a port of its own.
import { expect } from 'chai';
import { WatchRequest } from '../../proto/gen/etcdserverpb/rpc.js';
import { etcdctl } from '../harness/etcdctl.js';
import { etcdAvailable, freePort, startCairn, startEtcd, type ServerHandle } from '../harness/launcher.js';
import { scrape, sampleValue, type MetricFamily } from '../harness/prometheus.js';
import { compatPair } from './pair.js';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { repositoryRoot } from '../harness/sources.js';

/** What dashboards and alerts built for etcd read, by name, with the type etcd gives each. */
const sharedMetrics: Record<string, string> = {
  etcd_server_has_leader: 'gauge',
  etcd_server_is_leader: 'gauge',
  etcd_server_is_learner: 'gauge',
  etcd_server_leader_changes_seen_total: 'counter',
  etcd_server_proposals_committed_total: 'gauge',
  etcd_server_proposals_applied_total: 'gauge',
  etcd_server_proposals_pending: 'gauge',
  etcd_server_proposals_failed_total: 'counter',
  etcd_server_quota_backend_bytes: 'gauge',
  etcd_server_id: 'gauge',
  etcd_server_version: 'gauge',
  etcd_cluster_version: 'gauge',
  etcd_server_health_success: 'counter',
  etcd_server_health_failures: 'counter',
  etcd_disk_wal_fsync_duration_seconds: 'histogram',
  etcd_disk_backend_commit_duration_seconds: 'histogram',
  etcd_mvcc_db_total_size_in_bytes: 'gauge',
  etcd_mvcc_db_total_size_in_use_in_bytes: 'gauge',
  etcd_debugging_mvcc_db_total_size_in_bytes: 'gauge',
  etcd_debugging_mvcc_keys_total: 'gauge',
  etcd_debugging_mvcc_current_revision: 'gauge',
  etcd_debugging_mvcc_compact_revision: 'gauge',
  grpc_server_started_total: 'counter',
  grpc_server_handled_total: 'counter',
  grpc_server_msg_received_total: 'counter',
  grpc_server_msg_sent_total: 'counter',
  process_cpu_seconds_total: 'counter',
  process_resident_memory_bytes: 'gauge',
  process_virtual_memory_bytes: 'gauge',
  process_open_fds: 'gauge',
  process_max_fds: 'gauge',
  process_start_time_seconds: 'gauge',
};

/** The shape of a family that must match: its type, and for a histogram its bucket bounds and label names. */
function shapeOf(family: MetricFamily | undefined): unknown {
  if (family === undefined) return 'missing';
  if (family.type !== 'histogram') return { type: family.type };
  const bounds = [...new Set(family.samples.filter((sample) => sample.name.endsWith('_bucket')).map((sample) => sample.labels.le))];
  return { type: family.type, bounds };
}

/** The (service, method, type) triples that grpc_server_started_total has for etcd's own services. */
function grpcMethods(families: Map<string, MetricFamily>): string[] {
  const samples = families.get('grpc_server_started_total')?.samples ?? [];
  return samples
    .filter((sample) => /^(etcdserverpb|v3lockpb|v3electionpb)\./.test(sample.labels.grpc_service ?? ''))
    .map((sample) => `${sample.labels.grpc_service}/${sample.labels.grpc_method} ${sample.labels.grpc_type}`)
    .sort();
}

const handled = (method: string, code: string) => ({ grpc_service: 'etcdserverpb.KV', grpc_method: method, grpc_type: 'unary', grpc_code: code });
const started = (method: string) => ({ grpc_service: 'etcdserverpb.KV', grpc_method: method, grpc_type: 'unary' });

describe('compat: Prometheus metrics on the client port', function () {
  const pair = compatPair();

  it('the metrics etcd\'s dashboards read exist on both with the same type, and histograms with the same buckets', async () => {
    const [etcd, cairn] = await pair.both((side) => scrape(side.server.clientUrl));
    for (const [name, type] of Object.entries(sharedMetrics)) {
      expect(etcd.get(name)?.type, `etcd's ${name}`).to.equal(type);
      expect(shapeOf(cairn.get(name)), name).to.deep.equal(shapeOf(etcd.get(name)));
    }
    for (const families of [etcd, cairn]) {
      expect(sampleValue(families, 'etcd_server_has_leader')).to.equal(1);
      expect(sampleValue(families, 'etcd_server_is_leader')).to.equal(1);
      expect(sampleValue(families, 'etcd_cluster_version', { cluster_version: '3.4' })).to.equal(1);
      expect(sampleValue(families, 'etcd_server_leader_changes_seen_total')).to.equal(1);
      expect(sampleValue(families, 'process_resident_memory_bytes')).to.be.greaterThan(0);
    }
  });

  it('grpc_server_* count every method of etcd\'s services from 0, by the same service, method and type labels', async () => {
    const [etcd, cairn] = await pair.both((side) => scrape(side.server.clientUrl));
    const etcdMethods = grpcMethods(etcd);
    expect(etcdMethods.length).to.be.greaterThan(30);
    // cairn's protos also carry etcd 3.5's AuthStatus; every method etcd 3.4 counts, cairn counts alike.
    expect(grpcMethods(cairn)).to.include.members(etcdMethods);
  });

  it('the same requests move the same counters and levels on both', async () => {
    const before = await pair.both((side) => scrape(side.server.clientUrl));
    await pair.putAll([['metrics/a', '1'], ['metrics/b', '2'], ['metrics/a', '3']]);
    for (let read = 0; read < 3; read++) await pair.etcdctl(['get', 'metrics/a']);
    const future = await pair.etcdctl(['get', 'metrics/a', '--rev=1000000']);
    expect(future.code).to.not.equal(0);
    await pair.both((side) => fetch(`${side.server.clientUrl}/health`).then((response) => response.text()));
    const after = await pair.both((side) => scrape(side.server.clientUrl));
    const moved = [0, 1].map((index) => {
      const [was, is] = [before[index], after[index]];
      if (was === undefined || is === undefined) throw new Error('no scrape');
      const delta = (name: string, labels: Record<string, string> = {}) => (sampleValue(is, name, labels) ?? 0) - (sampleValue(was, name, labels) ?? 0);
      return {
        rangesOk: delta('grpc_server_handled_total', handled('Range', 'OK')),
        rangesOutOfRange: delta('grpc_server_handled_total', handled('Range', 'OutOfRange')),
        rangesStarted: delta('grpc_server_started_total', started('Range')),
        putsOk: delta('grpc_server_handled_total', handled('Put', 'OK')),
        keys: delta('etcd_debugging_mvcc_keys_total'),
        revision: delta('etcd_debugging_mvcc_current_revision'),
        healthChecks: delta('etcd_server_health_success'),
        walFsyncsAtLeastOne: delta('etcd_disk_wal_fsync_duration_seconds_count') >= 1,
        backendCommitsAtLeastOne: delta('etcd_disk_backend_commit_duration_seconds_count') >= 1,
      };
    });
    expect(moved[1], 'cairn (actual) vs etcd (expected)').to.deep.equal(moved[0]);
    expect(moved[0]).to.deep.include({ rangesOk: 3, rangesOutOfRange: 1, rangesStarted: 4, putsOk: 3, keys: 2, revision: 3, healthChecks: 1 });
  });

  it('a Watch stream the client cancels is counted as handled with code Canceled on both', async () => {
    const watchHandled = { grpc_service: 'etcdserverpb.Watch', grpc_method: 'Watch', grpc_type: 'bidi_stream', grpc_code: 'Canceled' };
    const moved = await pair.both(async (side) => {
      const before = sampleValue(await scrape(side.server.clientUrl), 'grpc_server_handled_total', watchHandled) ?? 0;
      const stream = side.clients.watch.watch();
      stream.on('error', () => undefined);
      const created = new Promise<void>((resolve) => stream.once('data', () => resolve()));
      stream.write(WatchRequest.fromPartial({ createRequest: { key: Buffer.from('metrics/watched') } }));
      await created;
      stream.cancel();
      const deadline = Date.now() + 5_000;
      for (;;) {
        const now = sampleValue(await scrape(side.server.clientUrl), 'grpc_server_handled_total', watchHandled) ?? 0;
        if (now > before || Date.now() > deadline) return now - before;
        await new Promise((resolve) => setTimeout(resolve, 50));
      }
    });
    expect(moved).to.deep.equal([1, 1]);
  });

  it('every metric the Grafana dashboard of docs/ plots exists on both (peer round trips: see test/cluster/metrics.test.ts)', async () => {
    const dashboard = JSON.parse(readFileSync(join(repositoryRoot, 'docs', 'grafana', 'cairn-etcd-dashboard.json'), 'utf8')) as { panels: Array<{ targets: Array<{ expr: string }> }> };
    const plotted = new Set<string>();
    for (const panel of dashboard.panels) {
      for (const target of panel.targets) for (const match of target.expr.matchAll(/\b((?:etcd|grpc|process)_[a-z_]+)\{/g)) plotted.add((match[1] ?? '').replace(/_bucket$/, ''));
    }
    expect(plotted.size).to.be.greaterThan(15);
    const [etcd, cairn] = await pair.both((side) => scrape(side.server.clientUrl));
    const singleNodeOnly = new Set(['etcd_network_peer_round_trip_time_seconds']);
    for (const name of plotted) {
      if (singleNodeOnly.has(name)) continue;
      expect(etcd.has(name), `etcd exports ${name}`).to.equal(true);
      expect(cairn.has(name), `cairn exports ${name}`).to.equal(true);
    }
  });

  it('etcdctl check datascale passes on both (it reads process_resident_memory_bytes from /metrics)', async function () {
    this.timeout(180_000);
    const [etcd, cairn] = await pair.both((side) => etcdctl(`http://${side.server.endpoint}`, ['check', 'datascale', '--load=s'], { timeoutMs: 170_000 }));
    for (const [name, result] of [['etcd', etcd], ['cairn', cairn]] as const) {
      expect(result.code, `${name}: ${result.stderr}`).to.equal(0);
      expect(result.stdout, name).to.match(/PASS: Approximate system memory used : [\d.]+ MB\./);
    }
  });
});

describe('compat: --listen-metrics-urls', function () {
  const servers: ServerHandle[] = [];
  const metricsUrls = new Map<ServerHandle, string>();

  before(async function () {
    if (!etcdAvailable()) this.skip();
    this.timeout(60_000);
    for (const start of [startEtcd, startCairn]) {
      const metricsUrl = `http://127.0.0.1:${await freePort()}`;
      const server = await start({ args: ['--listen-metrics-urls', metricsUrl] });
      servers.push(server);
      metricsUrls.set(server, metricsUrl);
    }
  });

  after(async () => {
    await Promise.all(servers.map((server) => server.destroy()));
  });

  it('serves /metrics and /health there on both, and nothing else (/version: 404)', async () => {
    const answers = await Promise.all(servers.map(async (server) => {
      const base = metricsUrls.get(server) ?? '';
      const metrics = await scrape(base);
      const health = await fetch(`${base}/health`);
      const version = await fetch(`${base}/version`);
      return { hasLeader: sampleValue(metrics, 'etcd_server_has_leader'), health: [health.status, await health.text()], version: version.status };
    }));
    expect(answers[1], 'cairn (actual) vs etcd (expected)').to.deep.equal(answers[0]);
    expect(answers[0]).to.deep.equal({ hasLeader: 1, health: [200, '{"health":"true"}'], version: 404 });
  });
});
