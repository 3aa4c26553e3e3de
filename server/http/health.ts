// The health endpoints of the client port, with etcd's semantics:
// - /health (etcd 3.4): {"health":"true"} while no alarm is raised (those
//   named by ?exclude=NOSPACE&exclude=… aside), the member knows a leader and
//   a linearizable read succeeds within a second; otherwise 503 with
//   {"health":"false"}. ?serializable=true (etcd 3.5) checks this member
//   only: no leader needed, a local read. Why it failed is logged, as etcd
//   logs it (etcd 3.5 also puts a "reason" into the body; cairn answers as
//   the 3.4 it reports to be).
// - /livez and /readyz (etcd 3.5): named checks, each also under its own
//   path (/readyz/linearizable_read); "ok" when all pass, 503 with one
//   "[-]name failed: why" line per failed check otherwise; ?verbose lists
//   every check, ?exclude=name leaves one out.
import type { Log } from '../log.js';
import { AlarmType, alarmTypeToJSON, type AlarmMember } from '../../proto/gen/etcdserverpb/rpc.js';
import { allowMethod, sendError, type HttpRoute } from './respond.js';

/** What the checks look at. */
export interface HealthSources {
  /** The alarms raised in the cluster. */
  alarms(): readonly AlarmMember[];
  hasLeader(): boolean;
  /** A one-key, keys-only read, linearizable unless `serializable`; rejects when it cannot complete in `timeoutMs`. */
  read(serializable: boolean, timeoutMs: number): Promise<void>;
  /** Counts each /health answer (etcd_server_health_success / _failures). */
  checked(healthy: boolean): void;
  log: Log;
}

/** etcd 3.4's /health gives its quorum read one second. */
const healthReadTimeoutMs = 1_000;

/** A named check of /livez or /readyz: resolves when it passes, rejects saying why not. */
type Check = () => Promise<void>;

/** The routes of /health, /livez and /readyz (each check's own path included). */
export function healthRoutes(sources: HealthSources, readTimeoutMs: number): Map<string, HttpRoute> {
  const routes = new Map<string, HttpRoute>([['/health', healthRoute(sources)]]);
  const serializableRead: Check = () => sources.read(true, readTimeoutMs);
  const livez = new Map<string, Check>([['serializable_read', serializableRead]]);
  const readyz = new Map<string, Check>([
    ['data_corruption', async () => {
      if (sources.alarms().some((alarm) => alarm.alarm === AlarmType.CORRUPT)) throw new Error('alarm activated: CORRUPT');
    }],
    ['serializable_read', serializableRead],
    ['linearizable_read', () => sources.read(false, readTimeoutMs)],
  ]);
  for (const [path, checks] of [['/livez', livez], ['/readyz', readyz]] as const) {
    routes.set(path, checkRoute(path, checks, sources.log));
    for (const [name, check] of checks) routes.set(`${path}/${name}`, checkRoute(`${path}/${name}`, new Map([[name, check]]), sources.log));
  }
  return routes;
}

function healthRoute(sources: HealthSources): HttpRoute {
  return async (request, response, url) => {
    if (!allowMethod(request, response, 'GET')) return;
    const failure = await healthFailure(sources, new Set(url.searchParams.getAll('exclude')), url.searchParams.get('serializable') === 'true');
    sources.checked(failure === undefined);
    if (failure !== undefined) {
      sources.log.warn(`/health error: ${failure} (status code 503)`);
      sendError(response, 503, '{"health":"false"}');
      return;
    }
    response.writeHead(200, { 'Content-Type': 'text/plain; charset=utf-8' });
    response.end('{"health":"true"}');
  };
}

/** Why /health says false, in etcd 3.5's words for the reason; undefined when healthy. */
async function healthFailure(sources: HealthSources, excludedAlarms: ReadonlySet<string>, serializable: boolean): Promise<string | undefined> {
  const alarm = sources.alarms().find((raised) => !excludedAlarms.has(alarmTypeToJSON(raised.alarm)));
  if (alarm !== undefined) return `ALARM ${alarmTypeToJSON(alarm.alarm)}`;
  if (!serializable && !sources.hasLeader()) return 'RAFT NO LEADER';
  try {
    await sources.read(serializable, healthReadTimeoutMs);
  } catch (error) {
    return `RANGE ERROR:${(error as Error).message}`;
  }
  return undefined;
}

/** One /livez or /readyz path running `checks` (in their order; etcd's follows Go's map order). */
function checkRoute(path: string, checks: ReadonlyMap<string, Check>, log: Log): HttpRoute {
  return async (request, response, url) => {
    if (!allowMethod(request, response, 'GET')) return;
    const excluded = new Set(url.searchParams.getAll('exclude').filter((name) => name !== ''));
    let report = '';
    let failed = false;
    for (const [name, check] of checks) {
      if (excluded.delete(name)) continue;
      try {
        await check();
        report += `[+]${name} ok\n`;
      } catch (error) {
        failed = true;
        report += `[-]${name} failed: ${(error as Error).message}\n`;
      }
    }
    // As etcd, excluding a check that does not exist is only worth a warning (older probes may name one).
    if (excluded.size > 0) log.warn(`${path}: some health checks cannot be excluded: ${[...excluded].map((name) => JSON.stringify(name)).join(',')}`);
    if (failed) {
      log.warn(`${path}: health check failed: ${report.trim().replaceAll('\n', '; ')}`);
      sendError(response, 503, report);
      return;
    }
    response.writeHead(200, { 'Content-Type': 'text/plain; charset=utf-8', 'X-Content-Type-Options': 'nosniff' });
    response.end(`${url.searchParams.has('verbose') ? report : ''}ok\n`);
  };
}
