// What it costs to hand requests to another thread and take the answers back,
// the price of running the Raft node, WAL and MVCC store on a worker while
// the main thread serves gRPC (docs/performance.md, "What is next"). The main
// thread keeps --in-flight requests of --request-bytes outstanding against a
// worker that answers each with --response-bytes, for --seconds; either one
// postMessage per request, or the requests of one turn of the event loop in
// one message (and the answers likewise). Reported per mode: requests a
// second, and the main thread's busy time per request (event-loop
// utilisation × wall time ÷ requests), which is what the split would add to
// the thread that also runs HTTP/2.
// `npm run bench:thread-crossing -- [flags]`
import { parseArgs } from 'node:util';
import { performance } from 'node:perf_hooks';
import { isMainThread, parentPort, Worker, workerData } from 'node:worker_threads';
import { integer } from './flags.js';
import { formatNumber } from './table.js';

const usage = `usage: node dist/bench/thread-crossing.js [flags]     (npm run bench:thread-crossing -- [flags])
The cost of handing requests to a worker thread and taking the answers back.
  --seconds N          per mode (default 5)
  --in-flight N        requests outstanding (default 1000)
  --request-bytes N    bytes per request (default 300)
  --response-bytes N   bytes per answer (default 60)`;

type Mode = 'message-each' | 'batched';

interface WorkerOptions {
  readonly responseBytes: number;
}

/** The worker: answers every request (a [id, bytes] pair, or an array of them) with as many bytes of its own. */
function serve(options: WorkerOptions): void {
  const port = parentPort;
  if (port === null) throw new Error('thread-crossing: the worker has no parent port');
  const answer = new Uint8Array(options.responseBytes);
  port.on('message', (message: { id: number; bytes: Uint8Array } | Array<{ id: number; bytes: Uint8Array }>) => {
    if (Array.isArray(message)) port.postMessage(message.map(({ id }) => ({ id, bytes: answer })));
    else port.postMessage({ id: message.id, bytes: answer });
  });
}

async function run(mode: Mode, seconds: number, inFlight: number, requestBytes: number, responseBytes: number): Promise<{ perSecond: number; busyMicrosPerRequest: number }> {
  const worker = new Worker(new URL(import.meta.url), { workerData: { responseBytes } satisfies WorkerOptions });
  try {
    await new Promise<void>((resolve, reject) => {
      worker.once('online', resolve);
      worker.once('error', reject);
    });
    let nextId = 0;
    let answered = 0;
    let measuring = false;
    let pending: Array<{ id: number; bytes: Uint8Array }> = [];
    let flushScheduled = false;
    const send = (): void => {
      const request = { id: nextId++, bytes: new Uint8Array(requestBytes) };
      if (mode === 'message-each') return worker.postMessage(request);
      pending.push(request);
      if (flushScheduled) return;
      flushScheduled = true;
      setImmediate(() => {
        flushScheduled = false;
        const batch = pending;
        pending = [];
        worker.postMessage(batch);
      });
    };
    worker.on('message', (message: { id: number } | Array<{ id: number }>) => {
      const count = Array.isArray(message) ? message.length : 1;
      if (measuring) answered += count;
      for (let i = 0; i < count; i++) send();
    });
    for (let i = 0; i < inFlight; i++) send();
    await new Promise((resolve) => setTimeout(resolve, 500));
    measuring = true;
    const utilisationBefore = performance.eventLoopUtilization();
    const startedMs = performance.now();
    await new Promise((resolve) => setTimeout(resolve, seconds * 1000));
    const elapsedMs = performance.now() - startedMs;
    const utilisation = performance.eventLoopUtilization(utilisationBefore);
    measuring = false;
    return { perSecond: (answered * 1000) / elapsedMs, busyMicrosPerRequest: (utilisation.active * 1000) / Math.max(1, answered) };
  } finally {
    await worker.terminate();
  }
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: { seconds: { type: 'string' }, 'in-flight': { type: 'string' }, 'request-bytes': { type: 'string' }, 'response-bytes': { type: 'string' }, help: { type: 'boolean', default: false } },
  });
  if (values.help) return void console.log(usage);
  const seconds = integer('--seconds', values.seconds, 5, 1, 3_600);
  const inFlight = integer('--in-flight', values['in-flight'], 1_000, 1, 1_000_000);
  const requestBytes = integer('--request-bytes', values['request-bytes'], 300, 0, 10_000_000);
  const responseBytes = integer('--response-bytes', values['response-bytes'], 60, 0, 10_000_000);
  console.log(`${inFlight} requests in flight, ${requestBytes} B each way in, ${responseBytes} B out, ${seconds} s per mode`);
  for (const mode of ['message-each', 'batched'] as const) {
    const result = await run(mode, seconds, inFlight, requestBytes, responseBytes);
    console.log(`  ${mode.padEnd(13)} ${formatNumber(result.perSecond, 0).padStart(10)} requests/s   main thread busy ${formatNumber(result.busyMicrosPerRequest, 2)} µs per request`);
  }
}

if (isMainThread) {
  main().catch((error: unknown) => {
    console.error(`thread-crossing: ${(error as Error).message}`);
    process.exitCode = 1;
  });
} else {
  serve(workerData as WorkerOptions);
}
