// The gRPC server metrics etcd exports through go-grpc-prometheus, with its
// names and labels: grpc_server_started_total, grpc_server_handled_total
// (with grpc_code), grpc_server_msg_received_total, grpc_server_msg_sent_total,
// each by grpc_type (unary, client_stream, server_stream, bidi_stream),
// grpc_service ("etcdserverpb.KV") and grpc_method ("Range"). One call
// observer (serving/observer.ts) counts every call. As etcd, every method of the
// registered services starts at 0 with every code, so rates exist before
// the first call and dashboards show no gaps.
import { status, type ServiceDefinition } from '@grpc/grpc-js';
import { Counter, type Registry } from 'prom-client';
import { methodOfPath } from './method-path.js';
import type { CallObserverFactory } from './serving/observer.js';

type Labels = { grpc_type: string; grpc_service: string; grpc_method: string };

/** One method's counters, labelled once (prom-client would otherwise build the label key on every call). */
interface MethodCounters {
  readonly started: { inc(): void };
  readonly received: { inc(): void };
  readonly sent: { inc(): void };
  handled(code: number): void;
}

/** go-grpc-prometheus's names of the call kinds. */
function callType(requestStream: boolean, responseStream: boolean): string {
  if (requestStream) return responseStream ? 'bidi_stream' : 'client_stream';
  return responseStream ? 'server_stream' : 'unary';
}

function labelsOf(path: string, requestStream: boolean, responseStream: boolean): Labels {
  const { service, method } = methodOfPath(path);
  return { grpc_type: callType(requestStream, responseStream), grpc_service: service, grpc_method: method };
}

/** Go's names of the gRPC codes (codes.Code.String()), which label grpc_server_handled_total. */
const codeNames: Readonly<Record<number, string>> = {
  [status.OK]: 'OK',
  [status.CANCELLED]: 'Canceled',
  [status.UNKNOWN]: 'Unknown',
  [status.INVALID_ARGUMENT]: 'InvalidArgument',
  [status.DEADLINE_EXCEEDED]: 'DeadlineExceeded',
  [status.NOT_FOUND]: 'NotFound',
  [status.ALREADY_EXISTS]: 'AlreadyExists',
  [status.PERMISSION_DENIED]: 'PermissionDenied',
  [status.RESOURCE_EXHAUSTED]: 'ResourceExhausted',
  [status.FAILED_PRECONDITION]: 'FailedPrecondition',
  [status.ABORTED]: 'Aborted',
  [status.OUT_OF_RANGE]: 'OutOfRange',
  [status.UNIMPLEMENTED]: 'Unimplemented',
  [status.INTERNAL]: 'Internal',
  [status.UNAVAILABLE]: 'Unavailable',
  [status.DATA_LOSS]: 'DataLoss',
  [status.UNAUTHENTICATED]: 'Unauthenticated',
};

export class GrpcMetrics {
  private readonly started: Counter<keyof Labels>;
  private readonly handled: Counter<keyof Labels | 'grpc_code'>;
  private readonly received: Counter<keyof Labels>;
  private readonly sent: Counter<keyof Labels>;
  /** By method path; as many as the services have methods. */
  private readonly byPath = new Map<string, MethodCounters>();

  constructor(registry: Registry) {
    const labelNames = ['grpc_type', 'grpc_service', 'grpc_method'] as const;
    const registers = [registry];
    this.started = new Counter({ name: 'grpc_server_started_total', help: 'Total number of RPCs started on the server.', labelNames, registers });
    this.handled = new Counter({
      name: 'grpc_server_handled_total', help: 'Total number of RPCs completed on the server, regardless of success or failure.', labelNames: [...labelNames, 'grpc_code'], registers,
    });
    this.received = new Counter({ name: 'grpc_server_msg_received_total', help: 'Total number of RPC stream messages received on the server.', labelNames, registers });
    this.sent = new Counter({ name: 'grpc_server_msg_sent_total', help: 'Total number of gRPC stream messages sent by the server.', labelNames, registers });
  }

  /** Starts every method of `services` at 0, as go-grpc-prometheus's InitializeMetrics. */
  initialize(services: ReadonlyArray<ServiceDefinition>): void {
    for (const service of services) {
      for (const method of Object.values(service)) {
        const labels = labelsOf(method.path, method.requestStream, method.responseStream);
        this.countersOf(method.path, labels);
        for (const code of Object.values(codeNames)) this.handled.inc({ ...labels, grpc_code: code }, 0);
      }
    }
  }

  private countersOf(path: string, labels: Labels): MethodCounters {
    const known = this.byPath.get(path);
    if (known !== undefined) return known;
    const byCode = new Map<number, { inc(): void }>();
    const counters: MethodCounters = {
      started: this.started.labels(labels),
      received: this.received.labels(labels),
      sent: this.sent.labels(labels),
      handled: (code) => {
        let counter = byCode.get(code);
        if (counter === undefined) {
          counter = this.handled.labels({ ...labels, grpc_code: codeNames[code] ?? 'Unknown' });
          byCode.set(code, counter);
        }
        counter.inc();
      },
    };
    // Created before any call can reach them, so that they show as 0.
    for (const counter of [counters.started, counters.received, counters.sent]) (counter as { inc(value: number): void }).inc(0);
    this.byPath.set(path, counters);
    return counters;
  }

  /**
   * The observer to give the gRPC server. A call is handled once: with the
   * status sent, or as Canceled when the client cancels first (no status is
   * sent then; etcd's handler returns the context's Canceled error, which
   * go-grpc-prometheus counts).
   */
  readonly observer: CallObserverFactory = (method) => {
    const counters = this.byPath.get(method.path) ?? this.countersOf(method.path, labelsOf(method.path, method.requestStream, method.responseStream));
    counters.started.inc();
    return {
      received: () => counters.received.inc(),
      sent: () => counters.sent.inc(),
      ended: (code) => counters.handled(code),
    };
  };
}
