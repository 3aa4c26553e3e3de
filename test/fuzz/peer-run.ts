// Runs the peer fuzz property against a live target. A case is a few calls
// to the peer ports of random members (peer-messages.ts), each resolved
// against the Status its receiver gave just before, kept back if the guard
// says so (peer-guard.ts), then sent. After every case the cluster must
// settle: every member runs and logged nothing forbidden, and within
// settleMs the members agree on one leader, every member takes a put that
// every member reads back, and their HashKV agree. Elections and lost
// leadership on the way are allowed; a member down or a stuck cluster is not.
// The seed is printed before the run; a failure prints the shrunk case and
// the command that replays it.
import fc from 'fast-check';
import { type StatusResponse } from '../../proto/gen/etcdserverpb/rpc.js';
import { callJson } from './calls.js';
import { hashesDisagree, putEverywhere } from './checks.js';
import type { Known } from './peer-guard.js';
import { peerSend, type PeerSend } from './peer-messages.js';
import { judgePeerAnswer, PeerChannel, prepare, type Scene } from './peer-send.js';
import type { FuzzSettings } from './settings.js';
import { failureReport } from './run.js';
import type { FuzzTarget } from './target.js';

/** How long a cluster may take to have one leader, take puts everywhere and agree on HashKV after a case. */
export const settleMs = 10_000;
const settlePauseMs = 200;

export interface PeerPropertyOptions {
  /** The property's name, as mocha's --grep selects it. */
  name: string;
  target: FuzzTarget;
  /** Cases when FUZZ_RUNS does not say. */
  runsDefault: number;
  settings: FuzzSettings;
}

/** A case: its calls, sent one after another or all at once. */
export interface PeerCase {
  sends: PeerSend[];
  parallel: boolean;
}

class Findings extends Error {
  override readonly name = 'Findings';
}

/** Counts printed after a run. */
class Statistics {
  readonly outcomes = new Map<string, number>();
  readonly messageTypes = new Map<string, number>();
  calls = 0;
  messages = 0;
  /** The highest term a member reported before the first case and before the last. */
  termFirst: bigint | undefined;
  termLast = 0n;

  add(map: Map<string, number>, key: string): void {
    map.set(key, (map.get(key) ?? 0) + 1);
  }

  lines(): string[] {
    const sorted = (map: Map<string, number>) => [...map.entries()].sort(([a], [b]) => a.localeCompare(b)).map(([key, count]) => `${key} ${count}`);
    return [`      terms: ${this.termFirst} before the first case, ${this.termLast} before the last`, `      calls: ${sorted(this.outcomes).join(', ')}`, `      messages by type: ${sorted(this.messageTypes).join(', ')}`];
  }
}

function freshSeed(): number {
  return (Date.now() ^ Math.floor(Math.random() * 0x1_0000_0000)) | 0;
}

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

/** Each member's ID, term and commit, from its Status (answered locally); a member that does not answer keeps what it said before. */
async function readKnown(target: FuzzTarget, previous: Known[]): Promise<Known[]> {
  return Promise.all(
    target.channels.map(async (channel, index) => {
      // previous and facts.memberIds hold one entry per member, as channels do.
      const before = previous[index];
      const id = target.facts.memberIds[index];
      if (before === undefined || id === undefined) throw new Error(`peer fuzz: nothing known of member ${index}`);
      const answer = await channel.unary({ kind: 'unary', method: 'Maintenance.Status', request: {} });
      if (!answer.ok) return before;
      const response = answer.response as StatusResponse;
      return { id, term: response.raftTerm, commit: response.raftIndex };
    }),
  );
}

/**
 * The oracle after a case: no member gone or logging what it must not, and
 * within settleMs one leader that all agree on, a put through every member
 * read back by every member, and equal HashKV at the last put's revision.
 */
export async function settled(target: FuzzTarget): Promise<string[]> {
  const deadline = Date.now() + settleMs;
  for (;;) {
    const gone = [...target.deadMembers().map((name) => `${name} is not running`), ...target.newForbiddenLines()];
    if (gone.length > 0) return gone;
    const last = await checkRound(target, deadline);
    if (last.length === 0) return [];
    if (Date.now() > deadline) return [`the cluster did not settle within ${settleMs} ms: ${last.join('; ')}`];
    await sleep(settlePauseMs);
  }
}

async function checkRound(target: FuzzTarget, deadline: number): Promise<string[]> {
  try {
    await target.cluster.leader(Math.max(0, deadline - Date.now()));
  } catch (error) {
    return [(error as Error).message];
  }
  const written = await putEverywhere(target);
  if (written.findings.length > 0) return written.findings;
  return hashesDisagree(target, written.revision, 'after the case');
}

class PeerRun {
  readonly statistics = new Statistics();
  private known: Known[];
  private readonly channels: PeerChannel[];

  constructor(private readonly target: FuzzTarget) {
    this.known = target.facts.memberIds.map((id) => ({ id, term: 0n, commit: 0n }));
    this.channels = target.facts.peerUrls.map((urls, index) => {
      const url = urls[0];
      if (url === undefined) throw new Error(`peer fuzz: member ${index} has no peer URL`);
      return new PeerChannel(new URL(url).host);
    });
  }

  close(): void {
    for (const channel of this.channels) channel.close();
  }

  async runCase({ sends, parallel }: PeerCase): Promise<string[]> {
    this.known = await readKnown(this.target, this.known);
    this.statistics.termLast = this.known.reduce((max, known) => (known.term > max ? known.term : max), 0n);
    this.statistics.termFirst ??= this.statistics.termLast;
    const findings: string[] = [];
    const one = async (send: PeerSend): Promise<void> => {
      findings.push(...(await this.sendOne(send)));
    };
    if (parallel) await Promise.all(sends.map(one));
    else for (const send of sends) await one(send);
    findings.push(...(await settled(this.target)));
    return findings;
  }

  private async sendOne(send: PeerSend): Promise<string[]> {
    const identity = { clusterId: this.target.channel(0).identity.clusterId, memberIds: this.target.facts.memberIds };
    const scene: Scene = { identity, known: this.known, receiver: send.member };
    const prepared = prepare(send, scene);
    if (prepared.excluded !== undefined) {
      this.statistics.add(this.statistics.outcomes, `${send.kind} not sent (guard ${prepared.excluded.slice(-3)})`);
      return [];
    }
    const channel = this.channels[send.member];
    if (channel === undefined) throw new Error(`peer fuzz: no peer channel to member ${send.member} (${this.channels.length} members)`);
    const answer = await channel.send(prepared);
    this.statistics.calls++;
    this.statistics.messages += prepared.messageTypes.length;
    for (const type of prepared.messageTypes) this.statistics.add(this.statistics.messageTypes, type);
    this.statistics.add(this.statistics.outcomes, `${send.kind} ${answer.code}`);
    const finding = judgePeerAnswer(answer);
    return finding === undefined ? [] : [`${send.kind} to ${this.target.memberName(send.member)}: ${finding}\n    sent: ${callJson(send)}`];
  }
}

function report(name: string, details: fc.RunDetails<[PeerCase]>): string {
  const counterexample = details.counterexample?.[0] ?? { sends: [], parallel: false };
  return failureReport(name, details, counterexample.sends.map((send) => callJson(send)), counterexample.parallel);
}

/** Runs the property; throws with the report when the oracle found something. */
export async function fuzzPeerProperty({ name, target, runsDefault, settings }: PeerPropertyOptions): Promise<void> {
  const seed = settings.seed ?? freshSeed();
  const runs = settings.runs ?? runsDefault;
  const limit = settings.timeLimitMs === undefined ? 'no time limit' : `time limit ${settings.timeLimitMs / 1000} s`;
  console.log(`    fuzz ${name}: seed ${seed}, up to ${runs} cases${settings.path !== undefined ? `, path ${settings.path}` : ''}, ${limit}`);
  const run = new PeerRun(target);
  const oneCase = fc.record({ sends: fc.array(peerSend(target.facts.memberIds), { minLength: 1, maxLength: settings.callsPerCaseMax }), parallel: fc.boolean() });
  const property = fc.asyncProperty(oneCase, async (peerCase) => {
    await target.revive();
    fc.pre(target.broken === undefined);
    const findings = await run.runCase(peerCase);
    if (findings.length > 0) throw new Findings(findings.join('\n'));
  });
  const started = Date.now();
  try {
    const details = await fc.check(property, { numRuns: runs, seed, path: settings.path, interruptAfterTimeLimit: settings.timeLimitMs, markInterruptAsFailure: false });
    const seconds = ((Date.now() - started) / 1000).toFixed(1);
    console.log(`    fuzz ${name}: ${details.numRuns} cases, ${run.statistics.calls} calls, ${run.statistics.messages} structured messages in ${seconds} s${details.interrupted ? ' (stopped at the time limit)' : ''}; seed ${seed}`);
    for (const line of run.statistics.lines()) console.log(line);
    for (const event of target.events) console.log(`      event: ${event}`);
    if (details.failed) throw new Error(report(name, details) + (target.broken !== undefined ? `\n  and then: ${target.broken}` : ''));
  } finally {
    run.close();
  }
}
