// `etcdctl check perf` against a running cluster, and what it printed.
//
// check perf (etcdctl 3.4) first fails if anything exists under its prefix
// /etcdctl-check-perf/, then puts random keys under it from `clients` clients
// at up to `limit` puts/s for 60 s, deletes the prefix, and judges the run:
//
//   load  clients  limit (puts/s)
//   s          50    150
//   m         200   1000
//   l         500   8000
//   xl       1000  15000
//
//   PASS: Throughput is 974 writes/s        (FAIL: Throughput too low: ... when <= 90% of the limit)
//   PASS: Slowest request took 0.468174s    (Slowest request took too long: ...s when > 0.5 s)
//   PASS: Stddev is 0.028241s               (Stddev too high: ...s when > 0.1 s)
//   PASS                                    (FAIL, exit code 1, when any check failed)
//
// A failed request adds "FAIL: too many errors" and one "FAIL: ERROR(<error>) -> <count>" line per error.
import { performance } from 'node:perf_hooks';
import { etcdctl } from '../test/harness/etcdctl.js';
import type { TargetKind } from './flags.js';
import { loadAverage1m } from './table.js';

export const checkPerfLoads = ['s', 'm', 'l', 'xl'] as const;
export type CheckPerfLoad = (typeof checkPerfLoads)[number];

/** The put rate each load asks for; check perf passes throughput above 90% of it. */
export const checkPerfLimitPerSecond: Record<CheckPerfLoad, number> = { s: 150, m: 1_000, l: 8_000, xl: 15_000 };

/** 60 s of load, up to 30 s for the delete, and the client's start. */
const checkPerfTimeoutMs = 150_000;
const errorOutputCharsMax = 2_000;

export interface CheckPerfResult {
  target: TargetKind;
  load: CheckPerfLoad;
  /** 1-minute load average of the machine when check perf started. */
  loadAverage1mAtStart: number;
  /** Null when etcdctl was killed at the timeout. */
  exitCode: number | null;
  seconds: number;
  /** The final verdict; null when check perf printed none (it failed before judging). */
  passed: boolean | null;
  writesPerSecond: number | null;
  slowestSeconds: number | null;
  stddevSeconds: number | null;
  /** Every line that judges something, as printed (PASS/FAIL, "... too long", "... too high"). */
  verdictLines: string[];
  /** What etcdctl wrote to stderr (its error when it failed), trimmed to the last 2,000 characters. */
  errorOutput: string;
}

const verdictLine = /^(PASS|FAIL)\b|took too long|too high/;

function numberIn(lines: string[], pattern: RegExp): number | null {
  for (const line of lines) {
    const match = pattern.exec(line);
    if (match !== null) return Number(match[1]);
  }
  return null;
}

/**
 * Where a judging line starts. The progress bar shares stdout, redrawn with
 * carriage returns by a goroutine of its own that finishes its line only when
 * it stops, which can be after the first verdict was printed: that verdict
 * then follows the bar's last frame on the same line ("… 98.33%PASS:
 * Throughput is 151 writes/s").
 */
const verdictStart = /(PASS|FAIL|Slowest request took too long|Stddev too high)/g;

/** Reads check perf's output, each verdict on a line of its own whatever the progress bar wrote around it. */
export function parseCheckPerf(stdout: string): Pick<CheckPerfResult, 'passed' | 'writesPerSecond' | 'slowestSeconds' | 'stddevSeconds' | 'verdictLines'> {
  const lines = stdout.replace(verdictStart, '\n$1').split(/[\r\n]+/);
  const verdictLines = lines.map((line) => line.trim()).filter((line) => verdictLine.test(line));
  const last = verdictLines.at(-1);
  return {
    passed: last === 'PASS' ? true : last === 'FAIL' ? false : null,
    writesPerSecond: numberIn(verdictLines, /(\d+) writes\/s/),
    slowestSeconds: numberIn(verdictLines, /Slowest request took(?: too long:)? ([\d.]+)s/),
    stddevSeconds: numberIn(verdictLines, /Stddev (?:is|too high:) ([\d.]+)s/),
    verdictLines,
  };
}

/**
 * Runs `etcdctl --endpoints=<every member> [flags] check perf --load=<load>`
 * and reads its verdict; `flags` are etcdctl's connection flags (--cacert,
 * --cert, --key, --user), which every one of check perf's clients uses.
 */
export async function runCheckPerf(target: TargetKind, endpoints: string[], load: CheckPerfLoad, flags: readonly string[] = []): Promise<CheckPerfResult> {
  const loadAverage1mAtStart = loadAverage1m();
  const startedAt = performance.now();
  const { code, stdout, stderr } = await etcdctl(endpoints.join(','), [...flags, 'check', 'perf', `--load=${load}`], { timeoutMs: checkPerfTimeoutMs });
  return {
    target,
    load,
    loadAverage1mAtStart,
    exitCode: code,
    seconds: (performance.now() - startedAt) / 1000,
    ...parseCheckPerf(stdout),
    errorOutput: stderr.trim().slice(-errorOutputCharsMax),
  };
}
