// Everything the client port answers over HTTP/1.1, by path.
import type { Log } from '../log.js';
import type { RequestListener } from 'node:http';
import type { ServiceContext } from '../api/context.js';
import { AlarmType, RangeRequest } from '../../proto/gen/etcdserverpb/rpc.js';
import { RequestTimeoutError } from '../node/errors.js';
import { healthRoutes } from './health.js';
import { routeRequests, type HttpRoute } from './respond.js';
import { versionRoute } from './version.js';
import { metricsRoute } from './metrics-route.js';
import type { ServerMetrics } from '../metrics/server-metrics.js';
import type { Client } from '@grpc/grpc-js';
import { gatewayRoute } from './gateway/gateway.js';
import { gatewayPrefixes } from './gateway/routes.js';
import { consolePath, consoleRoute, loadConsole } from './console.js';
import { consoleEventsPath, consoleEventsRoute } from './console-events.js';

/** `readTimeoutMs`: how long a health check's read may take (etcd: the request timeout). */
export function clientHttp(context: ServiceContext, parts: { metrics: ServerMetrics; gateway: Client }, readTimeoutMs: number, log: Log): RequestListener {
  const gateway = gatewayRoute({
    client: parts.gateway,
    // Bytes travel as base64 in JSON: four characters for three bytes, and room for the rest of the request.
    bodyBytesMax: Math.ceil((context.config.maxRequestBytes * 4) / 3) + gatewayBodyOverheadBytes,
    clientCertAuth: context.config.clientTls.clientCertAuth,
    authEnabled: () => context.auth.enabled,
  });
  const routes = new Map<string, HttpRoute>([
    ['/version', versionRoute],
    ...metricsHttpRoutes(context, parts.metrics, readTimeoutMs, log),
    ...gatewayPrefixes.map((prefix) => [prefix, gateway] as const),
    ...(context.config.enableUi ? consoleRoutes(context, log) : []),
  ]);
  return routeRequests(routes, log);
}

/** /ui and /ui/…: the web console (--enable-ui), its files read once here, and its stream of the cluster's state. */
function consoleRoutes(context: ServiceContext, log: Log): Array<readonly [string, HttpRoute]> {
  const assets = loadConsole();
  if (assets.size === 0) log.warn('the web console is not built (npm run build:ui): /ui/ answers 404');
  const route = consoleRoute(assets);
  return [['/ui', route], [consolePath, route], [consoleEventsPath, consoleEventsRoute(context)]];
}

/** What a gateway request body may hold beyond its base64 bytes: field names, other fields, whitespace. */
const gatewayBodyOverheadBytes = 64 * 1024;

/** What --listen-metrics-urls serve, as etcd: /metrics and the health endpoints. */
export function metricsHttp(context: ServiceContext, metrics: ServerMetrics, readTimeoutMs: number, log: Log): RequestListener {
  return routeRequests(metricsHttpRoutes(context, metrics, readTimeoutMs, log), log);
}

function metricsHttpRoutes(context: ServiceContext, metrics: ServerMetrics, readTimeoutMs: number, log: Log): Map<string, HttpRoute> {
  return new Map<string, HttpRoute>([
    ['/metrics', metricsRoute(metrics)],
    ...healthRoutes({
      alarms: () => context.alarms.list(AlarmType.NONE),
      hasLeader: () => context.node.leaderId !== 0n,
      read: (serializable, timeoutMs) => withTimeout(context, timeoutMs, () => probeRead(context, serializable)),
      checked: (healthy) => metrics.healthChecked(healthy),
      log,
    }, readTimeoutMs),
  ]);
}

/** What a client's Range of one key, keys only, does: a ReadIndex round unless serializable, then a read of the store. */
async function probeRead(context: ServiceContext, serializable: boolean): Promise<void> {
  if (!serializable) await context.node.readBarrier();
  await context.applier.rangeBatched(RangeRequest.fromPartial({ key: Buffer.from([0]), rangeEnd: Buffer.from([0]), limit: 1n, serializable, keysOnly: true }));
}

/** `work`, or RequestTimeoutError once `timeoutMs` passed on the member's clock. */
function withTimeout(context: ServiceContext, timeoutMs: number, work: () => Promise<void>): Promise<void> {
  return new Promise((resolve, reject) => {
    const timer = context.clock.after(timeoutMs, () => reject(new RequestTimeoutError()));
    work().then(resolve, reject).finally(() => timer.cancel());
  });
}
