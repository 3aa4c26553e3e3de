// What the fault tests ask a cluster, and how they judge the answers: unary
// calls to one member with a deadline, polling with a deadline, convergence
// (one leader, every member applied to the same index), HashKV equality, and
// every acknowledged put read back from every member.
import { credentials, Metadata, type ServiceError } from '@grpc/grpc-js';
import {
  HashKVRequest,
  KVClient,
  MaintenanceClient,
  PutRequest,
  RangeRequest,
  StatusRequest,
  type HashKVResponse,
  type PutResponse,
  type RangeResponse,
  type StatusResponse,
} from '../../proto/gen/etcdserverpb/rpc.js';
import type { KeyValue } from '../../proto/gen/mvccpb/kv.js';
import type { Cluster, ClusterMember } from '../harness/cluster.js';
import { must } from '../harness/must.js';
import { prefixEnd } from '../../client/keys.js';
import { checkSnapshot, recordAcks, summarize, type Acknowledged } from './durability-check.js';
import type { FailoverLoad } from './faults-load.js';
import type { Snapshot } from './readback.js';

const statusTimeoutMs = 1_000;
const pollPauseMs = 50;
const readTimeoutMs = 10_000;
const pageKeysMax = 1000n;
const pagesMax = 1000;
const outputTailChars = 4_000;

type Callback<T> = (error: ServiceError | null, response: T) => void;

function unary<T>(call: (metadata: Metadata, options: { deadline: number }, done: Callback<T>) => unknown, timeoutMs: number): Promise<T> {
  return new Promise((resolve, reject) => {
    call(new Metadata(), { deadline: Date.now() + timeoutMs }, (error, response) => (error === null ? resolve(response) : reject(error)));
  });
}

/** One call on a fresh channel to `endpoint`, closed afterwards (a restarted member is not stuck behind a channel's reconnect backoff). */
export async function withKv<T>(endpoint: string, use: (client: KVClient) => Promise<T>): Promise<T> {
  const client = new KVClient(endpoint, credentials.createInsecure(), { 'grpc.use_local_subchannel_pool': 1 });
  try {
    return await use(client);
  } finally {
    client.close();
  }
}

export async function status(endpoint: string, timeoutMs = statusTimeoutMs): Promise<StatusResponse> {
  const client = new MaintenanceClient(endpoint, credentials.createInsecure(), { 'grpc.use_local_subchannel_pool': 1 });
  try {
    return await unary<StatusResponse>((metadata, options, done) => client.status(StatusRequest.fromPartial({}), metadata, options, done), timeoutMs);
  } finally {
    client.close();
  }
}

/** Status, or undefined when the member does not answer in time. */
export async function statusOrUndefined(endpoint: string): Promise<StatusResponse | undefined> {
  return status(endpoint).catch(() => undefined);
}

export async function hashKv(endpoint: string, revision: bigint): Promise<HashKVResponse> {
  const client = new MaintenanceClient(endpoint, credentials.createInsecure(), { 'grpc.use_local_subchannel_pool': 1 });
  try {
    return await unary<HashKVResponse>((metadata, options, done) => client.hashKv(HashKVRequest.fromPartial({ revision }), metadata, options, done), readTimeoutMs);
  } finally {
    client.close();
  }
}

export function putOnce(client: KVClient, key: string, value: string, timeoutMs: number): Promise<PutResponse> {
  const request = PutRequest.fromPartial({ key: Buffer.from(key), value: Buffer.from(value) });
  return unary<PutResponse>((metadata, options, done) => client.put(request, metadata, options, done), timeoutMs);
}

export function getOnce(client: KVClient, key: string, timeoutMs: number, serializable = false): Promise<RangeResponse> {
  const request = RangeRequest.fromPartial({ key: Buffer.from(key), serializable });
  return unary<RangeResponse>((metadata, options, done) => client.range(request, metadata, options, done), timeoutMs);
}

/** Puts key=value through `endpoint`, retrying failures (same key, same value: a repeat is harmless) until deadlineMs. */
export async function putEventually(endpoint: string, key: string, value: string, deadlineMs: number): Promise<PutResponse> {
  const deadline = Date.now() + deadlineMs;
  let last = '';
  for (;;) {
    try {
      return await withKv(endpoint, (client) => putOnce(client, key, value, Math.max(1_000, Math.min(5_000, deadline - Date.now()))));
    } catch (error) {
      last = (error as Error).message;
    }
    if (Date.now() > deadline) throw new Error(`put ${key}=${value} via ${endpoint}: no success within ${deadlineMs} ms; last error: ${last}`);
    await sleep(pollPauseMs);
  }
}

export const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * Polls `probe` until it returns a value other than undefined, or throws after
 * timeoutMs with `what` and the last description `probe` gave through `note`.
 */
export async function waitFor<T>(what: string, timeoutMs: number, probe: (note: (text: string) => void) => Promise<T | undefined>): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last = '(no answer yet)';
  const note = (text: string) => {
    last = text;
  };
  for (;;) {
    const result = await probe(note);
    if (result !== undefined) return result;
    if (Date.now() > deadline) throw new Error(`${what}: not within ${timeoutMs} ms; last seen: ${last}`);
    await sleep(pollPauseMs);
  }
}

/** Waits until the load has `count` acknowledgements that arrived after `sinceMs`. */
export async function waitAcks(load: FailoverLoad, count: number, sinceMs: number, timeoutMs: number, what: string): Promise<void> {
  await waitFor(what, timeoutMs, async (note) => {
    const acked = load.acksSince(sinceMs);
    note(`${acked} acknowledged since; ${load.describe()}`);
    return acked >= count ? true : undefined;
  });
}

/**
 * Every key under `prefix` on one member, paged at the revision of the first
 * page: one consistent snapshot. Serializable reads answer from the member's
 * own state (no leader involved), linearizable ones through ReadIndex.
 */
export async function readPrefixOn(endpoint: string, prefix: string, serializable: boolean): Promise<Snapshot> {
  return withKv(endpoint, async (client) => {
    const rangeEnd = prefixEnd(Buffer.from(prefix));
    const kvs: KeyValue[] = [];
    let key = Buffer.from(prefix);
    let revision = 0n;
    for (let page = 0; page < pagesMax; page++) {
      const request = RangeRequest.fromPartial({ key, rangeEnd, limit: pageKeysMax, revision, serializable });
      const response = await unary<RangeResponse>((metadata, options, done) => client.range(request, metadata, options, done), readTimeoutMs);
      if (response.header === undefined) throw new Error('range response has no header');
      if (revision === 0n) revision = response.header.revision;
      kvs.push(...response.kvs);
      const last = response.kvs.at(-1);
      if (!response.more || last === undefined) return { revision, kvs };
      key = Buffer.concat([last.key, Buffer.from([0])]);
    }
    throw new Error(`more than ${pagesMax} pages under ${prefix}`);
  });
}

export interface Converged {
  leader: ClusterMember;
  /** The Status of every member, in cluster order. */
  statuses: StatusResponse[];
  appliedIndex: bigint;
  revision: bigint;
}

/**
 * Waits until every member runs, all agree on one leader, and every member has
 * applied exactly up to the highest commit index any of them reports (with no
 * writes in flight, that is the end of the log), at the same store revision.
 */
export async function waitConverged(cluster: Cluster, timeoutMs: number): Promise<Converged> {
  const leader = await cluster.leader(timeoutMs);
  return waitFor('convergence (one leader, equal applied index and revision on every member)', timeoutMs, async (note) => {
    const statuses = await Promise.all(cluster.members.map((member) => statusOrUndefined(member.endpoint)));
    note(cluster.members.map((member, index) => describeStatus(member, statuses[index])).join('; '));
    if (statuses.some((answer) => answer === undefined)) return undefined;
    const answers = statuses as StatusResponse[];
    const leaderIndex = cluster.members.indexOf(leader);
    const leaderAnswer = must(answers[leaderIndex], `the status of the leader ${leader.name}`);
    const leaderId = leaderAnswer.header?.memberId;
    const commitMax = answers.reduce((max, answer) => (answer.raftIndex > max ? answer.raftIndex : max), 0n);
    const revision = leaderAnswer.header?.revision;
    const agreed = answers.every((answer) => answer.leader === leaderId
      && answer.raftAppliedIndex === commitMax
      && answer.header?.revision === revision);
    if (!agreed || revision === undefined) return undefined;
    return { leader, statuses: answers, appliedIndex: commitMax, revision };
  });
}

export function describeStatus(member: ClusterMember, answer: StatusResponse | undefined): string {
  if (answer === undefined) return `${member.name}: no answer`;
  const id = answer.header?.memberId.toString(16);
  return `${member.name} (${id}) leader ${answer.leader.toString(16)} term ${answer.raftTerm} commit ${answer.raftIndex} applied ${answer.raftAppliedIndex} revision ${answer.header?.revision}`;
}

/** HashKV at one revision on every member; returns violations (empty when all hashes are equal). */
export async function compareHashes(cluster: Cluster, revision: bigint): Promise<string[]> {
  const hashes = await Promise.all(cluster.members.map(async (member) => ({ member, answer: await hashKv(member.endpoint, revision) })));
  const described = hashes.map(({ member, answer }) => `${member.name} hash ${answer.hash} compact ${answer.compactRevision}`);
  const first = hashes[0]?.answer;
  const equal = hashes.every(({ answer }) => answer.hash === first?.hash && answer.compactRevision === first?.compactRevision);
  return equal ? [] : [`HashKV at revision ${revision} differs: ${described.join(', ')}`];
}

/** The load's acknowledgements as durability-check.ts keeps them; violations when two puts were acknowledged at one revision. */
export function acknowledgedOf(load: FailoverLoad): { acknowledged: Acknowledged; violations: string[] } {
  const acknowledged: Acknowledged = new Map();
  const violations = recordAcks(acknowledged, load.ackPairs(), 0n);
  return { acknowledged, violations };
}

/** Reads `prefix` from each of `members` and returns every violation: an acknowledged put missing or changed, a corrupt key. */
export async function checkAcknowledgedOn(members: ClusterMember[], prefix: string, acknowledged: Acknowledged, serializable: boolean): Promise<string[]> {
  const violations: string[] = [];
  for (const member of members) {
    const snapshot = await readPrefixOn(member.endpoint, prefix, serializable);
    const found = checkSnapshot(acknowledged, snapshot);
    if (found.length > 0) violations.push(`${member.name} (${serializable ? 'serializable' : 'linearizable'} read at revision ${snapshot.revision}, ${snapshot.kvs.length} keys): ${summarize(found)}`);
  }
  return violations;
}

/** The tail of every member's output, for a failure message. */
export function outputTails(cluster: Cluster): string {
  return cluster.members.map((member) => `--- ${member.name} (${cluster.kind}) output, tail ---\n${member.output().slice(-outputTailChars)}`).join('\n');
}
