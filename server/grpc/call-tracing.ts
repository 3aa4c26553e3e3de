// A server span for every client call, continuing the client's trace: the
// W3C trace context (traceparent) comes in the call's metadata, as the SDK
// (client/connection.ts) and other OpenTelemetry-instrumented gRPC clients
// send it. The handler runs inside the span's context, so what it proposes
// is traced under it (tracing/proposal-spans.ts). Span names follow
// OpenTelemetry's RPC conventions: "etcdserverpb.KV/Put".
import { context, propagation, SpanKind, SpanStatusCode, trace, type Span, type Tracer } from '@opentelemetry/api';
import { ServerInterceptingCall, ServerListenerBuilder, status, type Metadata, type ServerInterceptor } from '@grpc/grpc-js';
import { methodOfPath } from './method-path.js';

const metadataGetter = {
  keys: (carrier: Metadata) => Object.keys(carrier.getMap()),
  get: (carrier: Metadata, key: string) => {
    const values = carrier.get(key);
    return values.length === 0 ? undefined : values.map(String);
  },
};

export function callTracing(tracer: Tracer): ServerInterceptor {
  return (method, call) => {
    const { service, method: name } = methodOfPath(method.path);
    let spanContext = context.active();
    let span: Span | undefined;
    return new ServerInterceptingCall(call, {
      start: (next) => {
        next(new ServerListenerBuilder()
          .withOnReceiveMetadata((metadata, forward) => {
            const parent = propagation.extract(context.active(), metadata, metadataGetter);
            span = tracer.startSpan(`${service}/${name}`, {
              kind: SpanKind.SERVER,
              attributes: { 'rpc.system': 'grpc', 'rpc.service': service, 'rpc.method': name },
            }, parent);
            spanContext = trace.setSpan(parent, span);
            context.with(spanContext, () => forward(metadata));
          })
          .withOnReceiveMessage((message, forward) => context.with(spanContext, () => forward(message)))
          .withOnReceiveHalfClose((forward) => context.with(spanContext, () => forward()))
          .build());
      },
      sendStatus: (sent, next) => {
        span?.setAttribute('rpc.grpc.status_code', sent.code);
        if (sent.code !== status.OK) span?.setStatus({ code: SpanStatusCode.ERROR, message: sent.details });
        span?.end();
        next(sent);
      },
    });
  };
}
