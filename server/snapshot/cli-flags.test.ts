import { expect } from 'chai';
import { SnapshotFlagError } from './errors.js';
import { booleanFlag, parseFlags, stringFlag, type FlagSpecs } from './cli-flags.js';

const specs: FlagSpecs = {
  'write-out': { type: 'string', short: 'w', default: 'simple' },
  'data-dir': { type: 'string', default: '' },
  'skip-hash-check': { type: 'boolean', default: false },
};

describe('snapshot command flags (pflag\'s forms)', () => {
  it('reads --flag value, --flag=value, -w value, -w=value and -wvalue, before or after the file', () => {
    for (const argv of [['f', '-w', 'json'], ['-w=json', 'f'], ['f', '-wjson'], ['--write-out', 'json', 'f'], ['f', '--write-out=json']]) {
      const parsed = parseFlags(argv, specs);
      expect(stringFlag(parsed, 'write-out'), argv.join(' ')).to.equal('json');
      expect(parsed.positionals).to.deep.equal(['f']);
    }
  });

  it('gives defaults, reads booleans bare or with a Go boolean, and ends the flags at --', () => {
    const parsed = parseFlags(['--skip-hash-check', '--', '-w'], specs);
    expect(booleanFlag(parsed, 'skip-hash-check')).to.equal(true);
    expect(stringFlag(parsed, 'data-dir')).to.equal('');
    expect(parsed.positionals).to.deep.equal(['-w']);
    expect(booleanFlag(parseFlags(['--skip-hash-check=F'], specs), 'skip-hash-check')).to.equal(false);
    expect(parseFlags(['-h'], specs).help).to.equal(true);
  });

  it('refuses an unknown flag, a missing value and a bad boolean in pflag\'s words', () => {
    const cases: Array<[string[], string]> = [
      [['--bogus'], 'unknown flag: --bogus'],
      [['-x'], "unknown shorthand flag: 'x' in -x"],
      [['--data-dir'], 'flag needs an argument: --data-dir'],
      [['--skip-hash-check=maybe'], 'invalid argument "maybe" for "--skip-hash-check" flag: strconv.ParseBool: parsing "maybe": invalid syntax'],
    ];
    for (const [argv, message] of cases) expect(() => parseFlags(argv, specs), argv.join(' ')).to.throw(SnapshotFlagError, message);
  });
});
