// --initial-cluster "name=url,name=url2,other=url3": the founding members,
// one or more peer URLs each, in the order given. Each member's ID is
// etcd's, from its peer URLs and --initial-cluster-token (ids.ts).
import { checkFoundingIds, memberIdFor, MemberIdError } from './ids.js';

export interface InitialMember {
  name: string;
  peerUrls: string[];
  id: bigint;
}

export class InitialClusterError extends Error {
  override readonly name = 'InitialClusterError';
}

export function parseInitialCluster(value: string, token: string): InitialMember[] {
  const byName = new Map<string, string[]>();
  for (const part of value.split(',').map((item) => item.trim()).filter((item) => item !== '')) {
    const equals = part.indexOf('=');
    if (equals <= 0 || equals === part.length - 1) throw new InitialClusterError(`--initial-cluster: "${part}" is not name=URL`);
    const name = part.slice(0, equals);
    const url = part.slice(equals + 1);
    let parsed: URL;
    try {
      parsed = new URL(url);
    } catch {
      throw new InitialClusterError(`--initial-cluster: "${url}" is not a URL`);
    }
    if (!['http:', 'https:'].includes(parsed.protocol) || parsed.port === '') throw new InitialClusterError(`--initial-cluster: "${url}" must be http:// or https:// with a port`);
    const urls = byName.get(name) ?? [];
    urls.push(url);
    byName.set(name, urls);
  }
  if (byName.size === 0) throw new InitialClusterError('--initial-cluster must name at least one member');
  const members = [...byName].map(([name, peerUrls]) => ({ name, peerUrls, id: memberIdFor(peerUrls, token) }));
  const seen = new Map<string, string>();
  for (const member of members) {
    for (const url of member.peerUrls) {
      const other = seen.get(url);
      if (other !== undefined) throw new InitialClusterError(`--initial-cluster: members ${other} and ${member.name} share the peer URL ${url}`);
      seen.set(url, member.name);
    }
  }
  try {
    checkFoundingIds(members.map((member) => member.id));
  } catch (error) {
    if (!(error instanceof MemberIdError)) throw error;
    throw new InitialClusterError(`--initial-cluster: ${error.message}`, { cause: error });
  }
  return members;
}
