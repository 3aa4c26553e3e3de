// A cluster started from deployment files on 127.0.0.1: the members'
// launches moved onto loopback (loopback.ts), the image's files staged
// (staged-image.ts), every process started through the harness's launcher
// (killed by PID, its directories removed, even when a start fails), and
// what a test asks of it spoken over the JSON gateway, as an operator's
// curl would, which also shows that the image's files serve it.
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { retryingPortRace, spawnServer, waitServing, type ServerProcess } from '../harness/launcher.js';
import { deployPaths, readText } from './deploy-files.js';
import { parseDockerfile } from './dockerfile.js';
import { runtimeImage, type MemberLaunch } from './launches.js';
import { onLoopback, type LoopbackMember } from './loopback.js';
import { stageImage } from './staged-image.js';

export interface RunningMember extends LoopbackMember {
  server: ServerProcess;
}

export interface LoopbackCluster {
  members: RunningMember[];
  /** Kills every process by PID and removes the cluster's directory. Safe to call twice. */
  destroy(): Promise<void>;
}

/** The data directory the files name: the image's VOLUME. */
export function imageDataDir(): string {
  const volumes = runtimeImage().volumes;
  if (volumes.length !== 1) throw new Error(`the image declares ${volumes.length} volumes, expected one`);
  return volumes[0] as string;
}

/** Starts every member of `launches` at once (none serves before a quorum) and waits until each answers a linearizable read. */
export async function startLoopbackCluster(launches: readonly MemberLaunch[]): Promise<LoopbackCluster> {
  const root = mkdtempSync(join(tmpdir(), 'cairn-deploy-'));
  const started: ServerProcess[] = [];
  const destroy = async (): Promise<void> => {
    await Promise.all(started.map((server) => server.destroy()));
    rmSync(root, { recursive: true, force: true });
  };
  try {
    const image = join(root, 'image');
    stageImage(parseDockerfile(readText(deployPaths.dockerfile)), image);
    const installDir = runtimeImage().workdir;
    let attempt = 0;
    const members = await retryingPortRace(async () => {
      attempt += 1;
      const planned = await onLoopback(launches, {
        installDir: { from: installDir, to: join(image, installDir) },
        dataDir: { from: imageDataDir(), to: (member) => join(root, `attempt-${attempt}`, member) },
      });
      const servers = planned.map((member) => {
        mkdirSync(member.dataDir, { recursive: true });
        const server = spawnServer({ kind: 'cairn', command: member.command, args: member.args, env: member.env, clientUrl: member.clientUrl, dataDir: member.dataDir, ownsDir: false });
        started.push(server);
        return server;
      });
      try {
        await Promise.all(servers.map((server) => waitServing(server, 'linearizable')));
      } catch (error) {
        // One member failed (a port race, say): stop the others' waits at once.
        await Promise.all(servers.map((server) => server.kill9()));
        throw error;
      }
      return planned.map((member, index) => ({ ...member, server: servers[index] as ServerProcess }));
    });
    return { members, destroy };
  } catch (error) {
    await destroy();
    throw error;
  }
}

const requestTimeoutMs = 5_000;

/** A member as a client reaches it: by name (for messages) and client URL. */
export type Reachable = Pick<LoopbackMember, 'member' | 'clientUrl'>;

/** A JSON gateway call (POST /v3/…); throws on a status other than 200. */
export async function gateway(member: Reachable, path: string, body: object): Promise<Record<string, unknown>> {
  const response = await fetch(`${member.clientUrl}${path}`, { method: 'POST', body: JSON.stringify(body), signal: AbortSignal.timeout(requestTimeoutMs) });
  const text = await response.text();
  if (response.status !== 200) throw new Error(`${member.member} ${path}: ${response.status} ${text}`);
  return JSON.parse(text) as Record<string, unknown>;
}

/** GET `path` on the member's client URL: its status and body. */
export async function httpGet(member: Reachable, path: string): Promise<{ status: number; body: string }> {
  const response = await fetch(`${member.clientUrl}${path}`, { signal: AbortSignal.timeout(requestTimeoutMs) });
  return { status: response.status, body: await response.text() };
}

const base64 = (text: string): string => Buffer.from(text).toString('base64');

export async function put(member: Reachable, key: string, value: string): Promise<void> {
  await gateway(member, '/v3/kv/put', { key: base64(key), value: base64(value) });
}

/** The value of `key` by a linearizable read on `member`, or undefined. */
export async function get(member: Reachable, key: string): Promise<string | undefined> {
  const answer = await gateway(member, '/v3/kv/range', { key: base64(key) });
  const kvs = answer.kvs as Array<{ value?: string }> | undefined;
  const value = kvs?.[0]?.value;
  return value === undefined ? undefined : Buffer.from(value, 'base64').toString();
}

const leaderDeadlineMs = 10_000;
const leaderPollMs = 100;

/**
 * The member every member names as leader (Maintenance.Status over the
 * gateway), once they all agree on one of them; throws after 10 s.
 */
export async function agreedLeader<Member extends Reachable>(members: readonly Member[]): Promise<Member> {
  const deadline = Date.now() + leaderDeadlineMs;
  for (;;) {
    const answers = await Promise.all(members.map((member) => gateway(member, '/v3/maintenance/status', {}).catch((error: Error) => error)));
    const statuses = answers.flatMap((answer) => (answer instanceof Error ? [] : [answer as { leader?: string; header?: { member_id?: string } }]));
    const leaders = new Set(statuses.map((status) => status.leader ?? '0'));
    const [leaderId] = leaders;
    if (statuses.length === members.length && leaders.size === 1 && leaderId !== '0') {
      const index = statuses.findIndex((status) => status.header?.member_id === leaderId);
      if (index >= 0) return members[index] as Member;
    }
    if (Date.now() > deadline) throw new Error(`no leader every member agrees on within ${leaderDeadlineMs} ms: ${answers.map((answer) => (answer instanceof Error ? answer.message : JSON.stringify(answer))).join('; ')}`);
    await new Promise((resolve) => setTimeout(resolve, leaderPollMs));
  }
}
