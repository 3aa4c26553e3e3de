// Distributed tracing end to end, in one process: OpenTelemetry's SDK with
// an in-memory exporter, a cairn member embedded with tracing on (as a
// program that embeds the server would run it), and the SDK client calling
// it inside an application span. One trace must show the call from the
// application through the client's span, the member's server span, and the
// proposal's commit and apply.
import { expect } from 'chai';
import { context, propagation, SpanKind, trace } from '@opentelemetry/api';
import { AsyncLocalStorageContextManager } from '@opentelemetry/context-async-hooks';
import { W3CTraceContextPropagator } from '@opentelemetry/core';
import { AlwaysOnSampler, InMemorySpanExporter, SimpleSpanProcessor, TracerProvider, type ReadableSpan } from '@opentelemetry/sdk-trace';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { connect, type Client } from '../../client/index.js';
import { parseCommandLine } from '../../server/config.js';
import { startServer, type StartedServer } from '../../server/server.js';
import { freePort } from '../harness/launcher.js';

describe('tracing: one trace from the application through the member', function () {
  this.timeout(30_000);
  const exporter = new InMemorySpanExporter();
  let provider: TracerProvider | undefined;
  let server: StartedServer | undefined;
  let client: Client | undefined;
  let dir: string | undefined;
  let endpoint = '';

  before(async () => {
    provider = new TracerProvider({ sampler: new AlwaysOnSampler(), spanProcessors: [new SimpleSpanProcessor({ exporter })] });
    context.setGlobalContextManager(new AsyncLocalStorageContextManager().enable());
    propagation.setGlobalPropagator(new W3CTraceContextPropagator());
    trace.setGlobalTracerProvider(provider);
    dir = mkdtempSync(join(tmpdir(), 'cairn-tracing-'));
    const [clientPort, peerPort] = [await freePort(), await freePort()];
    const parsed = parseCommandLine([
      '--data-dir', join(dir, 'data'),
      '--listen-client-urls', `http://127.0.0.1:${clientPort}`, '--advertise-client-urls', `http://127.0.0.1:${clientPort}`,
      '--listen-peer-urls', `http://127.0.0.1:${peerPort}`, '--initial-advertise-peer-urls', `http://127.0.0.1:${peerPort}`,
      '--experimental-enable-distributed-tracing',
    ], {});
    if (parsed.kind !== 'run') throw new Error('not a run');
    expect(parsed.config.tracing.enabled).to.equal(true);
    server = await startServer(parsed.config);
    endpoint = `127.0.0.1:${clientPort}`;
    client = await connect({ endpoints: [endpoint] });
  });

  after(async () => {
    await client?.close();
    await server?.stop();
    await provider?.shutdown();
    trace.disable();
    propagation.disable();
    context.disable();
    if (dir !== undefined) rmSync(dir, { recursive: true, force: true });
  });

  const spansOf = (traceId: string): ReadableSpan[] => exporter.getFinishedSpans().filter((span) => span.spanContext().traceId === traceId);
  const parentOf = (span: ReadableSpan): string | undefined => span.parentSpanContext?.spanId;

  it('a put: application → client span → the member\'s KV/Put span → raft.commit and mvcc.apply under it', async () => {
    const tracer = trace.getTracer('application');
    const traceId = await tracer.startActiveSpan('store the setting', async (span) => {
      await client?.put('tracing/k', 'v');
      span.end();
      return span.spanContext().traceId;
    });
    const spans = spansOf(traceId);
    const application = spans.find((span) => span.name === 'store the setting');
    const clientSpan = spans.find((span) => span.kind === SpanKind.CLIENT && span.name.endsWith('/Put'));
    const serverSpan = spans.find((span) => span.kind === SpanKind.SERVER && span.name === 'etcdserverpb.KV/Put');
    expect(application, 'the application span').to.not.equal(undefined);
    expect(clientSpan, `the client span among ${spans.map((span) => span.name).join(', ')}`).to.not.equal(undefined);
    expect(serverSpan, `the server span among ${spans.map((span) => span.name).join(', ')}`).to.not.equal(undefined);
    expect(parentOf(clientSpan!)).to.equal(application!.spanContext().spanId);
    expect(parentOf(serverSpan!)).to.equal(clientSpan!.spanContext().spanId);
    expect(serverSpan!.attributes).to.deep.include({ 'rpc.system': 'grpc', 'rpc.service': 'etcdserverpb.KV', 'rpc.method': 'Put', 'rpc.grpc.status_code': 0 });
    const children = spans.filter((span) => parentOf(span) === serverSpan!.spanContext().spanId).map((span) => span.name).sort();
    expect(children).to.deep.equal(['mvcc.apply', 'raft.commit']);
    const commit = spans.find((span) => span.name === 'raft.commit');
    const apply = spans.find((span) => span.name === 'mvcc.apply');
    expect(hrMs(commit!.endTime)).to.be.at.most(hrMs(apply!.startTime) + 1);
  });

  it('a gateway request with a traceparent header continues that trace through the member', async () => {
    const traceId = '4bf92f3577b34da6a3ce929d0e0e4736';
    const response = await fetch(`http://${endpoint}/v3/kv/put`, {
      method: 'POST',
      headers: { traceparent: `00-${traceId}-00f067aa0ba902b7-01` },
      body: JSON.stringify({ key: Buffer.from('tracing/http').toString('base64'), value: Buffer.from('v').toString('base64') }),
    });
    expect(response.status).to.equal(200);
    const spans = spansOf(traceId);
    const serverSpan = spans.find((span) => span.name === 'etcdserverpb.KV/Put');
    expect(parentOf(serverSpan!)).to.equal('00f067aa0ba902b7');
    expect(spans.filter((span) => parentOf(span) === serverSpan!.spanContext().spanId).map((span) => span.name).sort()).to.deep.equal(['mvcc.apply', 'raft.commit']);
  });

  it('a read has its server span and no proposal spans; a failed call is marked as an error', async () => {
    const tracer = trace.getTracer('application');
    const traceId = await tracer.startActiveSpan('read', async (span) => {
      await client?.get('tracing/k');
      await client?.get('tracing/k', { revision: 1_000_000n }).catch(() => undefined);
      span.end();
      return span.spanContext().traceId;
    });
    const serverSpans = spansOf(traceId).filter((span) => span.kind === SpanKind.SERVER);
    expect(serverSpans.map((span) => span.name)).to.deep.equal(['etcdserverpb.KV/Range', 'etcdserverpb.KV/Range']);
    expect(serverSpans.map((span) => span.status.code)).to.deep.equal([0, 2]);
    expect(serverSpans[1]?.status.message).to.equal('etcdserver: mvcc: required revision is a future revision');
    expect(spansOf(traceId).filter((span) => span.name === 'raft.commit')).to.deep.equal([]);
  });
});

function hrMs([seconds, nanos]: [number, number]): number {
  return seconds * 1_000 + nanos / 1e6;
}
