// Command-line flags of the snapshot commands, read as etcdctl's (cobra and
// pflag) reads them: `--flag value`, `--flag=value`, `-w value`, `-w=value`,
// `-wjson`, booleans bare or `=true|false`, `--` ends the flags, and flags
// may come before or after the file name. Errors carry pflag's words.
import { SnapshotFlagError } from './errors.js';

export interface FlagSpec {
  type: 'string' | 'boolean';
  short?: string;
  default: string | boolean;
}

export type FlagSpecs = Readonly<Record<string, FlagSpec>>;

export interface ParsedFlags {
  values: Map<string, string | boolean>;
  positionals: string[];
  help: boolean;
}

/** Parses `argv` against `specs` (plus -h/--help); throws SnapshotFlagError for a flag it cannot read. */
export function parseFlags(argv: readonly string[], specs: FlagSpecs): ParsedFlags {
  const values = new Map<string, string | boolean>(Object.entries(specs).map(([name, spec]) => [name, spec.default]));
  const positionals: string[] = [];
  let help = false;
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i] ?? '';
    if (arg === '--') {
      positionals.push(...argv.slice(i + 1));
      break;
    }
    if (!arg.startsWith('-') || arg === '-') {
      positionals.push(arg);
      continue;
    }
    const { name, inline } = splitFlag(arg, specs);
    if (name === 'help') {
      help = true;
      continue;
    }
    const spec = specs[name];
    if (spec === undefined) throw new SnapshotFlagError(`unknown flag: --${name}`);
    if (spec.type === 'boolean') {
      values.set(name, inline === undefined ? true : goBool(name, inline));
      continue;
    }
    if (inline !== undefined) {
      values.set(name, inline);
      continue;
    }
    const next = argv[i + 1];
    if (next === undefined) throw new SnapshotFlagError(`flag needs an argument: --${name}`);
    values.set(name, next);
    i++;
  }
  return { values, positionals, help };
}

/** `--name[=value]` or `-s[=]value` → the long name and the value written with it, if any. */
function splitFlag(arg: string, specs: FlagSpecs): { name: string; inline: string | undefined } {
  if (arg.startsWith('--')) {
    const equals = arg.indexOf('=');
    return equals === -1 ? { name: arg.slice(2), inline: undefined } : { name: arg.slice(2, equals), inline: arg.slice(equals + 1) };
  }
  const short = arg.slice(1, 2);
  if (short === 'h') return { name: 'help', inline: undefined };
  const name = Object.entries(specs).find(([, spec]) => spec.short === short)?.[0];
  if (name === undefined) throw new SnapshotFlagError(`unknown shorthand flag: '${short}' in ${arg}`);
  const rest = arg.slice(2);
  return { name, inline: rest === '' ? undefined : rest.startsWith('=') ? rest.slice(1) : rest };
}

/** Go's strconv.ParseBool, as pflag reads a boolean flag's value. */
function goBool(name: string, value: string): boolean {
  if (['1', 't', 'T', 'TRUE', 'true', 'True'].includes(value)) return true;
  if (['0', 'f', 'F', 'FALSE', 'false', 'False'].includes(value)) return false;
  throw new SnapshotFlagError(`invalid argument "${value}" for "--${name}" flag: strconv.ParseBool: parsing "${value}": invalid syntax`);
}

/** The string value of flag `name` (declared as a string flag). */
export function stringFlag(flags: ParsedFlags, name: string): string {
  const value = flags.values.get(name);
  if (typeof value !== 'string') throw new Error(`snapshot flags: --${name} is not a string flag`);
  return value;
}

/** The boolean value of flag `name` (declared as a boolean flag). */
export function booleanFlag(flags: ParsedFlags, name: string): boolean {
  const value = flags.values.get(name);
  if (typeof value !== 'boolean') throw new Error(`snapshot flags: --${name} is not a boolean flag`);
  return value;
}
