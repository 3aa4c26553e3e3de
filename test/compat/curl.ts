// curl as the JSON gateway's client: the HTTP client operators script etcd
// with (`curl -s -X POST -d BODY URL`), run as a process so that nothing of
// Node's HTTP stack stands between the test and the server. A stream
// (`curl -N`) is read line by line as it arrives, with a bound on every wait
// and on curl's whole run (--max-time); stop() kills it by PID.
import { spawn, type ChildProcess } from 'node:child_process';
import { runCommand } from '../harness/command.js';
import { MessageQueue } from './streams.js';

/** How long one unary call may take (a Lock or Campaign that waits is a stream's job, not this). */
const callTimeoutSeconds = 10;
/** The longest a stream runs before curl gives up on its own. */
const streamTimeoutSecondsMax = 20;
/** How long take() waits for the lines it was asked for. */
const lineWaitMsDefault = 5_000;

export interface CurlOptions {
  /** Extra headers, as curl's -H takes them: `Authorization: <token>`. */
  headers?: readonly string[];
  /** Another method than POST (-X). */
  method?: string;
}

/** What an HTTP answer is compared on: not Date, not the connection headers of Node or Go. */
export interface CurlAnswer {
  status: number;
  contentType: string;
  body: string;
}

/** Where curl's -w output starts: after the body, on a line of its own. */
const writeOutMarker = '\n@@curl ';

function curlArgs(url: string, body: string | undefined, options: CurlOptions): string[] {
  const args = ['-s', '-X', options.method ?? 'POST'];
  if (body !== undefined) args.push('-d', body);
  for (const header of options.headers ?? []) args.push('-H', header);
  return [...args, url];
}

/** One call: `curl -s -X POST -d body url`; the answer's status, content type and body. */
export async function curlCall(url: string, body: string | undefined, options: CurlOptions = {}): Promise<CurlAnswer> {
  const args = ['--max-time', String(callTimeoutSeconds), '-w', `${writeOutMarker}%{http_code} %{content_type}`, ...curlArgs(url, body, options)];
  const result = await runCommand('curl', args, { timeoutMs: (callTimeoutSeconds + 5) * 1000 });
  const at = result.stdout.lastIndexOf(writeOutMarker);
  if (result.code !== 0 || at < 0) throw new Error(`curl ${args.join(' ')} failed (exit ${result.code}): ${result.stderr}${result.stdout}`);
  const [status, ...contentType] = result.stdout.slice(at + writeOutMarker.length).split(' ');
  return { status: Number(status), contentType: contentType.join(' '), body: result.stdout.slice(0, at) };
}

/** A streaming call, `curl -s -N -X POST -d body url`, read line by line as it arrives. */
export class CurlStream {
  /** The complete lines, each a message; the queue ends when curl exits. */
  readonly lines = new MessageQueue<string>('curl stream');
  private readonly child: ChildProcess;
  private text = '';
  private partial = '';
  private readonly exited: Promise<number | null>;

  constructor(url: string, body: string, options: CurlOptions & { maxTimeSeconds?: number } = {}) {
    const maxTimeSeconds = Math.min(options.maxTimeSeconds ?? streamTimeoutSecondsMax, streamTimeoutSecondsMax);
    this.child = spawn('curl', ['-N', '--max-time', String(maxTimeSeconds), ...curlArgs(url, body, options)], { stdio: ['ignore', 'pipe', 'pipe'] });
    this.child.stdout?.on('data', (chunk: Buffer) => {
      this.text += chunk.toString('utf8');
      const complete = (this.partial + chunk.toString('utf8')).split('\n');
      this.partial = complete.pop() ?? '';
      for (const line of complete) this.lines.push(line);
    });
    this.exited = new Promise((resolve) => this.child.on('close', (code) => {
      this.lines.end(`curl exited (${code}) after: ${this.text}`);
      resolve(code);
    }));
  }

  /** The next `count` unread lines; rejects when they do not come within `timeoutMs` or curl ends first. */
  take(count: number, timeoutMs = lineWaitMsDefault): Promise<string[]> {
    return this.lines.take(count, timeoutMs);
  }

  /** Waits for curl to end by itself (the server ended the response); returns everything it printed. */
  async ended(): Promise<string> {
    await this.exited;
    return this.text;
  }

  /** Kills curl (by its PID) if it still runs; returns everything it printed. */
  async stop(): Promise<string> {
    if (this.child.exitCode === null && this.child.signalCode === null) this.child.kill('SIGKILL');
    await this.exited;
    return this.text;
  }
}
