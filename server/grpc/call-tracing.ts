// A server span for every client call, continuing the client's trace: the
// W3C trace context (traceparent) comes in the call's metadata, as the SDK
// (client/connection.ts) and other OpenTelemetry-instrumented gRPC clients
// send it. The handler runs inside the span's context, so what it proposes
// is traced under it (tracing/proposal-spans.ts). Span names follow
// OpenTelemetry's RPC conventions: "etcdserverpb.KV/Put".
import { context, propagation, SpanKind, SpanStatusCode, trace, type Tracer } from '@opentelemetry/api';
import { status, type Metadata } from '@grpc/grpc-js';
import { methodOfPath } from './method-path.js';
import type { CallObserverFactory } from './serving/observer.js';

const metadataGetter = {
  keys: (carrier: Metadata) => Object.keys(carrier.getMap()),
  get: (carrier: Metadata, key: string) => {
    const values = carrier.get(key);
    return values.length === 0 ? undefined : values.map(String);
  },
};

export function callTracing(tracer: Tracer): CallObserverFactory {
  return (method, request) => {
    const { service, method: name } = methodOfPath(method.path);
    const parent = propagation.extract(context.active(), request.metadata, metadataGetter);
    const span = tracer.startSpan(`${service}/${name}`, {
      kind: SpanKind.SERVER,
      attributes: { 'rpc.system': 'grpc', 'rpc.service': service, 'rpc.method': name },
    }, parent);
    const spanContext = trace.setSpan(parent, span);
    return {
      run: (work) => context.with(spanContext, work),
      ended: (code, details) => {
        span.setAttribute('rpc.grpc.status_code', code);
        if (code !== status.OK) span.setStatus({ code: SpanStatusCode.ERROR, message: details });
        span.end();
      },
    };
  };
}
