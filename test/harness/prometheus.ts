// Reads the Prometheus text format a server's /metrics answers, for tests
// that compare cairn's metrics with etcd's: each family's TYPE and samples.
export interface MetricFamily {
  type: string;
  /** Every sample line of the family (histograms: _bucket, _sum, _count), with its labels as text. */
  samples: Array<{ name: string; labels: Record<string, string>; value: number }>;
}

/** Families by name; samples of a family that declared no TYPE are left out. */
export function parseMetrics(text: string): Map<string, MetricFamily> {
  const families = new Map<string, MetricFamily>();
  for (const line of text.split('\n')) {
    const type = /^# TYPE (\S+) (\S+)$/.exec(line);
    if (type !== null) {
      families.set(type[1] ?? '', { type: type[2] ?? '', samples: [] });
      continue;
    }
    if (line === '' || line.startsWith('#')) continue;
    const sample = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{(.*)\})? (\S+)/.exec(line);
    if (sample === null) throw new Error(`not a sample line: ${line}`);
    const name = sample[1] ?? '';
    const family = families.get(name) ?? families.get(name.replace(/_(bucket|sum|count)$/, ''));
    family?.samples.push({ name, labels: parseLabels(sample[3] ?? ''), value: Number(sample[4]) });
  }
  return families;
}

function parseLabels(text: string): Record<string, string> {
  const labels: Record<string, string> = {};
  for (const match of text.matchAll(/([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"/g)) labels[match[1] ?? ''] = match[2] ?? '';
  return labels;
}

/** The value of the one sample of `name` whose labels include `labels`; undefined when there is none. */
export function sampleValue(families: Map<string, MetricFamily>, name: string, labels: Record<string, string> = {}): number | undefined {
  const family = families.get(name) ?? families.get(name.replace(/_(bucket|sum|count)$/, ''));
  const matching = family?.samples.filter((sample) => sample.name === name && Object.entries(labels).every(([key, value]) => sample.labels[key] === value));
  if (matching === undefined || matching.length === 0) return undefined;
  if (matching.length > 1) throw new Error(`${name}${JSON.stringify(labels)} matches ${matching.length} samples`);
  return matching[0]?.value;
}

/** GET /metrics of `baseUrl` (http://host:port), parsed. */
export async function scrape(baseUrl: string): Promise<Map<string, MetricFamily>> {
  const response = await fetch(`${baseUrl}/metrics`);
  if (response.status !== 200) throw new Error(`GET ${baseUrl}/metrics answered ${response.status}`);
  return parseMetrics(await response.text());
}
