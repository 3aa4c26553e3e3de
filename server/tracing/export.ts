// --experimental-enable-distributed-tracing, as etcd 3.5: spans go to an
// OTLP gRPC collector at --experimental-distributed-tracing-address
// (plaintext), under the service name and instance ID the flags give; a
// trace a client sampled is always continued, and traces begun here are
// sampled at --experimental-distributed-tracing-sampling-rate per million
// (etcd's ParentBased(TraceIDRatioBased)). The W3C trace context is read
// from each call's metadata; an async-hooks context manager carries a call's
// span into the work it starts.
//
// This registers OpenTelemetry's global provider, propagator and context
// manager for the process: only the cairn binary calls it. A program that
// embeds the server and has its own OpenTelemetry setup sets
// config.tracing.enabled and keeps its own.
import { context, propagation, trace } from '@opentelemetry/api';
import { AsyncLocalStorageContextManager } from '@opentelemetry/context-async-hooks';
import { W3CTraceContextPropagator } from '@opentelemetry/core';
import { OTLPTraceExporter } from '@opentelemetry/exporter-trace-otlp-grpc';
import { resourceFromAttributes } from '@opentelemetry/resources';
import { AlwaysOffSampler, BatchSpanProcessor, ParentBasedSampler, TraceIdRatioBasedSampler, TracerProvider } from '@opentelemetry/sdk-trace';
import type { TracingSettings } from '../config.js';

export interface TraceExport {
  /** Sends what is buffered and stops exporting. */
  shutdown(): Promise<void>;
}

export function startTraceExport(settings: TracingSettings): TraceExport {
  const exporter = new OTLPTraceExporter({ url: `http://${settings.address}` });
  const rate = settings.samplingRatePerMillion / 1_000_000;
  const provider = new TracerProvider({
    resource: resourceFromAttributes({
      'service.name': settings.serviceName,
      ...(settings.instanceId === '' ? {} : { 'service.instance.id': settings.instanceId }),
    }),
    sampler: new ParentBasedSampler({ root: rate === 0 ? new AlwaysOffSampler() : new TraceIdRatioBasedSampler(rate) }),
    spanProcessors: [new BatchSpanProcessor({ exporter })],
  });
  context.setGlobalContextManager(new AsyncLocalStorageContextManager().enable());
  propagation.setGlobalPropagator(new W3CTraceContextPropagator());
  trace.setGlobalTracerProvider(provider);
  return { shutdown: () => provider.shutdown() };
}
