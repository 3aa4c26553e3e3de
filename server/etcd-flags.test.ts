import { expect } from 'chai';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { ConfigError, FlagSyntaxError, ownFlagKind, parseCommandLine, type Environment } from './config.js';
import { etcdFlags, etcdFlagValue, type EtcdFlag, type EtcdFlagKind } from './etcd-flags.js';
import { usage } from './usage.js';

/** test/fixtures/etcd-flags-<version>.txt (scripts/etcd-flag-names.mjs): etcd's flags, name → kind. This file runs from dist/server/. */
function etcdFlagList(version: '3.4' | '3.5'): Map<string, EtcdFlagKind> {
  const path = join(dirname(fileURLToPath(import.meta.url)), '..', '..', 'test', 'fixtures', `etcd-flags-${version}.txt`);
  const lines = readFileSync(path, 'utf8').split('\n').filter((line) => line !== '' && !line.startsWith('#'));
  return new Map(lines.map((line) => line.split(' ') as [string, EtcdFlagKind]));
}

const etcd34 = etcdFlagList('3.4');
const etcd35 = etcdFlagList('3.5');
const table = Object.entries(etcdFlags);

/** A value of `flag`'s kind other than its default. */
function otherValue(flag: EtcdFlag): string {
  switch (flag.kind) {
    case 'bool': return flag.default === 'true' ? 'false' : 'true';
    case 'uint':
    case 'uint32': return '7';
    case 'int': return '-7';
    case 'duration': return '7s';
    case 'choice': return flag.choices?.find((choice) => choice !== flag.default) ?? '';
    case 'urls': return 'http://127.0.0.1:7';
    case 'strings': return 'a,b';
    case 'string': return 'x7';
    case 'ignored': return 'true';
  }
}

/** A value etcd refuses for a flag of `kind`, if there is one. */
const badValue: Partial<Record<EtcdFlagKind, string>> = { bool: 'maybe', uint: '-1', uint32: '4294967296', int: '1.5', duration: '5', choice: 'maybe', urls: 'foo' };

function run(argv: string[], environment: Environment = {}): string[] {
  const parsed = parseCommandLine(argv, environment);
  if (parsed.kind !== 'run') throw new Error(`expected a run, got ${parsed.kind}`);
  return parsed.warnings;
}

function withConfigFile(text: string, check: (file: string) => void): void {
  const dir = mkdtempSync(join(tmpdir(), 'cairn-etcd-flags-'));
  try {
    writeFileSync(join(dir, 'etcd.conf.yml'), text);
    check(join(dir, 'etcd.conf.yml'));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

const envName = (flag: string): string => `ETCD_${flag.toUpperCase().replaceAll('-', '_')}`;

describe('etcd flags: the table against etcd 3.4.23 and 3.5.17 (test/fixtures)', () => {
  for (const [version, list] of [['3.4', etcd34], ['3.5', etcd35]] as const) {
    it(`covers every flag of etcd ${version} with cairn's own flags and the table, with etcd's value kind`, () => {
      expect(list.size).to.be.greaterThan(90);
      const missing = [...list.keys()].filter((name) => etcdFlags[name] === undefined && ownFlagKind(name) === undefined);
      expect(missing, 'flags cairn does not accept').to.deep.equal([]);
      // 3.4's --client-cert-allowed-hostname and --peer-cert-allowed-* took one string, 3.5's a list of them.
      const sameKind = (table: EtcdFlagKind | undefined, etcd: EtcdFlagKind): boolean => table === etcd || (table === 'strings' && etcd === 'string');
      const wrongKind = [...list].filter(([name, kind]) => etcdFlags[name] !== undefined && !sameKind(etcdFlags[name]?.kind, kind));
      expect(wrongKind, 'table flags whose kind is not etcd\'s').to.deep.equal([]);
      const wrongBool = [...list].filter(([name, kind]) => ownFlagKind(name) !== undefined && (ownFlagKind(name) === 'bool') !== (kind === 'bool'));
      expect(wrongBool, 'cairn flags that are bool where etcd\'s are not, or the other way').to.deep.equal([]);
    });
  }

  it('names no flag that neither etcd has, nor one cairn acts on', () => {
    expect(table.map(([name]) => name).filter((name) => !etcd34.has(name) && !etcd35.has(name))).to.deep.equal([]);
    expect(table.map(([name]) => name).filter((name) => ownFlagKind(name) !== undefined)).to.deep.equal([]);
  });

  it('holds defaults that parse as their kind', () => {
    for (const [name, flag] of table) if (flag.default !== undefined) expect(() => etcdFlagValue(name, flag.default ?? ''), name).not.to.throw();
  });
});

describe('etcd flags: every flag of the table parses', () => {
  for (const [name, flag] of table) {
    const value = otherValue(flag);
    const argv = flag.kind === 'bool' || flag.kind === 'ignored' ? [`--${name}=${value}`] : [`--${name}`, value];

    it(`--${name} (${flag.kind}): command line, ETCD_ variable and config file; one warning off its default`, () => {
      const warnings = [run(argv), run([], { [envName(name)]: value })];
      withConfigFile(`${name}: ${JSON.stringify(value)}\n`, (file) => warnings.push(run(['--config-file', file])));
      for (const found of warnings) {
        expect(found).to.have.length(1);
        expect(found[0]).to.match(new RegExp(`^--${name.replaceAll('.', '\\.')}(=\\S+)? is accepted for compatibility with etcd`));
      }
      if (flag.default !== undefined && flag.warnWhenGiven !== true) {
        const defaultArgv = flag.kind === 'bool' ? [`--${name}=${flag.default}`] : [`--${name}`, flag.default];
        expect(run(defaultArgv), 'at its default').to.deep.equal([]);
      }
    });

    const bad = badValue[flag.kind];
    if (bad === undefined) continue;
    it(`--${name} refuses "${bad}": usage and exit 2 on the command line, exit 1 from the environment, as etcd`, () => {
      const badArgv = flag.kind === 'bool' ? [`--${name}=${bad}`] : [`--${name}`, bad];
      expect(() => run(badArgv)).to.throw(FlagSyntaxError, `"${bad}" for ${flag.kind === 'bool' ? '' : 'flag '}-${name}: `);
      let thrown: unknown;
      try {
        run([], { [envName(name)]: bad });
      } catch (error) {
        thrown = error;
      }
      expect(thrown).to.be.instanceOf(ConfigError).and.not.to.be.instanceOf(FlagSyntaxError);
      expect((thrown as Error).message).to.include(`invalid value "${bad}" for ${envName(name)}: `);
    });
  }
});

describe('etcd flags: syntax, as Go\'s flag package and cairn\'s own flags', () => {
  it('a value flag needs its value; a bool flag takes none, or =true / =false', () => {
    expect(() => run(['--max-snapshots'])).to.throw(FlagSyntaxError, 'flag needs an argument: -max-snapshots');
    expect(run(['--enable-pprof', '--name', 'n'])).to.have.length(1);
    expect(run(['--enable-pprof=false'])).to.deep.equal([]);
    expect(() => run(['--enable-pprof=1'])).to.throw(FlagSyntaxError, 'invalid boolean value "1" for -enable-pprof: parse error');
  });

  it('takes integers as Go does (0x, 0o, 0 prefixes; ranges of uint, uint32, int) and Go durations', () => {
    expect(etcdFlagValue('max-wals', '0x10')).to.equal('16');
    expect(etcdFlagValue('max-wals', '010')).to.equal('8');
    expect(etcdFlagValue('max-concurrent-streams', '4294967295')).to.equal('4294967295');
    expect(etcdFlagValue('backend-batch-limit', '-9223372036854775808')).to.equal('-9223372036854775808');
    expect(() => etcdFlagValue('backend-batch-limit', '9223372036854775808')).to.throw('parse error');
    expect(etcdFlagValue('grpc-keepalive-interval', '2h')).to.equal(etcdFlagValue('grpc-keepalive-interval', '2h0m0s'));
    expect(run(['--grpc-keepalive-interval', '120m'])).to.deep.equal([]);
  });

  it('checks URL lists as etcd\'s types.NewURLs, and takes --cors "*"', () => {
    expect(() => run(['--cors', 'http://example.com'])).to.throw(FlagSyntaxError, 'URL address does not have the form "host:port": http://example.com');
    expect(() => run(['--cors', 'http://example.com:80/path'])).to.throw(FlagSyntaxError, 'URL must not contain a path');
    expect(run(['--cors', '*'])).to.deep.equal([]);
    expect(run(['--listen-client-http-urls', 'unix://localhost:2381'])).to.have.length(1);
  });

  it('takes a negative value after a space (Go takes the next argument) and leaves cairn\'s flags to cairn', () => {
    expect(run(['--backend-batch-limit', '-1', '--name', 'n1', '--max-txn-ops', '3'])).to.have.length(1);
    const parsed = parseCommandLine(['--name', 'n1', '--max-wals', '9'], {});
    expect(parsed.kind === 'run' && parsed.config.name).to.equal('n1');
  });

  it('warns once for a flag given twice (the last counts)', () => {
    expect(run(['--max-wals', '9', '--max-wals', '5'])).to.deep.equal([]);
    expect(run(['--max-wals', '5', '--max-wals', '9'])).to.have.length(1);
  });

  it('refuses the same flag on the command line and in the environment, as etcd', () => {
    expect(() => run(['--max-wals', '3'], { ETCD_MAX_WALS: '4' })).to.throw(ConfigError, 'conflicting environment variable "ETCD_MAX_WALS"');
  });
});

describe('etcd flags: what the warnings say', () => {
  it('says what cairn does where the flag asks for something cairn does anyway, or does not do', () => {
    expect(run(['--pre-vote'])).to.deep.equal(['--pre-vote is accepted for compatibility with etcd; cairn always pre-votes (Raft thesis §9.6)']);
    expect(run(['--pre-vote=false'])).to.deep.equal(['--pre-vote=false is accepted for compatibility with etcd; cairn pre-votes anyway (Raft thesis §9.6)']);
    expect(run(['--unsafe-no-fsync'])[0]).to.equal('--unsafe-no-fsync is accepted for compatibility with etcd; cairn fsyncs its WAL anyway: it never acknowledges a write it could lose');
    expect(run(['--enable-v2=true'])[0]).to.equal('--enable-v2 is accepted for compatibility with etcd; cairn has no v2 API or store: it serves the v3 API only');
    expect(run(['--strict-reconfig-check'])[0]).to.include('cairn does not refuse a member change');
    expect(run(['--proxy', 'on'])[0]).to.equal('--proxy=on is accepted for compatibility with etcd; cairn does not run as a proxy: it starts a member');
    expect(run(['--max-snapshots', '9'])).to.deep.equal(['--max-snapshots is accepted for compatibility with etcd and has no effect in cairn']);
  });

  it('are listed by --help', () => {
    expect(usage).to.include('Accepted for compatibility with etcd, no effect');
    for (const [name] of table) expect(usage).to.include(` --${name}`);
  });
});

describe('etcd flags: etcd.conf.yml', () => {
  it('a known key is its flag\'s one warning; an unknown key is still "not used by cairn"; YAML types and etcd\'s nanosecond durations', () => {
    const yaml = 'name: n1\nmax-wals: 9\nmax-snapshots: 5\nenable-v2: false\npre-vote: true\ngrpc-keepalive-timeout: 20000000000\n'
      + 'cors: ["http://a:1", "http://b:2"]\nwhatever: 1\nexperimental-corrupt-check-time: 1000000000\n';
    withConfigFile(yaml, (file) => {
      expect(run(['--config-file', file])).to.deep.equal([
        `config file ${file}: key "whatever" is not used by cairn`,
        '--max-wals is accepted for compatibility with etcd and has no effect in cairn',
        '--pre-vote is accepted for compatibility with etcd; cairn always pre-votes (Raft thesis §9.6)',
        '--cors is accepted for compatibility with etcd; cairn answers every origin (Access-Control-Allow-Origin: *)',
        '--experimental-corrupt-check-time is accepted for compatibility with etcd and has no effect in cairn',
      ]);
    });
  });

  it('refuses a value of the wrong kind (exit 1)', () => {
    withConfigFile('max-wals: abc\n', (file) => {
      expect(() => run(['--config-file', file])).to.throw(ConfigError, `invalid value "abc" for key "max-wals" of config file ${file}: parse error`);
    });
  });
});
