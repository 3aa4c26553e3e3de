// A live cairn cluster (one member or three) as the fuzzer sees it: a
// channel per member, the facts the arbitraries need (member IDs, peer
// URLs), the guard that keeps legitimate damage out of what is sent, and the
// members' logs read as they grow.
import { RangeRequest, type AlarmRequest, type MemberAddRequest, type MemberListResponse, type MemberRemoveRequest, type MemberUpdateRequest, type RangeResponse, type StatusResponse } from '../../proto/gen/etcdserverpb/rpc.js';
import { startCluster, type Cluster, type ClusterMember } from '../harness/cluster.js';
import { unaryMethods, type FuzzCall } from './calls.js';
import { MemberChannel } from './send.js';
import { couldBeValidPeerUrl, type TargetFacts } from './service-requests.js';
import { forbiddenLines } from './verdict.js';

/** Defragment stalls a member while it copies the backend: at most this many per target per run. */
export const defragmentsPerRunMax = 2;
/** Lines of output shown after a forbidden line (the stack of an unexpected error). */
const logContextLines = 8;

export class FuzzTarget {
  /** Set when a member could not be brought back: the cases after it prove nothing. */
  broken: string | undefined;
  /** What happened to members between cases (deaths, restarts), for the report. */
  readonly events: string[] = [];
  private defragmentsLeft = defragmentsPerRunMax;
  private readonly logOffsets: number[];

  private constructor(
    readonly name: string,
    readonly cluster: Cluster,
    readonly facts: TargetFacts,
    readonly channels: MemberChannel[],
  ) {
    this.logOffsets = cluster.members.map(() => 0);
  }

  /** Starts a cairn cluster of `size` members (with extra flags `args`) and learns its identity from each member's Status. */
  static async start(name: string, size: number, args: string[] = []): Promise<FuzzTarget> {
    const cluster = await startCluster('cairn', { size, args });
    try {
      const channels: MemberChannel[] = [];
      const facts: TargetFacts = { memberIds: [], peerUrls: [] };
      for (const member of cluster.members) {
        const probe = new MemberChannel(member.endpoint, { clusterId: 0n, memberId: 0n });
        const answer = await probe.unary({ kind: 'unary', method: 'Maintenance.Status', request: {} });
        probe.close();
        if (!answer.ok) throw new Error(`${member.name}: Status failed: ${answer.details}`);
        const header = (answer.response as StatusResponse).header;
        if (header === undefined) throw new Error(`${member.name}: Status has no header`);
        channels.push(new MemberChannel(member.endpoint, { clusterId: header.clusterId, memberId: header.memberId }));
        facts.memberIds.push(header.memberId);
      }
      const first = channels[0];
      if (first === undefined) throw new Error(`${name}: the cluster has no members`);
      const listed = await first.unary({ kind: 'unary', method: 'Cluster.MemberList', request: {} });
      if (!listed.ok) throw new Error(`MemberList failed: ${listed.details}`);
      const members = (listed.response as MemberListResponse).members;
      for (const id of facts.memberIds) facts.peerUrls.push(members.find((member) => member.ID === id)?.peerURLs ?? []);
      return new FuzzTarget(name, cluster, facts, channels);
    } catch (error) {
      await cluster.destroy();
      throw error;
    }
  }

  get members(): ClusterMember[] {
    return this.cluster.members;
  }

  /** The channel to member `index`: one per member, in the cluster's order. */
  channel(index: number): MemberChannel {
    const channel = this.channels[index];
    if (channel === undefined) throw new Error(`${this.name}: no channel to member ${index} (${this.channels.length} members)`);
    return channel;
  }

  /** The name of member `index`, for findings. */
  memberName(index: number): string {
    const member = this.members[index];
    if (member === undefined) throw new Error(`${this.name}: no member ${index} (${this.members.length} members)`);
    return member.name;
  }

  /**
   * Restarts member `index` on its data directory and gives it a new
   * channel: the old one may sit in gRPC's reconnect backoff after failing
   * to connect while the member was down, and would fail calls fast.
   */
  async restartMember(index: number): Promise<void> {
    const member = this.members[index];
    if (member === undefined) throw new Error(`${this.name}: no member ${index} (${this.members.length} members)`);
    await member.restart();
    const old = this.channel(index);
    old.close();
    this.channels[index] = new MemberChannel(old.endpoint, old.identity);
  }

  async destroy(): Promise<void> {
    for (const channel of this.channels) channel.close();
    await this.cluster.destroy();
  }

  /** Names of the members whose process is gone. */
  deadMembers(): string[] {
    return this.members.filter((member) => !member.running()).map((member) => member.name);
  }

  /**
   * Restarts members found dead (so that shrinking can go on after a crash);
   * marks the target broken when one does not come back.
   */
  async revive(): Promise<void> {
    for (const [index, member] of this.members.entries()) {
      if (member.running()) continue;
      this.events.push(`${member.name} was dead before a case; restarting it on its data directory`);
      try {
        await this.restartMember(index);
      } catch (error) {
        this.broken = `${member.name} does not start again on its data directory: ${(error as Error).message.slice(0, 2_000)}`;
        this.events.push(this.broken);
        return;
      }
    }
  }

  /** Forbidden lines the members logged since the last call (with the lines after each), by member. */
  newForbiddenLines(): string[] {
    const found: string[] = [];
    this.members.forEach((member, index) => {
      const output = member.output();
      const fresh = output.slice(this.logOffsets[index]);
      this.logOffsets[index] = output.length;
      const lines = fresh.split('\n');
      for (const line of forbiddenLines(fresh)) {
        const at = lines.indexOf(line);
        found.push(`${member.name} logged: ${lines.slice(at, at + logContextLines).join('\n')}`);
      }
    });
    return found;
  }

  /** The revision a member is at (a serializable read: no round through the leader). */
  async currentRevision(memberIndex: number): Promise<bigint> {
    const answer = await this.channel(memberIndex).unary({ kind: 'unary', method: 'KV.Range', request: RangeRequest.fromPartial({ key: Buffer.from('fuzz/'), serializable: true, countOnly: true }) });
    if (!answer.ok) return 0n;
    return (answer.response as RangeResponse).header?.revision ?? 0n;
  }

  /**
   * The call as it is sent: near-current revisions filled in, a Defragment
   * over the budget turned into a Status. Undefined when the guard refuses
   * it (see refusal).
   */
  async prepare(call: FuzzCall, memberIndex: number): Promise<FuzzCall | undefined> {
    if (refusal(call, this.facts) !== undefined) return undefined;
    if ((call.kind === 'unary' || call.kind === 'garbage') && call.method === 'Maintenance.Defragment' && decodes(call)) {
      if (this.defragmentsLeft === 0) return { kind: 'unary', method: 'Maintenance.Status', request: {} };
      this.defragmentsLeft--;
    }
    if (call.kind === 'unary' && call.nearCurrent !== undefined) {
      const revision = (await this.currentRevision(memberIndex)) - BigInt(call.nearCurrent.back);
      return { ...call, request: { ...call.request, [call.nearCurrent.field]: revision } };
    }
    if (call.kind === 'watch' && call.actions.some((action) => 'startBack' in action)) {
      const current = await this.currentRevision(memberIndex);
      const actions = call.actions.map((action) => ('startBack' in action && action.startBack !== undefined ? { create: { ...action.create, startRevision: current - BigInt(action.startBack) } } : action));
      return { ...call, actions };
    }
    return call;
  }
}

/** Whether a garbage body decodes as its method's request (and so would be acted on). */
function decodes(call: FuzzCall): boolean {
  return decoded(call) !== undefined;
}

function decoded(call: FuzzCall): object | undefined {
  if (call.kind === 'unary') return call.request;
  if (call.kind !== 'garbage') return undefined;
  try {
    return unaryMethods[call.method].requestDeserialize(call.body) as object;
  } catch {
    return undefined;
  }
}

/**
 * Why a call must not be sent, or undefined: what the arbitraries never
 * generate (service-requests.ts), checked again on what is actually sent,
 * garbage included, since random bytes may decode into anything.
 */
export function refusal(call: FuzzCall, facts: TargetFacts): string | undefined {
  if (call.kind !== 'unary' && call.kind !== 'garbage') return undefined;
  const request = decoded(call);
  if (request === undefined) return undefined;
  const existing = facts.peerUrls.flat();
  const newValidUrl = (urls: string[]) => urls.some((url) => couldBeValidPeerUrl(url) && !existing.includes(url.trim()));
  const real = (id: bigint) => facts.memberIds.includes(id);
  switch (call.method) {
    case 'Maintenance.Alarm': {
      const { action, alarm } = request as AlarmRequest;
      return action === 1 && (alarm === 1 || alarm === 2) ? 'Alarm ACTIVATE of NOSPACE or CORRUPT stops writes' : undefined;
    }
    case 'Cluster.MemberAdd':
      return newValidUrl((request as MemberAddRequest).peerURLs) ? 'MemberAdd of a valid new URL adds a member' : undefined;
    case 'Cluster.MemberUpdate': {
      const { ID, peerURLs } = request as MemberUpdateRequest;
      if (!real(ID)) return undefined;
      if (newValidUrl(peerURLs)) return 'MemberUpdate of a real member to a valid new URL moves it';
      const own = facts.peerUrls[facts.memberIds.indexOf(ID)] ?? [];
      const onlyOwn = peerURLs.length > 0 && peerURLs.every((url) => own.includes(url.trim()));
      const exactlyOwn = peerURLs.length === own.length && peerURLs.every((url, i) => url === own[i]);
      return onlyOwn && !exactlyOwn ? 'MemberUpdate of a real member to its own URLs in another list changes its URL list' : undefined;
    }
    case 'Cluster.MemberRemove':
      return real((request as MemberRemoveRequest).ID) ? 'MemberRemove of a real member shrinks the cluster' : undefined;
    default:
      return undefined;
  }
}
