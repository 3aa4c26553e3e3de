// Server configuration: etcd's flag names and defaults, parsed from the
// command line or from a YAML file (--config-file; as in etcd, a config file
// replaces the command-line flags). Validated up front, one sentence per rule.
import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { parse as parseYaml } from 'yaml';
import { InitialClusterError, parseInitialCluster } from './membership/initial-cluster.js';
import { requestBytesCeiling } from './transport/peer-checks.js';
import { JwtOptionsError, parseJwtOptions, type JwtOptions } from './auth/jwt.js';
import { DurationSyntaxError, parseGoDuration } from './go-duration.js';
import { EtcdFlagValueError, etcdFlags, etcdFlagValue, etcdFlagWarnings, goParseBool, takeEtcdFlags } from './etcd-flags.js';
import type { AutoCompaction } from './compaction/auto-compactor.js';
import { tlsProtocolOptions, TlsProtocolError, tlsVersionNames, type TlsProtocolConfig } from './tls/cipher-suites.js';
import { transportSecurityProblem, type TransportSecurity } from './tls/transport-security.js';

export interface ServerConfig {
  name: string;
  dataDir: string;
  listenClientUrls: string[];
  advertiseClientUrls: string[];
  listenPeerUrls: string[];
  /** Extra URLs serving only /metrics and the health endpoints (--listen-metrics-urls); https:// ones with the client certificate. */
  listenMetricsUrls: string[];
  initialAdvertisePeerUrls: string[];
  initialCluster: string;
  initialClusterState: 'new' | 'existing';
  initialClusterToken: string;
  heartbeatIntervalMs: number;
  electionTimeoutMs: number;
  snapshotCount: number;
  maxTxnOps: number;
  maxRequestBytes: number;
  quotaBackendBytes: number;
  logLevel: LogLevel;
  /** --logger: zap (structured, etcd 3.5's default) or capnslog (3.4's); cairn writes JSON lines either way. */
  logger: 'zap' | 'capnslog';
  /** --log-outputs: stderr, stdout, or files ("default" is stderr). */
  logOutputs: string[];
  /** etcd 3.5's distributed tracing: spans of client calls and their proposals, exported over OTLP. */
  tracing: TracingSettings;
  watchProgressNotifyIntervalMs: number;
  /** TLS of the client URLs (etcd's client-transport-security); https:// client URLs need its cert and key, or autoTls. */
  clientTls: TransportSecurity;
  /** TLS of the peer URLs (etcd's peer-transport-security); https:// peer URLs need its cert and key, or autoTls. */
  peerTls: TransportSecurity;
  /** --cipher-suites, --tls-min-version, --tls-max-version: both ports. */
  tlsProtocol: TlsProtocolConfig;
  /** --auto-compaction-mode and --auto-compaction-retention; undefined: no auto-compaction (retention 0, the default). */
  autoCompaction: AutoCompaction | undefined;
  /** Authentication: how tokens are made (--auth-token, --auth-token-ttl) and the bcrypt cost of passwords. */
  auth: AuthConfig;
  /** --enable-ui: the web console at /ui/ on the client URLs (cairn's own; on by default). */
  enableUi: boolean;
}

/** etcd's --auth-token (simple, or jwt with its options), --auth-token-ttl and --bcrypt-cost. */
export interface AuthConfig {
  token: { kind: 'simple' } | { kind: 'jwt'; options: JwtOptions; unknownOptions: string[] };
  /** How long a simple token lives without use. */
  tokenTtlSeconds: number;
  /** bcrypt's cost factor for the passwords UserAdd and UserChangePassword set. */
  bcryptCost: number;
}

/** A flag or config value that cannot be used: the server does not start (exit 1, as etcd's "error verifying flags"). */
export class ConfigError extends Error {
  override readonly name: string = 'ConfigError';
}

/** A command line that does not parse (unknown flag, missing value): usage and exit 2, as Go's flag package. */
export class FlagSyntaxError extends ConfigError {
  override readonly name = 'FlagSyntaxError';
}

/**
 * A configuration to run, with what deserves a warning in the log (etcd's
 * warnings: unknown ETCD_ variables, config keys cairn does not use; and
 * etcd's flags that cairn accepts without acting on them, etcd-flags.ts).
 */
export type ParsedCommandLine = { kind: 'run'; config: ServerConfig; warnings: string[] } | { kind: 'version' } | { kind: 'help' };

/** The environment variables ETCD_<FLAG> are read from (process.env by default). */
export type Environment = Readonly<Record<string, string | undefined>>;

const flags = {
  name: { type: 'string', default: 'default' },
  'data-dir': { type: 'string' },
  'listen-client-urls': { type: 'string', default: 'http://127.0.0.1:2379' },
  'advertise-client-urls': { type: 'string', default: 'http://127.0.0.1:2379' },
  'listen-peer-urls': { type: 'string', default: 'http://127.0.0.1:2380' },
  'listen-metrics-urls': { type: 'string' },
  'initial-advertise-peer-urls': { type: 'string', default: 'http://127.0.0.1:2380' },
  'initial-cluster': { type: 'string' },
  'initial-cluster-state': { type: 'string', default: 'new' },
  'initial-cluster-token': { type: 'string', default: 'etcd-cluster' },
  'heartbeat-interval': { type: 'string', default: '100' },
  'election-timeout': { type: 'string', default: '1000' },
  'snapshot-count': { type: 'string', default: '100000' },
  'max-txn-ops': { type: 'string', default: '128' },
  'max-request-bytes': { type: 'string', default: String(1.5 * 1024 * 1024) },
  'quota-backend-bytes': { type: 'string', default: String(2 * 1024 * 1024 * 1024) },
  'log-level': { type: 'string', default: 'info' },
  logger: { type: 'string', default: 'zap' },
  'log-outputs': { type: 'string', default: 'default' },
  'experimental-watch-progress-notify-interval': { type: 'string', default: '10m' },
  'cert-file': { type: 'string' },
  'key-file': { type: 'string' },
  'trusted-ca-file': { type: 'string' },
  'client-cert-auth': { type: 'boolean', default: false },
  'auto-compaction-mode': { type: 'string', default: 'periodic' },
  'auto-compaction-retention': { type: 'string', default: '0' },
  'auth-token': { type: 'string', default: 'simple' },
  'auth-token-ttl': { type: 'string', default: '300' },
  'bcrypt-cost': { type: 'string', default: '10' },
  'auto-tls': { type: 'boolean', default: false },
  'peer-cert-file': { type: 'string' },
  'peer-key-file': { type: 'string' },
  'peer-trusted-ca-file': { type: 'string' },
  'peer-client-cert-auth': { type: 'boolean', default: false },
  'peer-auto-tls': { type: 'boolean', default: false },
  'cipher-suites': { type: 'string' },
  'tls-min-version': { type: 'string', default: 'TLS1.2' },
  'tls-max-version': { type: 'string' },
  'experimental-enable-distributed-tracing': { type: 'boolean', default: false },
  'enable-ui': { type: 'boolean', default: true },
  'experimental-distributed-tracing-address': { type: 'string', default: 'localhost:4317' },
  'experimental-distributed-tracing-service-name': { type: 'string', default: 'cairn' },
  'experimental-distributed-tracing-instance-id': { type: 'string', default: '' },
  'experimental-distributed-tracing-sampling-rate': { type: 'string', default: '0' },
  'config-file': { type: 'string' },
  version: { type: 'boolean', default: false },
  help: { type: 'boolean', short: 'h', default: false },
} as const;

export type FlagName = Exclude<keyof typeof flags, 'config-file' | 'version' | 'help'>;

/** Whether `name` is one of cairn's own flags (which act), and whether it is a bool flag. */
export function ownFlagKind(name: string): 'bool' | 'value' | undefined {
  const definition = (flags as Record<string, { type: string }>)[name];
  return definition === undefined ? undefined : definition.type === 'boolean' ? 'bool' : 'value';
}

/** The value the server takes for `flag` when none is given (undefined: none, or one derived from other flags). */
export function flagDefault(flag: FlagName): string | boolean | undefined {
  return (flags[flag] as { default?: string | boolean }).default;
}

/** The data directory of a member named `name` when --data-dir is not given. */
export function defaultDataDir(name: string): string {
  return `${name}.cairn`;
}

/**
 * The configuration of a command line and, as etcd 3.4 reads them, the
 * environment variables ETCD_<FLAG> (ETCD_LISTEN_CLIENT_URLS for
 * --listen-client-urls): each sets its flag when the command line does not.
 * A variable beside the same flag on the command line stops the start, an
 * ETCD_ variable that names no flag is warned about, and an empty one is
 * ignored. With a config file (--config-file or ETCD_CONFIG_FILE) the file
 * alone counts, as in etcd.
 */
export function parseCommandLine(argv: string[], environment: Environment = process.env): ParsedCommandLine {
  let parsed;
  let etcdGiven;
  let joined;
  try {
    const taken = takeEtcdFlags(argv, (flag) => ownFlagKind(flag) === 'value');
    etcdGiven = taken.given;
    joined = joinBooleanValues(joinNegativeValues(taken.rest));
    parsed = parseArgs({ args: joined.args, options: flags, strict: true, allowPositionals: false, tokens: true });
  } catch (error) {
    throw new FlagSyntaxError((error as Error).message);
  }
  const values = parsed.values;
  if (values.help) return { kind: 'help' };
  if (values.version) return { kind: 'version' };
  const configFile = values['config-file'] ?? nonEmpty(environment[envName('config-file')]);
  if (configFile !== undefined) return fromFile(configFile);
  const onCommandLine = new Set<string>([...parsed.tokens.flatMap((token) => (token.kind === 'option' ? [token.name] : [])), ...etcdGiven.keys(), ...joined.false]);
  const given = new Map<FlagName, string>();
  for (const [flag, value] of Object.entries(values)) {
    if (!onCommandLine.has(flag) || flag === 'config-file') continue;
    if (typeof value === 'string') given.set(flag as FlagName, value);
    if (value === true && flag in booleanFlags) given.set(flag as FlagName, 'true');
  }
  for (const flag of joined.false) given.set(flag, 'false');
  const warnings = fromEnvironment(environment, onCommandLine, given, etcdGiven);
  return { kind: 'run', config: build(given), warnings: [...warnings, ...etcdFlagWarnings(etcdGiven)] };
}

/** etcd's name of a flag's environment variable: --listen-client-urls → ETCD_LISTEN_CLIENT_URLS. */
export function envName(flag: string): string {
  return `ETCD_${flag.toUpperCase().replaceAll('-', '_')}`;
}

/** Sets `given` from the ETCD_ variables (etcd's pkg/flags SetFlagsFromEnv); the warnings about the others. */
function fromEnvironment(environment: Environment, onCommandLine: ReadonlySet<string>, given: Map<FlagName, string>, etcdGiven: Map<string, string>): string[] {
  const names = [...Object.keys(flags).filter((flag) => flag !== 'version' && flag !== 'help'), ...Object.keys(etcdFlags)];
  const byName = new Map(names.map((flag) => [envName(flag), flag]));
  const warnings: string[] = [];
  for (const [name, value] of Object.entries(environment)) {
    if (value === undefined || !name.startsWith('ETCD_')) continue;
    const flag = byName.get(name);
    if (flag === undefined) {
      warnings.push(`unrecognized environment variable ${name}=${value}`);
      continue;
    }
    // etcd's words (pkg/flags/flag.go); an empty variable conflicts too.
    if (onCommandLine.has(flag)) throw new ConfigError(`conflicting environment variable "${name}" is shadowed by corresponding command-line flag (either unset environment variable or disable flag)`);
    if (value === '' || flag === 'config-file') continue;
    if (flag in etcdFlags) etcdGiven.set(flag, etcdValue(flag, value, `for ${name}`));
    else given.set(flag as FlagName, flag in booleanFlags ? goBoolean(name, value) : value);
  }
  return warnings;
}

/** Go's strconv.ParseBool, as etcd reads a boolean variable. */
function goBoolean(name: string, value: string): 'true' | 'false' {
  const parsed = goParseBool(value);
  if (parsed === undefined) throw new ConfigError(`invalid value "${value}" for ${name}: parse error`);
  return parsed ? 'true' : 'false';
}

/** An etcd flag's value from the environment or a config file (`where`: "for ETCD_MAX_WALS"), refused in etcd's words. */
function etcdValue(flag: string, value: string, where: string): string {
  try {
    return etcdFlagValue(flag, value);
  } catch (error) {
    if (!(error instanceof EtcdFlagValueError)) throw error;
    throw new ConfigError(`invalid value "${value}" ${where}: ${error.reason}`);
  }
}

/**
 * `--flag -1` as `--flag=-1`: Go's flag package (etcd's) takes the argument
 * after a flag as its value even when it starts with "-"; node's parseArgs
 * would refuse it (a negative --quota-backend-bytes turns the quota off).
 */
function joinNegativeValues(argv: string[]): string[] {
  const joined: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    const next = argv[i + 1];
    if (arg === undefined) break;
    if (arg.startsWith('--') && !arg.includes('=') && next !== undefined && /^-\d+$/.test(next)) {
      joined.push(`${arg}=${next}`);
      i++;
    } else {
      joined.push(arg);
    }
  }
  return joined;
}

/** The boolean flags among the FlagNames (parseArgs gives them as booleans). */
const booleanFlags = {
  'client-cert-auth': true, 'auto-tls': true, 'peer-client-cert-auth': true, 'peer-auto-tls': true, 'experimental-enable-distributed-tracing': true, 'enable-ui': true,
} as const;

/**
 * `--client-cert-auth=true` / `=false` (and the other booleans): Go's flag package takes a boolean
 * flag's value after "=", node's parseArgs refuses it. `=true` becomes the bare flag; `=false` is
 * taken out and returned in `false`, as parseArgs cannot say it (--enable-ui=false turns a default off).
 */
function joinBooleanValues(argv: string[]): { args: string[]; false: Array<keyof typeof booleanFlags> } {
  const args: string[] = [];
  const given: Array<keyof typeof booleanFlags> = [];
  for (const arg of argv) {
    const match = /^--([a-z-]+)=(true|false)$/.exec(arg);
    const flag = match?.[1];
    if (match === null || flag === undefined || !(flag in booleanFlags)) args.push(arg);
    else if (match[2] === 'true') args.push(`--${flag}`);
    else given.push(flag as keyof typeof booleanFlags);
  }
  return { args, false: given };
}

/** etcd's config file nests each side's TLS keys under client-transport-security and peer-transport-security. */
const transportSecuritySections = {
  'client-transport-security': {
    'cert-file': 'cert-file',
    'key-file': 'key-file',
    'trusted-ca-file': 'trusted-ca-file',
    'client-cert-auth': 'client-cert-auth',
    'auto-tls': 'auto-tls',
  },
  'peer-transport-security': {
    'cert-file': 'peer-cert-file',
    'key-file': 'peer-key-file',
    'trusted-ca-file': 'peer-trusted-ca-file',
    'client-cert-auth': 'peer-client-cert-auth',
    'auto-tls': 'peer-auto-tls',
  },
} as const satisfies Record<string, Record<string, FlagName>>;

function fromFile(path: string): ParsedCommandLine {
  let document: unknown;
  try {
    document = parseYaml(readFileSync(path, 'utf8'));
  } catch (error) {
    throw new ConfigError(`cannot read config file ${path}: ${(error as Error).message}`);
  }
  if (document === null || typeof document !== 'object') throw new ConfigError(`config file ${path} is not a YAML mapping`);
  const given = new Map<FlagName, string>();
  for (const [flag, definition] of Object.entries(flags)) {
    if ('default' in definition && typeof definition.default === 'string') given.set(flag as FlagName, definition.default);
  }
  const warnings: string[] = [];
  const etcdGiven = new Map<string, string>();
  for (const [key, value] of Object.entries(document)) {
    if (key in etcdFlags) {
      // A duration in etcd's file is a number of nanoseconds (Go's time.Duration in JSON).
      const text = typeof value === 'number' && etcdFlags[key]?.kind === 'duration' ? `${value}ns` : Array.isArray(value) ? value.join(',') : String(value ?? '');
      if (value !== null && value !== '') etcdGiven.set(key, etcdValue(key, text, `for key "${key}" of config file ${path}`));
      continue;
    }
    if (key in transportSecuritySections) {
      warnings.push(...fromTransportSecurity(path, key as keyof typeof transportSecuritySections, value, given));
      continue;
    }
    // etcd ignores keys it does not know; cairn also says which of etcd's it does not use.
    if (!(key in flags) || key === 'config-file' || key === 'version' || key === 'help') {
      warnings.push(`config file ${path}: key "${key}" is not used by cairn`);
      continue;
    }
    // etcd writes an unset value as null or "".
    if (value === null || value === '') continue;
    given.set(key as FlagName, Array.isArray(value) ? value.join(',') : String(value));
  }
  return { kind: 'run', config: build(given), warnings: [...warnings, ...etcdFlagWarnings(etcdGiven)] };
}

function fromTransportSecurity(path: string, name: keyof typeof transportSecuritySections, section: unknown, given: Map<FlagName, string>): string[] {
  if (section === null || section === undefined) return [];
  if (typeof section !== 'object' || Array.isArray(section)) throw new ConfigError(`config file ${path}: ${name} must be a mapping`);
  const keys: Record<string, FlagName> = transportSecuritySections[name];
  const warnings: string[] = [];
  for (const [key, value] of Object.entries(section)) {
    const flag = keys[key];
    if (flag === undefined) {
      warnings.push(`config file ${path}: key "${name}.${key}" is not used by cairn`);
      continue;
    }
    // etcd writes an unset file as "", and ours is then unset too.
    if (value !== '' && value !== null) given.set(flag, String(value));
  }
  return warnings;
}

function build(given: Map<FlagName, string>): ServerConfig {
  const get = (flag: FlagName): string => {
    const value = given.get(flag) ?? (flags[flag] as { default?: string }).default;
    if (value === undefined) throw new ConfigError(`--${flag} has no value`);
    return value;
  };
  const name = get('name');
  const initialAdvertisePeerUrls = urls('initial-advertise-peer-urls', get('initial-advertise-peer-urls'));
  const config: ServerConfig = {
    name,
    dataDir: given.get('data-dir') ?? defaultDataDir(name),
    listenClientUrls: urls('listen-client-urls', get('listen-client-urls')),
    advertiseClientUrls: urls('advertise-client-urls', get('advertise-client-urls')),
    listenPeerUrls: urls('listen-peer-urls', get('listen-peer-urls')),
    listenMetricsUrls: (given.get('listen-metrics-urls') ?? '') === '' ? [] : urls('listen-metrics-urls', get('listen-metrics-urls')),
    initialAdvertisePeerUrls,
    initialCluster: given.get('initial-cluster') ?? `${name}=${initialAdvertisePeerUrls[0]}`,
    initialClusterState: oneOf('initial-cluster-state', get('initial-cluster-state'), ['new', 'existing'] as const),
    initialClusterToken: get('initial-cluster-token'),
    heartbeatIntervalMs: integer('heartbeat-interval', get('heartbeat-interval'), 1),
    electionTimeoutMs: integer('election-timeout', get('election-timeout'), 1),
    snapshotCount: integer('snapshot-count', get('snapshot-count'), 1),
    maxTxnOps: integer('max-txn-ops', get('max-txn-ops'), 1),
    maxRequestBytes: integer('max-request-bytes', get('max-request-bytes'), 1),
    // As etcd 3.4: 0 means the default quota, a negative value no quota (server/alarm/quota.ts).
    quotaBackendBytes: integer('quota-backend-bytes', get('quota-backend-bytes'), Number.MIN_SAFE_INTEGER),
    logLevel: oneOf('log-level', get('log-level'), logLevels),
    logger: logger(get('logger')),
    logOutputs: logOutputs(get('log-outputs')),
    tracing: tracing(given, get),
    watchProgressNotifyIntervalMs: duration('experimental-watch-progress-notify-interval', get('experimental-watch-progress-notify-interval')),
    clientTls: transportSecurity(given, { certFile: 'cert-file', keyFile: 'key-file', trustedCaFile: 'trusted-ca-file', clientCertAuth: 'client-cert-auth', autoTls: 'auto-tls' }),
    peerTls: transportSecurity(given, {
      certFile: 'peer-cert-file', keyFile: 'peer-key-file', trustedCaFile: 'peer-trusted-ca-file', clientCertAuth: 'peer-client-cert-auth', autoTls: 'peer-auto-tls',
    }),
    tlsProtocol: {
      cipherSuites: (given.get('cipher-suites') ?? '').split(',').map((name) => name.trim()).filter((name) => name !== ''),
      minVersion: oneOf('tls-min-version', get('tls-min-version'), tlsVersionNames),
      maxVersion: given.get('tls-max-version') === undefined ? undefined : oneOf('tls-max-version', get('tls-max-version'), tlsVersionNames),
    },
    autoCompaction: autoCompaction(get('auto-compaction-mode'), get('auto-compaction-retention')),
    auth: {
      token: authToken(get('auth-token')),
      tokenTtlSeconds: integer('auth-token-ttl', get('auth-token-ttl'), 1),
      bcryptCost: integer('bcrypt-cost', get('bcrypt-cost'), 4),
    },
    enableUi: given.get('enable-ui') !== 'false',
  };
  validate(config);
  return config;
}

function validate(config: ServerConfig): void {
  if (config.electionTimeoutMs < 5 * config.heartbeatIntervalMs) {
    throw new ConfigError('--election-timeout must be at least 5 × --heartbeat-interval');
  }
  if (config.electionTimeoutMs > 50_000) throw new ConfigError('--election-timeout must be at most 50000 ms');
  validateTls(config);
  if (config.name === '') throw new ConfigError('--name must not be empty');
  // bcrypt's own bounds (etcd falls back to 10 outside them; a typo is better refused).
  if (config.auth.bcryptCost > 31) throw new ConfigError('--bcrypt-cost must be an integer from 4 to 31');
  if (config.maxRequestBytes > requestBytesCeiling) {
    // A request travels to the other members whole, in one peer message, and peers refuse larger ones.
    throw new ConfigError(`--max-request-bytes must be at most ${requestBytesCeiling}`);
  }
  try {
    const members = parseInitialCluster(config.initialCluster, config.initialClusterToken);
    if (config.initialClusterState === 'new' && !members.some((member) => member.name === config.name)) {
      throw new ConfigError(`--initial-cluster must name this member (${config.name})`);
    }
  } catch (error) {
    if (error instanceof InitialClusterError) throw new ConfigError(error.message);
    throw error;
  }
}

function validateTls(config: ServerConfig): void {
  const problem = transportSecurityProblem('client', config.clientTls, [...config.listenClientUrls, ...config.listenMetricsUrls])
    ?? transportSecurityProblem('peer', config.peerTls, config.listenPeerUrls);
  if (problem !== undefined) throw new ConfigError(problem);
  try {
    tlsProtocolOptions(config.tlsProtocol);
  } catch (error) {
    if (error instanceof TlsProtocolError) throw new ConfigError(error.message);
    throw error;
  }
}

/** One side's TLS flags, as `names` maps its fields to flags. */
function transportSecurity(given: Map<FlagName, string>, names: Record<keyof TransportSecurity, FlagName>): TransportSecurity {
  const flag = (name: FlagName): boolean => oneOf(name, given.get(name) ?? 'false', ['true', 'false'] as const) === 'true';
  return {
    certFile: nonEmpty(given.get(names.certFile)),
    keyFile: nonEmpty(given.get(names.keyFile)),
    trustedCaFile: nonEmpty(given.get(names.trustedCaFile)),
    clientCertAuth: flag(names.clientCertAuth),
    autoTls: flag(names.autoTls),
  };
}

/**
 * etcd's --auto-compaction-retention as --auto-compaction-mode reads it: a
 * bare integer is hours (periodic) or revisions (revision); periodic also
 * takes a Go duration. 0 turns auto-compaction off.
 */
function autoCompaction(mode: string, retention: string): AutoCompaction | undefined {
  if (mode !== 'periodic' && mode !== 'revision') throw new ConfigError(`unsupported compaction mode ${mode}`);
  if (/^\d+$/.test(retention)) {
    const count = Number(retention);
    if (!Number.isSafeInteger(count)) throw new ConfigError(`--auto-compaction-retention is too large: ${retention}`);
    if (count === 0) return undefined;
    return mode === 'revision' ? { mode, retention: count } : { mode, retentionMs: count * 3_600_000 };
  }
  // etcd would take a duration's nanoseconds as a revision count; cairn asks for a count.
  if (mode === 'revision') throw new ConfigError(`--auto-compaction-retention must be a number of revisions in revision mode, not "${retention}"`);
  let retentionMs: number;
  try {
    retentionMs = parseGoDuration(retention);
  } catch (error) {
    if (!(error instanceof DurationSyntaxError)) throw error;
    throw new ConfigError(`error parsing CompactionRetention: ${error.message}`);
  }
  if (retentionMs < 0) throw new ConfigError(`error parsing CompactionRetention: a negative retention "${retention}"`);
  return retentionMs === 0 ? undefined : { mode, retentionMs };
}

/** --auth-token: "simple", or etcd's "jwt,sign-method=…,pub-key=…,priv-key=…,ttl=…". */
function authToken(value: string): AuthConfig['token'] {
  if (value === 'simple') return { kind: 'simple' };
  if (value === 'jwt' || value.startsWith('jwt,')) {
    try {
      const { options, unknown } = parseJwtOptions(value.slice('jwt'.length));
      return { kind: 'jwt', options, unknownOptions: unknown };
    } catch (error) {
      if (error instanceof JwtOptionsError) throw new ConfigError(error.message);
      throw error;
    }
  }
  throw new ConfigError(`--auth-token must be simple or jwt,…, not "${value}"`);
}

function nonEmpty(value: string | undefined): string | undefined {
  return value === '' ? undefined : value;
}


function urls(flag: FlagName, value: string): string[] {
  const list = value.split(',').map((url) => url.trim()).filter((url) => url !== '');
  if (list.length === 0) throw new ConfigError(`--${flag} must list at least one URL`);
  for (const url of list) {
    let parsed: URL;
    try {
      parsed = new URL(url);
    } catch {
      throw new ConfigError(`--${flag}: "${url}" is not a URL`);
    }
    if (parsed.protocol !== 'http:' && parsed.protocol !== 'https:') throw new ConfigError(`--${flag}: "${url}" must use http:// or https://`);
    if (parsed.port === '') throw new ConfigError(`--${flag}: "${url}" must name a port`);
  }
  return list;
}

/** A Go duration, as etcd takes it: "10m", "1.5s", "1h30m". */
function duration(flag: FlagName, value: string): number {
  let ms: number;
  try {
    ms = parseGoDuration(value);
  } catch (error) {
    if (!(error instanceof DurationSyntaxError)) throw error;
    throw new ConfigError(`--${flag} must be a duration like 10m, 5s or 250ms, not "${value}" (${error.message})`);
  }
  if (ms <= 0) throw new ConfigError(`--${flag} must be longer than zero`);
  return ms;
}

function integer(flag: FlagName, value: string, minimum: number): number {
  const parsed = Number(value);
  if (!Number.isSafeInteger(parsed) || parsed < minimum) throw new ConfigError(`--${flag} must be an integer >= ${minimum}, not "${value}"`);
  return parsed;
}

/** --experimental-enable-distributed-tracing and its settings (etcd 3.5's flags). */
export interface TracingSettings {
  enabled: boolean;
  /** host:port of an OTLP gRPC collector. */
  address: string;
  serviceName: string;
  /** service.instance.id; "" leaves it out. */
  instanceId: string;
  /** Traces begun here that are sampled, per million; a client's sampled trace is always continued. */
  samplingRatePerMillion: number;
}

const samplingRatePerMillionMax = 1_000_000;

function tracing(given: Map<FlagName, string>, get: (flag: FlagName) => string): TracingSettings {
  const rate = Number(get('experimental-distributed-tracing-sampling-rate'));
  if (!Number.isSafeInteger(rate)) throw new ConfigError(`--experimental-distributed-tracing-sampling-rate must be an integer, not "${get('experimental-distributed-tracing-sampling-rate')}"`);
  // etcd's words.
  if (rate < 0) throw new ConfigError('tracing sampling rate must be positive');
  if (rate > samplingRatePerMillionMax) throw new ConfigError(`tracing sampling rate must be less than ${samplingRatePerMillionMax}`);
  return {
    enabled: given.get('experimental-enable-distributed-tracing') === 'true',
    address: get('experimental-distributed-tracing-address'),
    serviceName: get('experimental-distributed-tracing-service-name'),
    instanceId: get('experimental-distributed-tracing-instance-id'),
    samplingRatePerMillion: rate,
  };
}

/** etcd's log levels (panic and fatal log as fatal). */
export const logLevels = ['debug', 'info', 'warn', 'error', 'panic', 'fatal'] as const;
export type LogLevel = (typeof logLevels)[number];

function logger(value: string): 'zap' | 'capnslog' {
  if (value !== 'zap' && value !== 'capnslog') throw new ConfigError(`unknown logger option ${JSON.stringify(value)}`);
  return value;
}

/** --log-outputs as etcd 3.4 checks it: "default" (stderr) alone, or any of stderr, stdout, file paths. */
function logOutputs(value: string): string[] {
  const outputs = [...new Set(value.split(',').map((output) => output.trim()).filter((output) => output !== ''))];
  if (outputs.length === 0) return ['default'];
  if (outputs.length > 1 && outputs.includes('default')) throw new ConfigError('multi logoutput for "default" is not supported yet');
  return outputs;
}

function oneOf<T extends string>(flag: FlagName, value: string, allowed: readonly T[]): T {
  if (!(allowed as readonly string[]).includes(value)) throw new ConfigError(`--${flag} must be one of ${allowed.join(', ')}, not "${value}"`);
  return value as T;
}
