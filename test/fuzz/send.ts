// Sends FuzzCalls to one member over a plain grpc-js Client (one channel per
// member) and judges every answer with verdict.ts. Unary calls go through
// Client.makeUnaryRequest with the generated serializers, garbage with an
// identity serializer; streams are written as raw bytes so that a script may
// slip a message of random bytes between valid ones.
import { Client, credentials, Metadata, status, type ClientDuplexStream, type ServiceError } from '@grpc/grpc-js';
import { LeaseKeepAliveRequest, LeaseKeepAliveResponse, WatchRequest, WatchResponse } from '../../proto/gen/etcdserverpb/rpc.js';
import { LeaderRequest, LeaderResponse } from '../../proto/gen/v3electionpb/v3election.js';
import { streamMethods, unaryMethods, type FuzzCall, type GarbageCall, type KeepAliveCall, type ObserveCall, type UnaryCall, type WatchCall } from './calls.js';
import { judgeAnswer, judgeError, judgeWatchResponse, type Answer, type ClientCaused, type Identity } from './verdict.js';

/** A unary call that is not meant to wait gets this long; past it, the silence is a finding. */
const unaryDeadlineMs = 10_000;
/** A stream that the client has ended must be ended by the server within this. */
const streamEndWaitMs = 2_000;
/** How long a watch stream is watched after its half-close: an error the server ends it with comes within this. */
const halfClosedServeMs = 200;
/** How long a keep-alive script waits for one answer per request. */
const keepAliveAnswerWaitMs = 2_000;
/** gRPC's receive limit for the client: answers may be large (a Range over every fuzz key). */
const clientOptions = { 'grpc.max_receive_message_length': -1, 'grpc.max_send_message_length': -1 };

/** What one call came to: a short outcome and the error answer (if any) for the statistics, and its findings. */
export interface Observation {
  outcome: string;
  error?: string;
  findings: string[];
}

const identityBytes = (value: Buffer): Buffer => value;

function outcomeName(answer: Answer): string {
  return answer.ok ? 'OK' : (status[answer.code] ?? String(answer.code));
}

/** An error answer as counted: its code and message, numbers in the message folded (sizes, deadlines). */
function errorName(answer: Answer): string | undefined {
  return answer.ok ? undefined : `${outcomeName(answer)} "${answer.details.replace(/\d+(\.\d+)?/g, 'N')}"`;
}

function observed(answer: Answer, findings: string[]): Observation {
  const error = errorName(answer);
  return error === undefined ? { outcome: outcomeName(answer), findings } : { outcome: outcomeName(answer), error, findings };
}

export class MemberChannel {
  private readonly client: Client;

  constructor(readonly endpoint: string, readonly identity: Identity) {
    this.client = new Client(endpoint, credentials.createInsecure(), clientOptions);
  }

  close(): void {
    this.client.close();
  }

  /** Sends `call` and judges what comes back. */
  async send(call: FuzzCall): Promise<Observation> {
    switch (call.kind) {
      case 'unary':
        return this.judged(call, await this.unary(call), { deadline: call.deadlineMs !== undefined, cancelled: false, garbage: false });
      case 'garbage':
        return this.judged(call, await this.garbage(call), { deadline: call.deadlineMs !== undefined, cancelled: false, garbage: true });
      case 'watch':
        return this.watch(call);
      case 'keep-alive':
        return this.keepAlive(call);
      case 'observe':
        return this.observe(call);
    }
  }

  private judged(call: FuzzCall, answer: Answer, caused: ClientCaused): Observation {
    const finding = judgeAnswer(call, answer, this.identity, caused);
    return observed(answer, finding === undefined ? [] : [finding]);
  }

  /** A unary request as the generated client would send it. */
  unary(call: UnaryCall): Promise<Answer> {
    const definition = unaryMethods[call.method];
    return this.unaryRaw(definition.path, (request: object) => Buffer.from(definition.requestSerialize(request as never)), definition.responseDeserialize, call.request, call.deadlineMs ?? unaryDeadlineMs);
  }

  private garbage(call: GarbageCall): Promise<Answer> {
    return this.unaryRaw(unaryMethods[call.method].path, identityBytes, identityBytes, call.body, call.deadlineMs ?? unaryDeadlineMs);
  }

  private unaryRaw<Request, Response>(path: string, serialize: (request: Request) => Buffer, deserialize: (bytes: Buffer) => Response, request: Request, deadlineMs: number): Promise<Answer> {
    return new Promise((resolve) => {
      this.client.makeUnaryRequest(path, serialize, deserialize, request, new Metadata(), { deadline: Date.now() + deadlineMs }, (error: ServiceError | null, response?: Response) => {
        resolve(error === null ? { ok: true, response } : { ok: false, code: error.code, details: error.details });
      });
    });
  }

  /** Runs a watch script: writes every action, reads for settleMs, ends the stream, and judges each response and the end. */
  private async watch(call: WatchCall): Promise<Observation> {
    const stream = new RawStream(this.client.makeBidiStreamRequest(streamMethods.watch, identityBytes, (bytes: Buffer) => WatchResponse.decode(bytes), new Metadata()));
    for (const action of call.actions) {
      if ('garbage' in action) stream.write(action.garbage);
      else if ('create' in action) stream.write(WatchRequest.encode({ createRequest: action.create }).finish());
      else if ('cancel' in action) stream.write(WatchRequest.encode({ cancelRequest: { watchId: action.cancel } }).finish());
      else stream.write(WatchRequest.encode({ progressRequest: {} }).finish());
    }
    await stream.settle(call.settleMs);
    const end = await stream.finish(call.ending, true);
    const findings = stream.received.flatMap((response) => judgeWatchResponse(response as WatchResponse, this.identity) ?? []);
    const caused = { deadline: false, cancelled: call.ending === 'cancel', garbage: call.actions.some((action) => 'garbage' in action) };
    return observed(end, [...findings, ...this.judgeEnd(call, end, caused)]);
  }

  /** Runs a keep-alive script: one answer per request (with its lease ID), unless garbage ended the stream first. */
  private async keepAlive(call: KeepAliveCall): Promise<Observation> {
    const stream = new RawStream(this.client.makeBidiStreamRequest(streamMethods.keepAlive, identityBytes, (bytes: Buffer) => LeaseKeepAliveResponse.decode(bytes), new Metadata()));
    const ids: bigint[] = [];
    for (const action of call.actions) {
      if ('garbage' in action) {
        stream.write(action.garbage);
      } else {
        ids.push(action.id);
        stream.write(LeaseKeepAliveRequest.encode({ ID: action.id }).finish());
      }
    }
    await stream.waitFor(ids.length, keepAliveAnswerWaitMs);
    const end = await stream.finish(call.ending);
    const garbage = call.actions.some((action) => 'garbage' in action);
    const findings = this.judgeEnd(call, end, { deadline: false, cancelled: call.ending === 'cancel', garbage });
    const answers = stream.received as LeaseKeepAliveResponse[];
    if (!garbage && stream.endedByServerError === undefined) {
      if (answers.length !== ids.length) findings.push(`keep-alive answered ${answers.length} of ${ids.length} requests within ${keepAliveAnswerWaitMs} ms`);
      answers.forEach((answer, index) => {
        if (answer.ID !== ids[index]) findings.push(`keep-alive answer ${index} names lease ${answer.ID}, not ${ids[index]}`);
      });
    }
    return observed(end, findings);
  }

  /** Opens Observe, keeps it open for openMs, cancels it. */
  private async observe(call: ObserveCall): Promise<Observation> {
    const request = Buffer.from(LeaderRequest.encode({ name: call.name }).finish());
    const readable = this.client.makeServerStreamRequest(streamMethods.observe, identityBytes, (bytes: Buffer) => LeaderResponse.decode(bytes), request, new Metadata());
    const stream = new RawStream(readable);
    await stream.settle(call.openMs);
    const end = await stream.finish('cancel');
    return observed(end, this.judgeEnd(call, end, { deadline: false, cancelled: true, garbage: false }));
  }

  private judgeEnd(call: FuzzCall, end: Answer, caused: ClientCaused): string[] {
    if (end.ok) return [];
    const finding = judgeError(call, end.code, end.details, caused);
    return finding === undefined ? [] : [`stream ended: ${finding}`];
  }
}

type AnyStream = ClientDuplexStream<Buffer, unknown> | (NodeJS.EventEmitter & { cancel(): void });

/** A client stream's messages and end, collected as they come. */
class RawStream {
  readonly received: unknown[] = [];
  endedByServerError: Answer | undefined;
  private ended: Answer | undefined;
  private readonly waiters = new Set<() => void>();

  constructor(private readonly call: AnyStream) {
    call.on('data', (message: unknown) => {
      this.received.push(message);
      this.wake();
    });
    call.on('error', (error: ServiceError) => {
      this.ended ??= { ok: false, code: error.code, details: error.details };
      if (error.code !== status.CANCELLED) this.endedByServerError ??= this.ended;
      this.wake();
    });
    call.on('status', (end: { code: number; details: string }) => {
      this.ended ??= end.code === status.OK ? { ok: true, response: undefined } : { ok: false, code: end.code, details: end.details };
      this.wake();
    });
  }

  write(bytes: Uint8Array): void {
    if (this.ended !== undefined) return;
    (this.call as ClientDuplexStream<Buffer, unknown>).write(Buffer.from(bytes));
  }

  /** Waits `ms` (or less, if the stream ends). */
  settle(ms: number): Promise<void> {
    return this.until(() => this.ended !== undefined, ms);
  }

  /** Waits until `count` messages arrived, the stream ended, or `ms` passed. */
  waitFor(count: number, ms: number): Promise<void> {
    return this.until(() => this.received.length >= count || this.ended !== undefined, ms);
  }

  /**
   * Ends the stream as `ending` says and resolves with how it ended (a server that does not end it within streamEndWaitMs is cancelled).
   * `servedAfterHalfClose`: the server goes on after a half-close (etcd's Watch delivers events until the client cancels), so a stream
   * still open a moment after the half-close is as it should be; it is then cancelled and counts as ended well.
   */
  async finish(ending: 'cancel' | 'half-close', servedAfterHalfClose = false): Promise<Answer> {
    if (this.ended === undefined) {
      if (ending === 'cancel') this.call.cancel();
      else (this.call as ClientDuplexStream<Buffer, unknown>).end();
      await this.until(() => this.ended !== undefined, servedAfterHalfClose && ending === 'half-close' ? halfClosedServeMs : streamEndWaitMs);
      if (this.ended === undefined && servedAfterHalfClose && ending === 'half-close') {
        this.call.cancel();
        return { ok: true, response: undefined };
      }
    }
    if (this.ended === undefined) {
      this.call.cancel();
      return { ok: false, code: status.DEADLINE_EXCEEDED, details: `the server did not end the stream within ${streamEndWaitMs} ms of a ${ending}` };
    }
    return this.ended;
  }

  private until(done: () => boolean, ms: number): Promise<void> {
    if (done()) return Promise.resolve();
    return new Promise((resolve) => {
      const check = (): void => {
        if (!done()) return;
        clearTimeout(timer);
        this.waiters.delete(check);
        resolve();
      };
      const timer = setTimeout(() => {
        this.waiters.delete(check);
        resolve();
      }, ms);
      this.waiters.add(check);
    });
  }

  private wake(): void {
    for (const check of [...this.waiters]) check();
  }
}
