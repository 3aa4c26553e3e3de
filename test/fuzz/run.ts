// Runs one fuzz property against a live target: each case is a few calls,
// each to a chosen member; after each case every member must still run and
// have logged nothing forbidden, and every few cases the quick whole-target
// checks run. The seed is printed before the run and, on failure, the
// shrunk counterexample with its seed and path, so that
// `npm run fuzz -- --seed S --path P --grep NAME` replays it.
import fc from 'fast-check';
import { callJson, callName, type Addressed, type FuzzCall } from './calls.js';
import { membershipUnchanged, quickChecks, restoreMembership } from './checks.js';
import type { FuzzSettings } from './settings.js';
import type { FuzzTarget } from './target.js';

/** In a cluster, followers apply a write a moment after the leader answers it: a crash while applying shows by then. */
const clusterSettleMs = 15;

export interface PropertyOptions {
  /** The property's name, as mocha's --grep selects it. */
  name: string;
  target: FuzzTarget;
  calls: fc.Arbitrary<FuzzCall>;
  /** Cases when FUZZ_RUNS does not say. */
  runsDefault: number;
  settings: FuzzSettings;
}

/** A failed case: what the oracle found. */
class Findings extends Error {
  override readonly name = 'Findings';
}

/** Counts of outcomes per method, printed after a run. */
class Statistics {
  private readonly counts = new Map<string, Map<string, number>>();
  private readonly errors = new Map<string, number>();
  calls = 0;

  count(method: string, outcome: string, error?: string): void {
    this.calls++;
    const outcomes = this.counts.get(method) ?? new Map<string, number>();
    outcomes.set(outcome, (outcomes.get(outcome) ?? 0) + 1);
    this.counts.set(method, outcomes);
    if (error !== undefined) this.errors.set(error, (this.errors.get(error) ?? 0) + 1);
  }

  lines(): string[] {
    const methods = [...this.counts.entries()]
      .sort(([a], [b]) => a.localeCompare(b))
      .map(([method, outcomes]) => `      ${method.padEnd(36)} ${[...outcomes.entries()].map(([outcome, count]) => `${outcome} ${count}`).join(', ')}`);
    const errors = [...this.errors.entries()].sort(([, a], [, b]) => b - a).map(([error, count]) => `        ${String(count).padStart(5)} ${error}`);
    return [...methods, `      error answers (${this.errors.size} distinct):`, ...errors];
  }
}

function freshSeed(): number {
  return (Date.now() ^ Math.floor(Math.random() * 0x1_0000_0000)) | 0;
}

function changesMembership(call: FuzzCall): boolean {
  return (call.kind === 'unary' || call.kind === 'garbage') && call.method.startsWith('Cluster.Member') && call.method !== 'Cluster.MemberList';
}

/** Sends one call and returns what the oracle found, each finding naming the request. */
async function sendOne(target: FuzzTarget, { call, member }: Addressed, statistics: Statistics): Promise<string[]> {
  const sent = await target.prepare(call, member);
  if (sent === undefined) {
    statistics.count(callName(call), 'not sent (guard)');
    return [];
  }
  const observation = await target.channel(member).send(sent);
  statistics.count(callName(sent), observation.outcome, observation.error);
  const found = [...observation.findings];
  if (changesMembership(sent)) {
    // Checked at once, so that the finding names the request that made the change.
    const changed = await membershipUnchanged(target);
    if (changed.length > 0) await restoreMembership(target);
    found.push(...changed);
  }
  return found.map((finding) => `${callName(sent)} to ${target.memberName(member)}: ${finding}\n    request: ${callJson(sent)}`);
}

/** A case: its calls, sent one after another or all at once (races between requests are input too). */
export interface Case {
  calls: Addressed[];
  parallel: boolean;
}

/** Sends one case's calls and returns what the oracle found. */
async function runCase(target: FuzzTarget, { calls, parallel }: Case, statistics: Statistics): Promise<string[]> {
  const findings: string[] = [];
  if (parallel) {
    findings.push(...(await Promise.all(calls.map((addressed) => sendOne(target, addressed, statistics)))).flat());
  } else {
    for (const addressed of calls) findings.push(...(await sendOne(target, addressed, statistics)));
  }
  if (target.members.length > 1) await new Promise((resolve) => setTimeout(resolve, clusterSettleMs));
  findings.push(...target.deadMembers().map((name) => `${name} is not running after the case`), ...target.newForbiddenLines());
  return findings;
}

function report(name: string, details: fc.RunDetails<[Case]>): string {
  const counterexample = details.counterexample?.[0] ?? { calls: [], parallel: false };
  return failureReport(name, details, counterexample.calls.map(({ call, member }) => `to member ${member}: ${callJson(call)}`), counterexample.parallel);
}

/** What a failed property prints: its replay command, the shrunk counterexample's calls (one a line), and the findings. */
export function failureReport<T extends unknown[]>(name: string, details: fc.RunDetails<T>, calls: string[], parallel: boolean): string {
  const error = details.errorInstance instanceof Error ? details.errorInstance.message : String(details.errorInstance);
  return [
    `fuzz ${name} failed after ${details.numRuns} cases (shrunk ${details.numShrinks} times)`,
    `  replay: npm run fuzz -- --seed ${details.seed} --path "${details.counterexamplePath}" --grep "${name}"`,
    `  counterexample (${calls.length} calls${parallel ? ', sent at once' : ', one after another'}):`,
    ...calls.map((call) => `    ${call}`),
    `  findings:`,
    `    ${error.replaceAll('\n', '\n    ')}`,
  ].join('\n');
}

/** Runs the property; throws with the report when the oracle found something. */
export async function fuzzProperty(options: PropertyOptions): Promise<void> {
  const { name, target, settings } = options;
  const seed = settings.seed ?? freshSeed();
  const runs = settings.runs ?? options.runsDefault;
  const statistics = new Statistics();
  const limit = settings.timeLimitMs === undefined ? 'no time limit' : `time limit ${settings.timeLimitMs / 1000} s`;
  console.log(`    fuzz ${name}: seed ${seed}, up to ${runs} cases${settings.path !== undefined ? `, path ${settings.path}` : ''}, ${limit}`);
  const addressed = fc.record({ call: options.calls, member: fc.nat(target.members.length - 1) });
  let cases = 0;
  const oneCase = fc.record({ calls: fc.array(addressed, { minLength: 1, maxLength: settings.callsPerCaseMax }), parallel: fc.boolean() });
  const property = fc.asyncProperty(oneCase, async (calls) => {
    await target.revive();
    // A member that cannot start again makes every later case meaningless; its own finding was reported.
    fc.pre(target.broken === undefined);
    const findings = await runCase(target, calls, statistics);
    cases++;
    if (findings.length === 0 && cases % settings.checkEveryCases === 0) findings.push(...(await quickChecks(target)));
    if (findings.length > 0) throw new Findings(findings.join('\n'));
  });
  const started = Date.now();
  const details = await fc.check(property, { numRuns: runs, seed, path: settings.path, interruptAfterTimeLimit: settings.timeLimitMs, markInterruptAsFailure: false });
  const seconds = ((Date.now() - started) / 1000).toFixed(1);
  console.log(`    fuzz ${name}: ${details.numRuns} cases, ${statistics.calls} calls in ${seconds} s${details.interrupted ? ' (stopped at the time limit)' : ''}; seed ${seed}`);
  for (const line of statistics.lines()) console.log(line);
  for (const event of target.events) console.log(`      event: ${event}`);
  if (details.failed) throw new Error(report(name, details) + (target.broken !== undefined ? `\n  and then: ${target.broken}` : ''));
}
