// The flags of etcd 3.4 and 3.5 that cairn accepts but does not act on, so
// that an etcd start-up script (command line, ETCD_<FLAG> variables or
// etcd.conf.yml) starts cairn unchanged. Each value is checked as etcd's flag
// package checks it (a bad one is refused in etcd's words), then dropped; a
// value other than etcd's default is one warning at start-up, saying what
// cairn does instead where that matters. cairn's own flags, which act, are in
// config.ts; test/fixtures/etcd-flags-3.4.txt and -3.5.txt list etcd's, and
// the test checks that the two tables together cover them.
import { DurationSyntaxError, parseGoDuration } from './go-duration.js';
import { slowApplyMs } from './logging/slow-apply.js';

/**
 * The value an etcd flag takes, as etcd's Go code defines it: bool, string,
 * strings (comma-separated), urls (comma-separated, each http(s)/unix(s)://host:port
 * without a path), uint (64-bit), uint32, int (64-bit), duration (Go's), choice
 * (one of `choices`), ignored (etcd's IgnoredFlag: a bool-like flag that takes any value).
 */
export type EtcdFlagKind = 'bool' | 'string' | 'strings' | 'urls' | 'uint' | 'uint32' | 'int' | 'duration' | 'choice' | 'ignored';

/** What cairn does where a flag asks for something: one sentence, or one per value of a bool flag. */
type CairnBehaviour = string | { readonly true?: string; readonly false?: string };

export interface EtcdFlag {
  readonly kind: EtcdFlagKind;
  /** etcd's default, as its flag package prints it (none for ignored flags: any use warns). */
  readonly default?: string;
  /** The values of a choice flag; `multiple`: a comma-separated list of them. */
  readonly choices?: readonly string[];
  readonly multiple?: true;
  /** Values (besides the default) that urls flags take as they are. */
  readonly exceptions?: readonly string[];
  /** What the warning says instead of "has no effect in cairn". */
  readonly cairn?: CairnBehaviour;
  /** Warn whenever given: etcd 3.4 and 3.5 differ in its default, or cairn does not do what the default asks. */
  readonly warnWhenGiven?: true;
}

const bool = (defaultValue: 'true' | 'false', cairn?: CairnBehaviour): EtcdFlag => ({ kind: 'bool', default: defaultValue, ...(cairn === undefined ? {} : { cairn }) });
const string = (defaultValue: string, cairn?: string): EtcdFlag => ({ kind: 'string', default: defaultValue, ...(cairn === undefined ? {} : { cairn }) });
const uint = (defaultValue: string): EtcdFlag => ({ kind: 'uint', default: defaultValue });
const duration = (defaultValue: string): EtcdFlag => ({ kind: 'duration', default: defaultValue });
const ignored: EtcdFlag = { kind: 'ignored', cairn: 'etcd ignores it too' };

const noDiscovery = 'cairn does not discover its cluster: it starts from --initial-cluster';
const noV2 = 'cairn has no v2 API or store: it serves the v3 API only';
const noCrl = 'cairn does not check certificate revocation lists';
const anyCertificate = 'cairn accepts any certificate its trusted CA signed, whatever its names';
const noRotation = 'cairn does not rotate its log files';

/** etcd 3.4's and 3.5's flags that cairn accepts and ignores, by name, with etcd's value kind and default. */
export const etcdFlags: Readonly<Record<string, EtcdFlag>> = {
  // Member.
  'wal-dir': string('', 'cairn keeps its WAL in --data-dir'),
  'listen-client-http-urls': { kind: 'urls', default: '', exceptions: [''], cairn: 'cairn serves HTTP on --listen-client-urls only' },
  'max-snapshots': uint('5'),
  'max-wals': uint('5'),
  'initial-election-tick-advance': bool('true'),
  'backend-bbolt-freelist-type': string(''),
  'experimental-backend-bbolt-freelist-type': string(''),
  'backend-batch-interval': duration('0s'),
  'backend-batch-limit': { kind: 'int', default: '0' },
  'grpc-keepalive-min-time': duration('5s'),
  'grpc-keepalive-interval': duration('2h0m0s'),
  'grpc-keepalive-timeout': duration('20s'),
  'socket-reuse-port': bool('false'),
  'socket-reuse-address': bool('false'),
  'max-concurrent-streams': { kind: 'uint32', default: '4294967295' },
  'raft-read-timeout': duration('5s'),
  'raft-write-timeout': duration('5s'),
  // Clustering.
  discovery: string('', noDiscovery),
  'discovery-fallback': { kind: 'choice', choices: ['proxy', 'exit'], default: 'proxy', cairn: noDiscovery },
  'discovery-proxy': string('', noDiscovery),
  'discovery-srv': string('', noDiscovery),
  'discovery-srv-name': string('', noDiscovery),
  'strict-reconfig-check': {
    ...bool('true', { true: 'cairn does not refuse a member change that would leave too few started members for a quorum', false: 'cairn does not refuse member changes for quorum, as asked' }),
    warnWhenGiven: true,
  },
  'pre-vote': { ...bool('true', { true: 'cairn always pre-votes (Raft thesis §9.6)', false: 'cairn pre-votes anyway (Raft thesis §9.6)' }), warnWhenGiven: true },
  'enable-v2': bool('false', { true: noV2 }),
  'experimental-enable-v2v3': string('', noV2),
  'v2-deprecation': { kind: 'choice', choices: ['not-yet', 'write-only', 'write-only-drop-data', 'gone'], multiple: true, default: 'not-yet', cairn: noV2 },
  // etcd's v2 proxy.
  proxy: { kind: 'choice', choices: ['off', 'readonly', 'on'], default: 'off', cairn: 'cairn does not run as a proxy: it starts a member' },
  'proxy-failure-wait': uint('5000'),
  'proxy-refresh-interval': uint('30000'),
  'proxy-dial-timeout': uint('1000'),
  'proxy-write-timeout': uint('5000'),
  'proxy-read-timeout': uint('0'),
  // Security.
  'client-cert-file': string('', 'cairn has no client of its own to present it'),
  'client-key-file': string('', 'cairn has no client of its own to present it'),
  'client-crl-file': string('', noCrl),
  'client-cert-allowed-hostname': { kind: 'strings', default: '', cairn: anyCertificate },
  'peer-client-cert-file': string('', 'cairn presents --peer-cert-file to its peers'),
  'peer-client-key-file': string('', 'cairn presents --peer-cert-file to its peers'),
  'peer-crl-file': string('', noCrl),
  'peer-cert-allowed-cn': { kind: 'strings', default: '', cairn: anyCertificate },
  'peer-cert-allowed-hostname': { kind: 'strings', default: '', cairn: anyCertificate },
  'self-signed-cert-validity': { kind: 'uint', default: '1', cairn: 'cairn\'s self-signed certificates are valid for one year' },
  'experimental-peer-skip-client-san-verification': bool('false'),
  cors: { kind: 'urls', default: '*', exceptions: ['*'], cairn: 'cairn answers every origin (Access-Control-Allow-Origin: *)' },
  'host-whitelist': { kind: 'strings', default: '*', cairn: 'cairn answers any Host' },
  // Logging.
  debug: bool('false', { true: 'use --log-level debug' }),
  'log-output': { kind: 'strings', default: 'default', cairn: 'it is etcd 3.4\'s old name of --log-outputs, which cairn takes' },
  'log-package-levels': string(''),
  'enable-log-rotation': bool('false', { true: noRotation }),
  'log-rotation-config-json': string('{"maxsize": 100, "maxage": 0, "maxbackups": 0, "localtime": false, "compress": false}', noRotation),
  // Profiling, metrics, gateway.
  'enable-pprof': bool('false'),
  metrics: string('basic'),
  'enable-grpc-gateway': bool('true', { false: 'cairn serves the JSON gateway on its client URLs anyway' }),
  // Experimental.
  'experimental-initial-corrupt-check': bool('false'),
  'experimental-corrupt-check-time': duration('0s'),
  'experimental-compact-hash-check-enabled': bool('false'),
  'experimental-compact-hash-check-time': duration('1m0s'),
  'experimental-enable-lease-checkpoint': bool('false'),
  'experimental-enable-lease-checkpoint-persist': bool('false'),
  'experimental-compaction-batch-limit': { kind: 'int', default: '0' },
  'experimental-compaction-sleep-interval': duration('0s'),
  'experimental-downgrade-check-time': duration('5s'),
  'experimental-warning-apply-duration': { kind: 'duration', default: '100ms', cairn: `cairn warns of applies slower than ${slowApplyMs}ms` },
  'experimental-memory-mlock': bool('false'),
  'experimental-txn-mode-write-with-shared-buffer': bool('true'),
  'experimental-stop-grpc-service-on-defrag': bool('false'),
  'experimental-bootstrap-defrag-threshold-megabytes': uint('0'),
  'experimental-snapshot-catchup-entries': uint('5000'),
  // Unsafe.
  'unsafe-no-fsync': bool('false', { true: 'cairn fsyncs its WAL anyway: it never acknowledges a write it could lose' }),
  'force-new-cluster': bool('false', { true: 'cairn does not force a new cluster: the member keeps the membership its data directory holds' }),
  // etcd's own ignored flags (etcd 2's).
  'cluster-active-size': ignored,
  'cluster-remove-delay': ignored,
  'cluster-sync-interval': ignored,
  config: ignored,
  force: ignored,
  'max-result-buffer': ignored,
  'max-retry-attempts': ignored,
  'peer-heartbeat-interval': ignored,
  'peer-election-timeout': ignored,
  'retry-interval': ignored,
  snapshot: ignored,
  v: ignored,
  vv: ignored,
  'test.coverprofile': ignored,
  'test.outputdir': ignored,
};

/** Whether a command-line flag `--name` takes no separate argument (Go's IsBoolFlag). */
export function isEtcdBoolFlag(name: string): boolean {
  const kind = etcdFlags[name]?.kind;
  return kind === 'bool' || kind === 'ignored';
}

/** A value an etcd flag does not take; `reason` is Go's ("parse error", or the URL parser's sentence). */
export class EtcdFlagValueError extends Error {
  override readonly name = 'EtcdFlagValueError';
  constructor(readonly flag: string, readonly value: string, readonly reason: string) {
    super(`invalid value "${value}" for flag -${flag}: ${reason}`);
  }
}

/** Go's strconv.ParseBool. */
export function goParseBool(value: string): boolean | undefined {
  if (['1', 't', 'T', 'TRUE', 'true', 'True'].includes(value)) return true;
  if (['0', 'f', 'F', 'FALSE', 'false', 'False'].includes(value)) return false;
  return undefined;
}

/** The value of `flag`, checked as etcd checks it, in a form that compares with its default. Throws EtcdFlagValueError. */
export function etcdFlagValue(flag: string, value: string): string {
  const definition = etcdFlags[flag];
  if (definition === undefined) throw new Error(`--${flag} is not an etcd flag of the table`);
  const refuse = (reason = 'parse error'): never => {
    throw new EtcdFlagValueError(flag, value, reason);
  };
  switch (definition.kind) {
    case 'bool': {
      const parsed = goParseBool(value);
      return parsed === undefined ? refuse() : String(parsed);
    }
    case 'uint': return goInteger(value, false, 64) ?? refuse();
    case 'uint32': return goInteger(value, false, 32) ?? refuse();
    case 'int': return goInteger(value, true, 64) ?? refuse();
    case 'duration':
      try {
        return String(parseGoDuration(value));
      } catch (error) {
        if (error instanceof DurationSyntaxError) return refuse();
        throw error;
      }
    case 'choice': {
      const values = definition.multiple === true ? value.split(',') : [value];
      return values.every((one) => definition.choices?.includes(one) === true) ? values.sort().join(',') : refuse('invalid value');
    }
    case 'urls': {
      if (definition.exceptions?.includes(value) === true) return value;
      const problem = value.split(',').map(goUrlProblem).find((found) => found !== undefined);
      return problem === undefined ? list(value) : refuse(problem);
    }
    case 'strings': return list(value);
    case 'string':
    case 'ignored': return value;
  }
}

/** Go's strconv.ParseInt / ParseUint with base 0 (0x, 0o, 0b and 0 prefixes), as a decimal string; undefined if out of range. */
function goInteger(value: string, signed: boolean, bits: 32 | 64): string | undefined {
  const match = /^([+-]?)(0[xX][0-9a-fA-F]+|0[bB][01]+|0[oO][0-7]+|0[0-7]*|[1-9][0-9]*)$/.exec(value);
  if (match === null || (!signed && match[1] !== '')) return undefined;
  const digits = match[2] ?? '';
  const magnitude = /^0[0-7]+$/.test(digits) ? BigInt(`0o${digits.slice(1)}`) : BigInt(digits);
  const parsed = match[1] === '-' ? -magnitude : magnitude;
  const size = BigInt(bits);
  const [minimum, maximum] = signed ? [-(1n << (size - 1n)), (1n << (size - 1n)) - 1n] : [0n, (1n << size) - 1n];
  return parsed < minimum || parsed > maximum ? undefined : String(parsed);
}

/** etcd's types.NewURLs rule for one URL of a list, in its words; undefined when the URL is fine. */
function goUrlProblem(text: string): string | undefined {
  const url = text.trim();
  const scheme = /^([a-z][a-z0-9+.-]*):\/\//i.exec(url)?.[1]?.toLowerCase();
  if (scheme === undefined || !['http', 'https', 'unix', 'unixs'].includes(scheme)) return `URL scheme must be http, https, unix, or unixs: ${url}`;
  const rest = url.slice(scheme.length + 3);
  const host = rest.split(/[/?#]/, 1)[0] ?? '';
  if (!/^(\[[0-9a-fA-F:.]+\]|[^:[\]]*):[0-9a-zA-Z]*$/.test(host)) return `URL address does not have the form "host:port": ${url}`;
  if (rest.length > host.length && rest[host.length] === '/') return `URL must not contain a path: ${url}`;
  return undefined;
}

function list(value: string): string {
  return [...new Set(value.split(',').map((item) => item.trim()).filter((item) => item !== ''))].sort().join(',');
}

/**
 * The start-up warning of an etcd flag set to `value` (as etcdFlagValue gave
 * it), or undefined when it is etcd's default and cairn's behaviour asks for
 * no word.
 */
export function etcdFlagWarning(flag: string, value: string): string | undefined {
  const definition = etcdFlags[flag];
  if (definition === undefined) throw new Error(`--${flag} is not an etcd flag of the table`);
  const isDefault = definition.default !== undefined && etcdFlagValue(flag, definition.default) === value;
  if (isDefault && definition.warnWhenGiven !== true) return undefined;
  const shown = definition.kind === 'bool' ? (value === 'true' ? `--${flag}` : `--${flag}=false`)
    : definition.kind === 'choice' ? `--${flag}=${value}` : `--${flag}`;
  const cairn = typeof definition.cairn === 'object' ? definition.cairn[value as 'true' | 'false'] : definition.cairn;
  if (cairn === undefined) return `${shown} is accepted for compatibility with etcd and has no effect in cairn`;
  return `${shown} is accepted for compatibility with etcd; ${cairn}`;
}

/** The warnings of the etcd flags `given` (flag → value as etcdFlagValue gave it), in the order given. */
export function etcdFlagWarnings(given: ReadonlyMap<string, string>): string[] {
  return [...given].flatMap(([flag, value]) => etcdFlagWarning(flag, value) ?? []);
}

/** The help text's section on these flags. */
export function etcdFlagsHelp(widthMax = 100): string {
  const lines = ['Accepted for compatibility with etcd, no effect (one warning at start-up for each set off etcd\'s default):'];
  let line = ' ';
  for (const name of Object.keys(etcdFlags)) {
    if (line.length + name.length + 3 > widthMax) {
      lines.push(line);
      line = ' ';
    }
    line += ` --${name}`;
  }
  lines.push(line);
  return `${lines.join('\n')}\n`;
}

/** The etcd flags on a command line, taken out of it; what is left goes to cairn's own parser. */
export interface TakenEtcdFlags {
  rest: string[];
  /** flag → value as etcdFlagValue gives it; the last occurrence counts, as in Go. */
  given: Map<string, string>;
}

/** A command line that names an etcd flag wrongly (missing value, bad value): Go's words. */
export class EtcdFlagSyntaxError extends Error {
  override readonly name = 'EtcdFlagSyntaxError';
}

/**
 * Takes the table's flags out of `argv`, as Go's flag package reads them:
 * `--flag value` or `--flag=value`; a bool flag alone or `--flag=true|false`
 * (cairn's rule for its own bool flags). `takesValue` tells which of cairn's
 * own flags take the next argument as their value (it is skipped, not read).
 */
export function takeEtcdFlags(argv: readonly string[], takesValue: (flag: string) => boolean): TakenEtcdFlags {
  const rest: string[] = [];
  const given = new Map<string, string>();
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i] ?? '';
    const match = /^--([^=]+)(?:=([\s\S]*))?$/.exec(arg);
    const flag = match?.[1];
    if (arg === '--') {
      rest.push(...argv.slice(i));
      break;
    }
    if (match === null || flag === undefined || !(flag in etcdFlags)) {
      rest.push(arg);
      if (flag !== undefined && match?.[2] === undefined && takesValue(flag) && i + 1 < argv.length) rest.push(argv[++i] ?? '');
      continue;
    }
    let value = match[2];
    if (isEtcdBoolFlag(flag)) {
      value ??= 'true';
      if (etcdFlags[flag]?.kind === 'bool' && value !== 'true' && value !== 'false') throw new EtcdFlagSyntaxError(`invalid boolean value "${value}" for -${flag}: parse error`);
    } else if (value === undefined) {
      if (i + 1 >= argv.length) throw new EtcdFlagSyntaxError(`flag needs an argument: -${flag}`);
      value = argv[++i] ?? '';
    }
    try {
      given.delete(flag);
      given.set(flag, etcdFlagValue(flag, value));
    } catch (error) {
      if (error instanceof EtcdFlagValueError) throw new EtcdFlagSyntaxError(error.message);
      throw error;
    }
  }
  return { rest, given };
}
