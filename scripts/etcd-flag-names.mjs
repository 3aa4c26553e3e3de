#!/usr/bin/env node
// Writes test/fixtures/etcd-flags-3.4.txt and -3.5.txt: every flag etcd's
// command line defines (etcdmain/config.go at v3.4.23 and v3.5.17), one
// "name kind" a line, read from a local git mirror of etcd. The test of
// server/etcd-flags.ts reads these files to check that cairn accepts every
// one of them with the value kind etcd gives it.
//
//   node scripts/etcd-flag-names.mjs [path of etcd's git repository]
//
// Default repository: /work/.mirror/etcd-io+etcd/repo. Without it, nothing is
// written (the committed fixtures stay as they are).
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';

const repository = process.argv[2] ?? '/work/.mirror/etcd-io+etcd/repo';
const sources = [
  { version: '3.4', ref: 'v3.4.23:etcdmain/config.go' },
  { version: '3.5', ref: 'v3.5.17:server/etcdmain/config.go' },
];

/** Go's flag definer → the kind of value it takes. */
const kindOfDefiner = {
  BoolVar: 'bool', StringVar: 'string', DurationVar: 'duration',
  UintVar: 'uint', Uint64Var: 'uint', IntVar: 'int', Int64Var: 'int',
};

/** The flag.Value types of fs.Var(value, name, usage) → kind. */
function kindOfValue(expression) {
  if (expression.includes('NewUniqueURLsWithExceptions')) return 'urls';
  if (expression.includes('NewUniqueStringsValue') || expression.includes('NewStringsValue')) return 'strings';
  if (expression.includes('NewUint32Value')) return 'uint32';
  if (expression.includes('IgnoredFlag')) return 'ignored';
  if (/cfg\.cf\.(clusterState|fallback|proxy|v2deprecation)/.test(expression)) return 'choice';
  throw new Error(`unknown flag value ${expression}`);
}

/** The top-level arguments of the call whose "(" is at `open` in `text`. */
function callArguments(text, open) {
  const args = [];
  let depth = 0;
  let current = '';
  for (let i = open; i < text.length; i++) {
    const c = text[i];
    if (c === '"' || c === '`') {
      const end = text.indexOf(c, i + 1);
      current += text.slice(i, end + 1);
      i = end;
      continue;
    }
    if (c === '(' || c === '{') depth++;
    if (c === ')' || c === '}') depth--;
    if (depth === 0) return [...args, current.trim()];
    if (depth === 1 && c === ',') {
      args.push(current.trim());
      current = '';
    } else if (!(depth === 1 && c === '(' && current === '')) {
      current += c;
    }
  }
  throw new Error('unbalanced call');
}

function flagsOf(source) {
  const flags = new Map();
  for (const match of source.matchAll(/\bfs\.(\w+)\(/g)) {
    const definer = match[1];
    if (definer === 'Usage' || definer === 'Parse') continue;
    const args = callArguments(source, match.index + match[0].length - 1);
    const name = /^"([^"]+)"$/.exec(args[1] ?? '')?.[1];
    if (name === undefined) continue; // the loop over `ignored` names no flag itself
    flags.set(name, definer === 'Var' ? kindOfValue(args[0]) : kindOfDefiner[definer]);
  }
  const ignored = /ignored = \[\]string\{([^}]*)\}/.exec(source)?.[1] ?? '';
  for (const [, name] of ignored.matchAll(/"([^"]+)"/g)) flags.set(name, 'ignored');
  for (const [name, kind] of flags) if (kind === undefined) throw new Error(`no kind for --${name}`);
  return flags;
}

if (!existsSync(repository)) {
  console.log(`no etcd repository at ${repository}; the fixtures are left as they are`);
  process.exit(0);
}
const out = new URL('../test/fixtures/', import.meta.url);
mkdirSync(out, { recursive: true });
for (const { version, ref } of sources) {
  const source = execFileSync('git', ['-C', repository, 'show', ref], { encoding: 'utf8' });
  const flags = [...flagsOf(source)].sort(([a], [b]) => a.localeCompare(b));
  const header = `# etcd ${version} flags: name and value kind, from ${ref} (scripts/etcd-flag-names.mjs; do not edit)\n`;
  writeFileSync(new URL(`etcd-flags-${version}.txt`, out), header + flags.map(([name, kind]) => `${name} ${kind}\n`).join(''));
  console.log(`etcd ${version}: ${flags.length} flags`);
}
