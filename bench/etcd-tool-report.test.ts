import { expect } from 'chai';
import { parseEtcdToolFlags, type EtcdToolConfig, type ToolWorkload } from './etcd-tool-flags.js';
import type { EtcdToolTargetResult, ToolRun } from './etcd-tool-measure.js';
import type { ToolSummary } from './etcd-tool-output.js';
import { buildEtcdToolReport, formatEtcdToolTable } from './etcd-tool-report.js';
import type { TargetKind } from './flags.js';

const environment = { node: 'v20', cpuCount: 2, cpuModel: 'test', loadAverageAtStart: [0.5, 0.5, 0.5] };

function config(argv: string[]): EtcdToolConfig {
  const parsed = parseEtcdToolFlags(argv);
  if (parsed === 'help') throw new Error('unexpected help');
  return parsed;
}

/** A summary whose latencies follow from the rate, to check which figure lands where. */
function summary(requestsPerSecond: number): ToolSummary {
  const seconds = 1 / requestsPerSecond;
  return {
    title: null, totalSeconds: 2, slowestSeconds: seconds * 10, fastestSeconds: seconds / 10, averageSeconds: seconds, stddevSeconds: seconds,
    requestsPerSecond, percentileSeconds: { '50': seconds, '99': seconds * 5 }, errors: {},
  };
}

function run(workload: ToolWorkload, requestsPerSecond: number | null): ToolRun {
  return {
    workload, loadAverage1mAtStart: 0.5, summary: requestsPerSecond === null ? null : summary(requestsPerSecond), creation: null, errors: 0,
    failure: requestsPerSecond === null ? 'exit 2: connection refused' : null,
  };
}

function result(target: TargetKind, repetition: number, putRate: number | null, watchRate: number): EtcdToolTargetResult {
  return { target, repetition, runs: [run('put', putRate), run('watch', watchRate)] };
}

describe('bench etcd-tool report', () => {
  const twoWorkloads = config(['--workloads', 'put,watch']);

  it('means over repetitions and cairn/etcd ratios of the means, and per repetition', () => {
    const report = buildEtcdToolReport(twoWorkloads, [
      result('etcd', 1, 1000, 90_000), result('cairn', 1, 500, 30_000), result('cairn', 2, 700, 30_000), result('etcd', 2, 1400, 90_000),
    ], environment);
    const put = report.ratios.find((ratio) => ratio.workload === 'put');
    expect(put?.requestsPerSecond).to.be.closeTo(600 / 1200, 1e-9);
    expect(put?.requestsPerSecondByRepetition).to.deep.equal([0.5, 0.5]);
    // Latencies (1/rate here) are worse on cairn: a ratio above 1.
    expect(put?.p50Ms).to.be.closeTo(((1 / 500 + 1 / 700) / 2) / ((1 / 1000 + 1 / 1400) / 2), 1e-9);
    const watch = report.ratios.find((ratio) => ratio.workload === 'watch');
    expect(watch).to.deep.include({ requestsPerSecond: 1 / 3, p50Ms: null, p99Ms: null });
  });

  it('prints every run, the means and the ratios; a failed run shows as failed and is left out of the mean', () => {
    const report = buildEtcdToolReport(twoWorkloads, [
      result('etcd', 1, 1000, 90_000), result('cairn', 1, null, 30_000), result('cairn', 2, 700, 30_000), result('etcd', 2, 1400, 90_000),
    ], environment);
    const table = formatEtcdToolTable(report);
    const lines = table.split('\n');
    expect(lines.filter((line) => /^put\s+cairn\s+1\s/.test(line))[0]).to.match(/failed/);
    expect(lines.filter((line) => /^put\s+cairn\s+mean/.test(line))[0]).to.match(/\s700\s/);
    expect(lines.filter((line) => /^put\s+cairn\/etcd/.test(line))[0]).to.match(/0\.58x .*req\/s by repetition: r1 -, r2 0\.50x/);
    expect(lines.filter((line) => /^watch\s+etcd\s+1\s/.test(line))[0]).to.match(/90000\s+-\s+-\s+-\s+-\s+2\.00\s+0$/);
    expect(table).to.include('cairn r1 put failed: exit 2: connection refused');
  });
});
