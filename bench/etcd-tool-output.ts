// Reads what etcd's benchmark tool prints (its pkg/report): one block per
// measured phase,
//
//   Summary:
//     Total:	0.4404 secs.
//     Slowest:	0.0255 secs.
//     Fastest:	0.0012 secs.
//     Average:	0.0086 secs.
//     Stddev:	0.0038 secs.
//     Requests/sec:	11353.5406
//
//   Response time histogram: ...
//   Latency distribution:
//     10% in 0.0044 secs.
//     ...
//     99.9% in 0.0250 secs.
//   Error distribution:          (only when requests failed)
//     [12]	etcdserver: request timed out
//
// With --precise the figures are Go's %g (e.g. 4.4e-05). `watch` prints two
// blocks, each after a title line: "Watch creation summary:" and "Watch
// events received summary:". Requests/sec counts successful requests only.

export interface ToolSummary {
  /** The line before the block ("Watch creation summary:"), or null when there is none. */
  title: string | null;
  totalSeconds: number;
  slowestSeconds: number;
  fastestSeconds: number;
  averageSeconds: number;
  stddevSeconds: number;
  requestsPerSecond: number;
  /** Latency in seconds by percentile ("50", "99", "99.9"). */
  percentileSeconds: Record<string, number>;
  /** Failed requests by error message. */
  errors: Record<string, number>;
}

const summaryFields = {
  'Total': 'totalSeconds',
  'Slowest': 'slowestSeconds',
  'Fastest': 'fastestSeconds',
  'Average': 'averageSeconds',
  'Stddev': 'stddevSeconds',
  'Requests/sec': 'requestsPerSecond',
} as const;

type SummaryField = (typeof summaryFields)[keyof typeof summaryFields];

/** The tool's progress bar redraws with carriage returns: keep what follows the last one on each line. */
function lines(stdout: string): string[] {
  return stdout.split('\n').map((line) => line.slice(line.lastIndexOf('\r') + 1));
}

function figure(text: string, line: string): number {
  const value = Number(text);
  if (text === '' || !Number.isFinite(value)) throw new Error(`etcd benchmark output: no number in ${JSON.stringify(line)}`);
  return value;
}

/** Every summary block in the tool's stdout, in order. Throws on a block it cannot read. */
export function parseToolOutput(stdout: string): ToolSummary[] {
  const all = lines(stdout);
  const summaries: ToolSummary[] = [];
  for (let index = 0; index < all.length; index++) {
    if (all[index]?.trim() !== 'Summary:') continue;
    let before = index - 1;
    while (before >= 0 && all[before]?.trim() === '') before--;
    const title = before >= 0 && /summary:$/.test(all[before]?.trim() ?? '') ? (all[before] ?? '').trim() : null;
    const parsed: Partial<Record<SummaryField, number>> = {};
    const percentileSeconds: Record<string, number> = {};
    const errors: Record<string, number> = {};
    let section: 'summary' | 'latency' | 'errors' | 'other' = 'summary';
    let next = index + 1;
    for (; next < all.length; next++) {
      const line = all[next] ?? '';
      const trimmed = line.trim();
      if (trimmed === 'Summary:' || /summary:$/.test(trimmed)) break;
      if (trimmed === 'Latency distribution:') section = 'latency';
      else if (trimmed === 'Error distribution:') section = 'errors';
      else if (trimmed.endsWith(':') && !trimmed.includes('\t')) section = 'other';
      else if (section === 'summary') {
        const match = /^\s+([A-Za-z/]+):\t(\S+?)(?: secs)?\.?$/.exec(line);
        if (match !== null && match[1] !== undefined && match[1] in summaryFields) {
          parsed[summaryFields[match[1] as keyof typeof summaryFields]] = figure(match[2] ?? '', line);
        }
      } else if (section === 'latency') {
        const match = /^\s+([0-9.]+)% in (\S+) secs\.$/.exec(line);
        if (match !== null) percentileSeconds[match[1] ?? ''] = figure(match[2] ?? '', line);
      } else if (section === 'errors') {
        const match = /^\s+\[(\d+)\]\t(.*)$/.exec(line);
        if (match !== null) errors[match[2] ?? ''] = Number(match[1]);
      }
    }
    index = next - 1;
    const missing = Object.values(summaryFields).filter((name) => parsed[name] === undefined);
    if (missing.length > 0) throw new Error(`etcd benchmark output: a summary without ${missing.join(', ')}`);
    summaries.push({ title, ...(parsed as Record<SummaryField, number>), percentileSeconds, errors });
  }
  return summaries;
}

/** Failed requests in a summary. */
export function errorCount(summary: ToolSummary): number {
  return Object.values(summary.errors).reduce((total, count) => total + count, 0);
}
