// Moves a cluster's command lines from its hosts onto this one, changing as
// little as can be and always the same way (docs/deployment.md lists it):
//
// 1. Addresses. In a member's own command line, environment and health
//    check, an address that means "this member" (0.0.0.0, 127.0.0.1,
//    localhost) is read as the member's own host name: the host of its
//    advertised peer URL. Then every distinct host:port named by any member
//    gets a free port on 127.0.0.1.
//    http://cairn2:2380 → http://127.0.0.1:41234 in every member's flags.
// 2. Paths. The image's install directory (its WORKDIR, /opt/cairn) is the
//    staged copy of the image's files; the data directory (/var/lib/cairn)
//    is a new temporary directory per member.
// 3. The program `node` (or /usr/bin/node) is the node running the tests.
//
// Nothing else changes: names, tokens, cluster state and every other flag or
// variable reach the server as the deployment file wrote them.
import { freePort } from '../harness/launcher.js';
import { flagValue, type MemberLaunch } from './launches.js';

/** The addresses that mean "this member" inside its own container or host. */
const selfHosts = new Set(['0.0.0.0', '127.0.0.1', 'localhost']);
const programs = new Set(['node', '/usr/bin/node']);
const urlPattern = /\b(https?):\/\/([A-Za-z0-9.-]+):(\d+)/g;

export interface Relocation {
  /** The image's install directory, as the files name it, and the staged copy. */
  installDir: { from: string; to: string };
  /** The data directory, as the files name it, and each member's temporary one. */
  dataDir: { from: string; to: (member: string) => string };
}

/** A member's launch after the substitution, and the substitution itself for its other commands (the health check). */
export interface LoopbackMember {
  member: string;
  command: string;
  args: string[];
  env: Record<string, string>;
  clientUrl: string;
  dataDir: string;
  /** Applies this member's substitution to another of its command lines. */
  relocate(argv: readonly string[]): string[];
}

/** The host a member is reached at by its peers: its advertised peer URL's. */
export function ownHost(launch: MemberLaunch): string {
  const advertised = flagValue(launch, 'initial-advertise-peer-urls');
  if (advertised === undefined) throw new Error(`${launch.member}: no --initial-advertise-peer-urls`);
  return new URL(advertised.split(',')[0] as string).hostname;
}

function withOwnHost(text: string, host: string): string {
  return text.replace(urlPattern, (whole, scheme: string, name: string, port: string) => (selfHosts.has(name) ? `${scheme}://${host}:${port}` : whole));
}

/** Every host:port named in `texts`. */
function addresses(texts: readonly string[]): Set<string> {
  const found = new Set<string>();
  for (const text of texts) for (const match of text.matchAll(urlPattern)) found.add(`${match[2]}:${match[3]}`);
  return found;
}

export async function onLoopback(launches: readonly MemberLaunch[], relocation: Relocation): Promise<LoopbackMember[]> {
  const hosts = new Map(launches.map((launch) => [launch.member, ownHost(launch)]));
  const texts = launches.flatMap((launch) => {
    const host = hosts.get(launch.member) as string;
    return [...launch.argv, ...Object.values(launch.env)].map((text) => withOwnHost(text, host));
  });
  const ports = new Map<string, number>();
  const taken = new Set<number>();
  for (const address of addresses(texts)) {
    let port = await freePort();
    while (taken.has(port)) port = await freePort();
    taken.add(port);
    ports.set(address, port);
  }
  return launches.map((launch) => {
    const host = hosts.get(launch.member) as string;
    const dataDir = relocation.dataDir.to(launch.member);
    const substitute = (text: string): string => {
      const onLoopbackText = withOwnHost(text, host).replace(urlPattern, (whole, scheme: string, name: string, port: string) => {
        const local = ports.get(`${name}:${port}`);
        if (local === undefined) throw new Error(`${launch.member}: ${whole} names an address no member's flags name`);
        return `${scheme}://127.0.0.1:${local}`;
      });
      return replacePath(replacePath(onLoopbackText, relocation.installDir.from, relocation.installDir.to), relocation.dataDir.from, dataDir);
    };
    const relocate = (argv: readonly string[]): string[] => argv.map((arg, index) => (index === 0 && programs.has(arg) ? process.execPath : substitute(arg)));
    const [command, ...args] = relocate(launch.argv);
    const env = Object.fromEntries(Object.entries(launch.env).map(([key, value]) => [key, substitute(value)]));
    const member = { ...launch, argv: [command as string, ...args], env };
    const clientUrl = flagValue(member, 'advertise-client-urls')?.split(',')[0];
    if (clientUrl === undefined) throw new Error(`${launch.member}: no --advertise-client-urls`);
    return { member: launch.member, command: command as string, args, env, clientUrl, dataDir, relocate };
  });
}

/** `text` with the path `from` (as a whole path or a prefix of one) replaced by `to`. */
function replacePath(text: string, from: string, to: string): string {
  return text.replace(new RegExp(`${from.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}(?=/|$|[\\s,'"])`, 'g'), to);
}
