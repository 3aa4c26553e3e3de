// GET /metrics: the member's Prometheus metrics in the text format
// (metrics/server-metrics.ts), on the client port and on --listen-metrics-urls.
import type { ServerMetrics } from '../metrics/server-metrics.js';
import { allowMethod, sendBody, type HttpRoute } from './respond.js';

export function metricsRoute(metrics: ServerMetrics): HttpRoute {
  return async (request, response) => {
    if (!allowMethod(request, response, 'GET')) return;
    sendBody(response, 200, metrics.contentType, await metrics.text());
  };
}
