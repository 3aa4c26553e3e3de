// The whole-target oracle, run periodically during a fuzz run and after it:
// every member is alive and logged nothing forbidden, the membership is as it
// was, every member takes a put and every member reads it back, the members'
// HashKV agree at one revision, and (after the run) a member stopped and
// started again on its data directory comes back with the same HashKV.
import { randomBytes } from 'node:crypto';
import { HashKVRequest, MemberRemoveRequest, MemberUpdateRequest, PutRequest, RangeRequest, type HashKVResponse, type MemberListResponse, type PutResponse, type RangeResponse } from '../../proto/gen/etcdserverpb/rpc.js';
import { peerUrlsOf } from './service-requests.js';
import type { Answer } from './verdict.js';
import type { FuzzTarget } from './target.js';

/** The keys the checks write: outside fuzzPrefix, so no fuzzed request is aimed at them on purpose. */
const checkPrefix = 'fuzz-check/';

function failed(answer: Answer): string {
  return answer.ok ? 'ok' : `${answer.code} ${answer.details}`;
}

/** Cheap checks, run every few cases: liveness, logs, membership, put + read back on every member. */
export async function quickChecks(target: FuzzTarget): Promise<string[]> {
  const findings: string[] = target.deadMembers().map((name) => `${name} is not running`);
  findings.push(...target.newForbiddenLines());
  if (findings.length > 0) return findings;
  findings.push(...(await membershipUnchanged(target)));
  const written = await putEverywhere(target);
  findings.push(...written.findings);
  return findings;
}

/** Each member's MemberList shows the members and peer URLs the target started with. */
export async function membershipUnchanged(target: FuzzTarget): Promise<string[]> {
  const expected = target.facts.memberIds.map((id, index) => `${id.toString(16)}=${peerUrlsOf(target.facts, index).join(',')}`).sort().join(' ');
  const findings: string[] = [];
  for (const [index, channel] of target.channels.entries()) {
    const answer = await channel.unary({ kind: 'unary', method: 'Cluster.MemberList', request: {} });
    if (!answer.ok) {
      findings.push(`${target.memberName(index)}: MemberList failed: ${failed(answer)}`);
      continue;
    }
    const listed = (answer.response as MemberListResponse).members.map((member) => `${member.ID.toString(16)}=${member.peerURLs.join(',')}`).sort().join(' ');
    if (listed !== expected) findings.push(`${target.memberName(index)}: membership changed: ${listed} (was ${expected})`);
  }
  return findings;
}

/**
 * Every member takes a put, and every member reads every put back
 * (linearizably) at its revision. Resolves with the revision of the last put.
 */
export async function putEverywhere(target: FuzzTarget): Promise<{ findings: string[]; revision: bigint }> {
  const findings: string[] = [];
  const written: Array<{ key: Buffer; value: Buffer; revision: bigint }> = [];
  for (const [index, channel] of target.channels.entries()) {
    const key = Buffer.from(`${checkPrefix}${target.memberName(index)}`);
    const value = randomBytes(8);
    const answer = await channel.unary({ kind: 'unary', method: 'KV.Put', request: PutRequest.fromPartial({ key, value }) });
    if (!answer.ok) findings.push(`${target.memberName(index)}: put failed: ${failed(answer)}`);
    else written.push({ key, value, revision: (answer.response as PutResponse).header?.revision ?? 0n });
  }
  for (const [index, channel] of target.channels.entries()) {
    for (const { key, value, revision } of written) {
      const answer = await channel.unary({ kind: 'unary', method: 'KV.Range', request: RangeRequest.fromPartial({ key }) });
      const kv = answer.ok ? (answer.response as RangeResponse).kvs[0] : undefined;
      if (kv === undefined || !kv.value.equals(value) || kv.modRevision !== revision) {
        findings.push(`${target.memberName(index)}: reading ${key} back: ${answer.ok ? `got ${kv?.value.toString('hex')} at ${kv?.modRevision}` : failed(answer)}, wanted ${value.toString('hex')} at ${revision}`);
      }
    }
  }
  return { findings, revision: written.reduce((max, put) => (put.revision > max ? put.revision : max), 0n) };
}

/** Each member's HashKV at `revision`, as "hash/compactRevision", or the failure. */
async function hashes(target: FuzzTarget, revision: bigint): Promise<string[]> {
  return Promise.all(
    target.channels.map(async (channel) => {
      // A linearizable read first: the member has applied everything up to now, `revision` included.
      await channel.unary({ kind: 'unary', method: 'KV.Range', request: RangeRequest.fromPartial({ key: Buffer.from(checkPrefix) }) });
      const answer = await channel.unary({ kind: 'unary', method: 'Maintenance.HashKV', request: HashKVRequest.fromPartial({ revision }) });
      if (!answer.ok) return `failed: ${failed(answer)}`;
      const response = answer.response as HashKVResponse;
      return `${response.hash}/${response.compactRevision}`;
    }),
  );
}

/** Why the members' HashKV at `revision` do not agree, or nothing. */
export async function hashesDisagree(target: FuzzTarget, revision: bigint, what: string): Promise<string[]> {
  return disagreement(target, revision, await hashes(target, revision), what);
}

function disagreement(target: FuzzTarget, revision: bigint, found: string[], what: string): string[] {
  if (found.every((hash) => hash === found[0] && !hash.startsWith('failed'))) return [];
  return [`${what}: HashKV at revision ${revision} differs: ${found.map((hash, index) => `${target.memberName(index)} ${hash}`).join(', ')}`];
}

/**
 * The checks after a run: the quick ones, HashKV agreement, then a restart of
 * one member (the leader, when there are several) on its data directory,
 * after which its HashKV at the same revision must be what it was: nothing
 * the fuzzer wrote into the log stops it from replaying.
 */
export async function finalChecks(target: FuzzTarget): Promise<string[]> {
  const findings = await quickChecks(target);
  if (findings.length > 0) return findings;
  const { revision } = await putEverywhere(target);
  const before = await hashes(target, revision);
  findings.push(...disagreement(target, revision, before, 'after the run'));
  const leader = await target.cluster.leader();
  const index = target.members.indexOf(leader);
  const code = await leader.stop();
  if (code !== 0) findings.push(`${leader.name} exited with code ${code} on SIGTERM`);
  try {
    await target.restartMember(index);
  } catch (error) {
    return [...findings, `${leader.name} did not start again on its data directory: ${(error as Error).message.slice(0, 2_000)}`];
  }
  const after = await hashes(target, revision);
  if (after[index] !== before[index]) findings.push(`${leader.name}: HashKV at revision ${revision} was ${before[index]} before its restart, ${after[index]} after`);
  findings.push(...disagreement(target, revision, after, 'after the restart'));
  findings.push(...(await quickChecks(target)));
  return findings;
}

/**
 * Undoes a membership change a fuzzed request made (a finding already
 * reported): removes members the target did not start with and puts back
 * changed peer URLs, so that the run, and its shrinking, can go on.
 */
export async function restoreMembership(target: FuzzTarget): Promise<void> {
  const answer = await target.channel(0).unary({ kind: 'unary', method: 'Cluster.MemberList', request: {} });
  if (!answer.ok) {
    target.broken = `the membership could not be read to restore it: ${failed(answer)}`;
    return;
  }
  for (const member of (answer.response as MemberListResponse).members) {
    const index = target.facts.memberIds.indexOf(member.ID);
    if (index === -1) {
      await target.channel(0).unary({ kind: 'unary', method: 'Cluster.MemberRemove', request: MemberRemoveRequest.fromPartial({ ID: member.ID }) });
    } else if (member.peerURLs.join(',') !== peerUrlsOf(target.facts, index).join(',')) {
      await target.channel(0).unary({ kind: 'unary', method: 'Cluster.MemberUpdate', request: MemberUpdateRequest.fromPartial({ ID: member.ID, peerURLs: peerUrlsOf(target.facts, index) }) });
    }
  }
  const still = await membershipUnchanged(target);
  // An added voter that never starts can take the quorum with it: then nothing can be undone.
  if (still.length > 0) target.broken = `the membership could not be restored: ${still.join('; ')}`;
}
