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
import type { CallObserver, CallObserverFactory } from './serving/observer.js';

type Labels = { grpc_type: string; grpc_service: string; grpc_method: string };

/**
 * One method's counts. A call adds to plain numbers; the counters read them
 * when scraped (prom-client's collect), which keeps prom-client's label
 * hashing off the path of every call.
 */
interface MethodCounts {
  readonly labels: Labels;
  started: number;
  received: number;
  sent: number;
  /** By gRPC code; every code is listed (at 0) once the method is initialized. */
  readonly handled: Map<number, number>;
  /** What each call of the method is observed by: one object for all of them, since it only adds to these counts. */
  readonly observer: CallObserver;
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
  /** By method path; as many as the services have methods. */
  private readonly byPath = new Map<string, MethodCounts>();

  constructor(registry: Registry) {
    const labelNames = ['grpc_type', 'grpc_service', 'grpc_method'] as const;
    const registers = [registry];
    const methods = (): IterableIterator<MethodCounts> => this.byPath.values();
    const counter = (name: string, help: string, count: (counts: MethodCounts) => number): void =>
      void new Counter({
        name, help, labelNames, registers,
        collect() {
          this.reset();
          for (const counts of methods()) this.inc(counts.labels, count(counts));
        },
      });
    counter('grpc_server_started_total', 'Total number of RPCs started on the server.', (counts) => counts.started);
    new Counter({
      name: 'grpc_server_handled_total', help: 'Total number of RPCs completed on the server, regardless of success or failure.', labelNames: [...labelNames, 'grpc_code'], registers,
      collect() {
        this.reset();
        for (const counts of methods()) {
          for (const [code, total] of counts.handled) this.inc({ ...counts.labels, grpc_code: codeNames[code] ?? 'Unknown' }, total);
        }
      },
    });
    counter('grpc_server_msg_received_total', 'Total number of RPC stream messages received on the server.', (counts) => counts.received);
    counter('grpc_server_msg_sent_total', 'Total number of gRPC stream messages sent by the server.', (counts) => counts.sent);
  }

  /** Starts every method of `services` at 0, as go-grpc-prometheus's InitializeMetrics. */
  initialize(services: ReadonlyArray<ServiceDefinition>): void {
    for (const service of services) {
      for (const method of Object.values(service)) {
        const counts = this.countsOf(method.path, method.requestStream, method.responseStream);
        for (const code of Object.keys(codeNames)) if (!counts.handled.has(Number(code))) counts.handled.set(Number(code), 0);
      }
    }
  }

  private countsOf(path: string, requestStream: boolean, responseStream: boolean): MethodCounts {
    let counts = this.byPath.get(path);
    if (counts === undefined) {
      const handled = new Map<number, number>();
      const made: MethodCounts = {
        labels: labelsOf(path, requestStream, responseStream),
        started: 0,
        received: 0,
        sent: 0,
        handled,
        observer: {
          received: () => void made.received++,
          sent: () => void made.sent++,
          ended: (code) => void handled.set(code, (handled.get(code) ?? 0) + 1),
        },
      };
      counts = made;
      this.byPath.set(path, counts);
    }
    return counts;
  }

  /**
   * The observer to give the gRPC server. A call is handled once: with the
   * status sent, or as Canceled when the client cancels first (no status is
   * sent then; etcd's handler returns the context's Canceled error, which
   * go-grpc-prometheus counts).
   */
  readonly observer: CallObserverFactory = (method) => {
    const counts = this.byPath.get(method.path) ?? this.countsOf(method.path, method.requestStream, method.responseStream);
    counts.started++;
    return counts.observer;
  };
}
