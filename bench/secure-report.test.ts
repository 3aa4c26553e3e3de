import { expect } from 'chai';
import type { TargetKind } from './flags.js';
import { parseSecureFlags, type SecureConfig, type Security } from './secure-flags.js';
import type { SecureResult } from './secure-measure.js';
import { buildSecureReport, formatSecureTable } from './secure-report.js';

const environment = { node: 'v20', cpuCount: 2, cpuModel: 'test', loadAverageAtStart: [0.5, 0.5, 0.5] };

function config(argv: string[]): SecureConfig {
  const parsed = parseSecureFlags(argv);
  if (parsed === 'help') throw new Error('unexpected help');
  return parsed;
}

/** A run whose figures are all derived from `putsPerSecond` and `slowestSeconds`, to check which ratio is which. */
function result(target: TargetKind, security: Security, putsPerSecond: number, slowestSeconds: number | null): SecureResult {
  return {
    target,
    security,
    loadAverage1mAtStart: 0.5,
    checkPerf: slowestSeconds === null ? null : {
      target, load: 's', loadAverage1mAtStart: 0.5, exitCode: 0, seconds: 61, passed: true, writesPerSecond: 150,
      slowestSeconds, stddevSeconds: 0.001, verdictLines: ['PASS'], errorOutput: '',
    },
    puts: { puts: putsPerSecond * 10, errors: 0, errorSamples: [], seconds: 10, putsPerSecond, p50Ms: 1000 / putsPerSecond, p99Ms: 2, maxMs: 3 },
    connects: { samples: 10, p50Ms: 2, maxMs: 3 },
  };
}

describe('bench secure-perf report', () => {
  it('puts cairn/etcd and each configuration / plaintext on the same server side by side', () => {
    const report = buildSecureReport(config(['--security', 'plaintext,tls']), [
      result('etcd', 'plaintext', 1000, 0.05), result('cairn', 'plaintext', 800, 0.04),
      result('cairn', 'tls', 600, 0.08), result('etcd', 'tls', 900, 0.1),
    ], environment);
    const puts = report.rows.filter((entry) => entry.figure === 'sdk puts/s');
    expect(puts.map((entry) => [entry.security, entry.etcd, entry.cairn])).to.deep.equal([['plaintext', 1000, 800], ['tls', 900, 600]]);
    const tls = puts[1];
    expect(tls?.cairnOverEtcd).to.be.closeTo(600 / 900, 1e-9);
    expect(tls?.etcdOverPlaintext).to.be.closeTo(0.9, 1e-9);
    expect(tls?.cairnOverPlaintext).to.be.closeTo(0.75, 1e-9);
    const slowest = report.rows.find((entry) => entry.figure === 'check perf slowest ms' && entry.security === 'tls');
    expect([slowest?.etcd, slowest?.cairn]).to.deep.equal([100, 80]);
    expect(slowest?.cairnOverPlaintext).to.be.closeTo(2, 1e-9);
    const table = formatSecureTable(report);
    expect(table).to.match(/sdk puts\/s\s+plaintext\s+1000\s+800\s+0\.80x\s+1\.00x\s+1\.00x/);
    expect(table).to.match(/\n\s+tls\s+900\s+600\s+0\.67x\s+0\.90x\s+0\.75x/);
    expect(table).to.include('cairn tls: check perf PASS; load average 0.50 at start');
  });

  it('leaves a ratio out when a side or plaintext was not measured, and check perf\'s rows out when it was skipped', () => {
    const report = buildSecureReport(config(['--security', 'plaintext,auth', '--check-perf', 'none']), [result('cairn', 'auth', 500, null)], environment);
    const auth = report.rows.find((entry) => entry.figure === 'sdk puts/s' && entry.security === 'auth');
    expect([auth?.etcd, auth?.cairn, auth?.cairnOverEtcd, auth?.cairnOverPlaintext]).to.deep.equal([null, 500, null, null]);
    expect(report.rows.some((entry) => entry.figure.startsWith('check perf'))).to.equal(false);
    expect(formatSecureTable(report)).to.include('cairn auth: check perf skipped');
  });
});
