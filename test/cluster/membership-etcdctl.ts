// etcdctl's membership commands, run and parsed for membership.test.ts:
// member list/add/promote/remove, endpoint status/hashkv, and the JSON and
// table output they print. Everything here is etcdctl's format, the same for
// cairn and etcd; the test compares what the servers put into it.
import { assert } from 'chai';
import { etcdctl, type EtcdctlResult } from '../harness/etcdctl.js';
import { must } from '../harness/must.js';

/** Pause between two attempts of a polled condition. */
const pollPauseMs = 100;
/**
 * etcd's strict reconfiguration check refuses MemberAdd ("unhealthy cluster")
 * until the leader has been connected to every voter for 5 s (HealthInterval);
 * a member that joined a moment ago does not count yet.
 */
const memberAddDeadlineMs = 10_000;
const unhealthyCluster = 'etcdserver: unhealthy cluster';

/** etcdctl's answer; fails the test when it exits non-zero. */
export async function ok(endpoints: readonly string[], args: string[]): Promise<string> {
  const result = await etcdctl(endpoints.join(','), args);
  assert.strictEqual(result.code, 0, `etcdctl --endpoints=${endpoints.join(',')} ${args.join(' ')}: ${result.stderr}`);
  return result.stdout;
}

/** The error etcdctl reports on its last "Error: " line; fails the test when etcdctl succeeds. */
export async function refusal(endpoints: readonly string[], args: string[]): Promise<string> {
  const result = await etcdctl(endpoints.join(','), args);
  assert.notStrictEqual(result.code, 0, `etcdctl ${args.join(' ')} was expected to fail but printed: ${result.stdout}`);
  return errorOf(result);
}

/** The message of etcdctl's "Error: <message>" line (the lines before it are the client's JSON log). */
export function errorOf(result: EtcdctlResult): string {
  const line = result.stderr.trim().split('\n').reverse().find((candidate) => candidate.startsWith('Error: '));
  return line === undefined ? `(no Error line; exit ${result.code}) ${result.stderr}` : line.slice('Error: '.length);
}

/**
 * Parses etcdctl's -w json output with every bare integer as a decimal
 * string: member and cluster IDs are uint64 values above 2^53, which a
 * JavaScript number would round. Compare them with BigInt.
 */
export function parseJson<T>(text: string): T {
  return JSON.parse(text.replace(/([:[,])(-?\d+)(?=[,\]}])/g, '$1"$2"')) as T;
}

/** A decimal ID as etcdctl prints it in tables and messages: lower-case hexadecimal. */
export function hexId(decimal: string): string {
  return BigInt(decimal).toString(16);
}

/** host:port of a client URL, with or without its scheme. */
export function hostPort(url: string): string {
  return url.startsWith('http://') ? url.slice('http://'.length) : url;
}

export interface ResponseHeaderJson {
  cluster_id: string;
  member_id: string;
  revision?: string;
  raft_term: string;
}

export interface MemberJson {
  ID: string;
  name?: string;
  peerURLs?: string[];
  clientURLs?: string[];
  isLearner?: boolean;
}

export interface MemberListJson {
  header: ResponseHeaderJson;
  members: MemberJson[];
}

export interface StatusJson {
  header: ResponseHeaderJson;
  version: string;
  leader: string;
  raftIndex: string;
  raftTerm: string;
  raftAppliedIndex: string;
  isLearner?: boolean;
  [field: string]: unknown;
}

export interface EndpointStatusJson {
  Endpoint: string;
  Status: StatusJson;
}

export interface EndpointHashKvJson {
  Endpoint: string;
  HashKV: { header: ResponseHeaderJson; hash: string; compact_revision: string };
}

export async function memberList(endpoint: string): Promise<MemberListJson> {
  return parseJson<MemberListJson>(await ok([endpoint], ['member', 'list', '-w', 'json']));
}

/** `endpoint status --cluster -w json` through `endpoint`: one entry per member with client URLs. */
export async function clusterStatus(endpoint: string): Promise<EndpointStatusJson[]> {
  return parseJson<EndpointStatusJson[]>(await ok([endpoint], ['endpoint', 'status', '--cluster', '-w', 'json']));
}

export async function ownStatus(endpoint: string): Promise<StatusJson> {
  const [status] = parseJson<EndpointStatusJson[]>(await ok([endpoint], ['endpoint', 'status', '-w', 'json']));
  return must(status, `the endpoint status of ${endpoint}`).Status;
}

/** The rows of an etcdctl table (-w table), each cell trimmed; the first row holds the column titles. */
export function parseTable(text: string): string[][] {
  return text
    .split('\n')
    .filter((line) => line.startsWith('|'))
    .map((line) => line.split('|').slice(1, -1).map((cell) => cell.trim()));
}

export interface AddedMember {
  /** Hexadecimal, as etcdctl prints it. */
  id: string;
  clusterId: string;
  /** ETCD_INITIAL_CLUSTER, for the new member's --initial-cluster. */
  initialCluster: string;
  /** Every ETCD_* line etcdctl printed, by name. */
  environment: Map<string, string>;
}

/**
 * Runs etcdctl until it succeeds or fails with something other than
 * `refusedWith`, or until deadlineMs has passed; resolves with its last answer.
 * For refusals that last a while by design (a learner catching up, etcd's
 * strict reconfiguration check).
 */
export async function retryWhileRefused(refusedWith: string, deadlineMs: number, endpoints: readonly string[], args: string[]): Promise<EtcdctlResult> {
  const deadline = Date.now() + deadlineMs;
  for (;;) {
    const result = await etcdctl(endpoints.join(','), args);
    if (result.code === 0 || errorOf(result) !== refusedWith || Date.now() > deadline) return result;
    await pause();
  }
}

/** `member add` with `args` after it, retried while etcd refuses with "unhealthy cluster" (see memberAddDeadlineMs). */
export async function tryMemberAdd(endpoints: readonly string[], args: string[]): Promise<EtcdctlResult> {
  return retryWhileRefused(unhealthyCluster, memberAddDeadlineMs, endpoints, ['member', 'add', ...args]);
}

/** `member add name --peer-urls=peerUrl [--learner]`; parses what etcdctl prints for starting the new member. */
export async function memberAdd(endpoints: readonly string[], name: string, peerUrl: string, learner: boolean): Promise<AddedMember> {
  const args = [name, `--peer-urls=${peerUrl}`, ...(learner ? ['--learner'] : [])];
  const result = await tryMemberAdd(endpoints, args);
  assert.strictEqual(result.code, 0, `etcdctl member add ${args.join(' ')}: ${errorOf(result)}`);
  return parseMemberAdd(result.stdout);
}

function parseMemberAdd(stdout: string): AddedMember {
  // etcdctl pads IDs to 16 columns with spaces (%16x).
  const added = /^Member\s+([0-9a-f]+) added to cluster\s+([0-9a-f]+)$/m.exec(stdout);
  assert.isNotNull(added, `member add printed: ${stdout}`);
  const environment = new Map<string, string>();
  for (const [line, variable, value] of stdout.matchAll(/^(ETCD_[A-Z_]+)="([^"]*)"$/gm)) {
    environment.set(must(variable, `the variable of ${line}`), must(value, `the value of ${line}`));
  }
  const initialCluster = environment.get('ETCD_INITIAL_CLUSTER');
  assert.isDefined(initialCluster, `member add printed: ${stdout}`);
  return { id: must(added?.[1], 'the added member ID'), clusterId: must(added?.[2], 'the cluster ID'), initialCluster, environment };
}

/**
 * Runs `check` until it passes (returns without throwing) or deadlineMs has
 * passed; then throws check's last error. For state that converges: a
 * follower applies a little after the leader answered.
 */
export async function eventually<T>(deadlineMs: number, check: () => Promise<T>): Promise<T> {
  const deadline = Date.now() + deadlineMs;
  for (;;) {
    try {
      return await check();
    } catch (error) {
      if (Date.now() > deadline) throw error;
    }
    await pause();
  }
}

function pause(): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, pollPauseMs));
}
